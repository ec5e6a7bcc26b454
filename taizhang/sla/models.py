from django.conf import settings
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


SWEPT_CLOCKS = [
    (Clock.SIGN_FOR.value, CLOCK_LABELS[Clock.SIGN_FOR]),
    (Clock.PROGRESS_REPORT.value, CLOCK_LABELS[Clock.PROGRESS_REPORT]),
    (Clock.COMPLETION.value, CLOCK_LABELS[Clock.COMPLETION]),
]
MANUAL = "manual"
# The supervising side's own deadlines get a reminder and an overdue flag, never levels 2 and 3.
SUPERVISING_CLOCKS = [
    (Clock.FOLLOWUP.value, CLOCK_LABELS[Clock.FOLLOWUP]),
    (Clock.RECHECK.value, CLOCK_LABELS[Clock.RECHECK]),
]
ESCALATION_CLOCKS = [*SWEPT_CLOCKS, *SUPERVISING_CLOCKS, (MANUAL, _("Escalated by hand"))]


class EscalationPolicy(models.Model):
    """The ladder's thresholds for one clock, in working days. A clock without a row uses the defaults of
    `taizhang.sla.ladder.DEFAULT_POLICY` (published practice: remind one working day ahead, tell the
    parent leadership after 3 more working days, issue a 督办单 after 5 more, reply within 5)."""

    clock = models.CharField(_("clock"), max_length=20, choices=SWEPT_CLOCKS, unique=True)
    remind_workdays_before = models.PositiveSmallIntegerField(
        _("reminder, working days before the deadline"), default=1,
        help_text=_("0 reminds on the morning of the day the deadline falls on."))
    level2_after_workdays = models.PositiveSmallIntegerField(
        _("parent leadership told after (working days overdue)"), default=3)
    level3_after_workdays = models.PositiveSmallIntegerField(
        _("supervision order after (further working days)"), default=5)
    response_workdays = models.PositiveSmallIntegerField(
        _("parent leadership responds within (working days)"), default=3)
    order_reply_workdays = models.PositiveSmallIntegerField(
        _("supervision order reply within (working days)"), default=5)
    basis = models.CharField(_("basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return str(self.get_clock_display())


class Escalation(models.Model):
    """One step of the ladder for one clock run of a case: 0 reminder, 1 overdue (unit leader told),
    2 parent leadership told (must respond), 3 督办单. `due_at` is the deadline of that run. The sweeper
    writes a row only after claiming the step on the case row (`Case.<clock>_step`), so once per run."""

    class Level(models.IntegerChoices):
        REMINDER = 0, _("Reminder")
        OVERDUE = 1, _("Overdue: the responsible side told")
        LEADERSHIP = 2, _("Parent leadership told")
        SUPERVISION_ORDER = 3, _("Supervision order issued")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations",
                             verbose_name=_("case"))
    clock = models.CharField(_("clock"), max_length=20, choices=ESCALATION_CLOCKS)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    due_at = models.DateTimeField(_("deadline"), help_text=_("The deadline this step belongs to; for an "
                                                             "escalation by hand, when it was made."))
    target_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("organisation told"))
    created_at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("escalated by"))
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("responded by"))
    response = models.TextField(_("response"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [models.CheckConstraint(condition=models.Q(level__lte=3), name="escalation_level_0_3")]
        indexes = [
            models.Index(fields=["level", "created_at"], name="escalation_level_created"),
            models.Index(fields=["case", "clock", "due_at"], name="escalation_case_clock"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.clock} L{self.level}"


class SupervisionOrder(models.Model):
    """督办单: the formal order a supervisory body issues at level 3, numbered per body and year
    (e.g. CC督〔2026〕7号), with its own reply deadline."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="supervision_orders",
                             verbose_name=_("case"))
    escalation = models.OneToOneField(Escalation, on_delete=models.CASCADE, related_name="supervision_order")
    issuing_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("issued by"))
    addressed_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("addressed to"))
    issued_at = models.DateTimeField(_("issued at"))
    reply_due_at = models.DateTimeField(_("reply due"))
    overdue_at = models.DateTimeField(_("reply overdue since"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("replied by"))
    reply = models.TextField(_("reply"), blank=True)

    class Meta:
        ordering = ["issued_at", "pk"]
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        indexes = [models.Index(fields=["reply_due_at"], name="supervision_order_unanswered",
                                condition=models.Q(replied_at__isnull=True, overdue_at__isnull=True))]

    def __str__(self) -> str:
        return self.number
