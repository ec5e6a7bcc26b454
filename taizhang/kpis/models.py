from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class KpiSettings(models.Model):
    """How the unit score is weighed and what counts as satisfied: one row, edited in the admin.

    The score is the weighted mean of the response (timely sign-for), resolution and satisfaction rates,
    0–100; a rate without anything to measure in the period drops out and the other weights carry it."""

    response_weight = models.DecimalField(_("weight of response (timely sign-for rate)"), max_digits=5,
                                          decimal_places=2, default=Decimal(30),
                                          validators=[MinValueValidator(Decimal(0))])
    resolution_weight = models.DecimalField(_("weight of resolution rate"), max_digits=5, decimal_places=2,
                                            default=Decimal(35), validators=[MinValueValidator(Decimal(0))])
    satisfaction_weight = models.DecimalField(_("weight of satisfaction rate"), max_digits=5, decimal_places=2,
                                              default=Decimal(35), validators=[MinValueValidator(Decimal(0))])
    basically_satisfied_counts = models.BooleanField(
        _("“basically satisfied” counts as satisfied"), default=False,
        help_text=_("Off: only “very satisfied” and “satisfied” count towards the satisfaction rate."))

    class Meta:
        verbose_name = _("measure settings")
        verbose_name_plural = _("measure settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="kpi_settings_single_row")]

    def __str__(self) -> str:
        return str(_("Measure settings"))

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def current(cls) -> "KpiSettings":
        """The settings row (the defaults while nobody has saved one)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
