from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.cases.workflow import CLOCK_LABELS, Clock

MODE_CHOICES = [
    ("immediate", _("Rectify at once")),
    ("deadline", _("Rectify within a deadline")),
    ("long_term", _("Long-term rectification")),
]


class TimeLimit(models.Model):
    """How long a clock runs, per category × mode. Blank category or mode means "any";
    the most specific row wins (category beats its ancestors, which beat the blank row)."""

    class Unit(models.TextChoices):
        WORKDAYS = "workdays", _("working days")
        DAYS = "days", _("calendar days")

    clock = models.CharField(_("clock"), max_length=20, choices=[(c.value, CLOCK_LABELS[c]) for c in Clock])
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="time_limits", verbose_name=_("category"))
    mode = models.CharField(_("rectification mode"), max_length=12, choices=MODE_CHOICES, blank=True)
    amount = models.PositiveSmallIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.WORKDAYS)
    basis = models.CharField(_("basis"), max_length=200, blank=True,
                             help_text=_("Where this limit comes from, e.g. a published regulation."))

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        constraints = [
            models.UniqueConstraint(fields=["clock", "category", "mode"], name="time_limit_unique",
                                    condition=models.Q(category__isnull=False)),
            models.UniqueConstraint(fields=["clock", "mode"], name="time_limit_unique_any_category",
                                    condition=models.Q(category__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.amount} {self.get_unit_display()}"
