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


class KpiCell(models.Model):
    """One cell of the measures' roll-up: how many cases have their first fact of a kind (`key`, e.g.
    `timely_sign_for__num`) in a period on `day`, with their previous fact of that kind on `since`
    (`NO_EARLIER` when there is none). A case counts in a period [a, b] when its cell has a ≤ day ≤ b and
    since < a, so every case counts once however many facts it has (see `kpis.rollup`).

    Each fact is counted under every organisation above the unit it is attributed to (`org_id`; 0 for
    everywhere) and, with `own`, under that unit alone; `span` "d" cells hold a day, "m" cells a month
    (`day` its first day). Cells of `by_category`/`by_source` keys also carry those."""

    class Span(models.TextChoices):
        DAY = "d", _("day")
        MONTH = "m", _("month")

    span = models.CharField(max_length=1, choices=Span.choices)
    day = models.DateField()
    key = models.CharField(max_length=40)
    org_id = models.BigIntegerField()
    own = models.BooleanField()
    since = models.DateField()
    supervising_org_id = models.BigIntegerField()
    handed_over = models.BooleanField()
    category_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    n = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["span", "day", "key", "org_id", "own", "since", "supervising_org_id", "handed_over",
                    "category_id", "source"], name="kpi_cell_identity")]
        indexes = [models.Index(fields=["n"], condition=models.Q(n=0), name="kpi_cell_emptied")]

    def __str__(self) -> str:
        return f"{self.key} {self.span}{self.day} @{self.org_id}: {self.n}"


class KpiCaseFacts(models.Model):
    """What one case contributes to the roll-up, as last folded in, so that folding it again can take
    that away first; `valid_until` is when time alone changes it (a handover or a deadline falls due)."""

    case_id = models.BigIntegerField(primary_key=True)
    facts = models.JSONField()
    valid_until = models.DateTimeField(null=True, db_index=True)

    def __str__(self) -> str:
        return f"case {self.case_id}"


class KpiPending(models.Model):
    """A case whose facts changed since it was last folded in; written by database triggers."""

    case_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"case {self.case_id}"
