"""回头看 (look-back): campaigns that re-check closed cases months after closure.

A campaign names its selection (closure period, category and organisation subtrees, inspection round,
source, an optional random sample with a stored seed), its checkers and deadline. Launching freezes the
selection as items; each item is settled by one re-check (`cases.Recheck`) recorded through the workflow
action `record_recheck`. Automatic campaigns (one per supervising organisation and month) collect the
cases whose re-check falls due (`Case.recheck_due_at`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.cases.models import Case, Category, Recheck
from taizhang.core import clock
from taizhang.orgs.models import InspectionRound, Organisation

USER = settings.AUTH_USER_MODEL


class RecheckCampaign(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", _("Planned campaign")
        AUTOMATIC = "automatic", _("Due re-checks (automatic)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LAUNCHED = "launched", _("Launched")
        COMPLETED = "completed", _("Completed")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="recheck_campaigns",
                            verbose_name=_("organised by"))
    month = models.DateField(_("month"), null=True, blank=True,
                             help_text=_("Automatic campaigns: the first day of the month they collect."))
    closed_from = models.DateField(_("closed from"), null=True, blank=True)
    closed_to = models.DateField(_("closed until"), null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("category (with subcategories)"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("responsible or handling unit (with subunits)"))
    inspection_round = models.ForeignKey(InspectionRound, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("inspection round"))
    source = models.CharField(_("source"), max_length=20, choices=Case.Source.choices, blank=True)
    sample_size = models.PositiveIntegerField(_("random sample: number of cases"), null=True, blank=True)
    sample_percent = models.PositiveSmallIntegerField(_("random sample: percentage"), null=True, blank=True)
    seed = models.PositiveBigIntegerField(_("sampling seed"), default=0,
                                          help_text=_("The same filters and seed select the same cases."))
    checkers = models.ManyToManyField(User, related_name="recheck_campaigns", blank=True,
                                      verbose_name=_("checkers"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("re-check campaign")
        verbose_name_plural = _("re-check campaigns")
        constraints = [
            models.UniqueConstraint(fields=["org", "month"], condition=models.Q(kind="automatic"),
                                    name="recheck_campaign_one_automatic_per_month"),
            models.CheckConstraint(condition=models.Q(sample_percent__isnull=True)
                                   | models.Q(sample_percent__gte=1, sample_percent__lte=100),
                                   name="recheck_campaign_percent_1_100"),
        ]
        indexes = [models.Index(fields=["org", "status"], name="recheck_campaign_org_status")]

    def __str__(self) -> str:
        return self.name


class CampaignItem(models.Model):
    """One case of a launched campaign, settled by one re-check."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        HELD = "held", _("Held")
        RELAPSED = "relapsed", _("Relapsed")

    campaign = models.ForeignKey(RecheckCampaign, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="campaign_items",
                             verbose_name=_("case"))
    checker = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("checker"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    queued_at = models.DateTimeField(_("queued at"), default=clock.now)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    recheck = models.OneToOneField(Recheck, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="campaign_item", verbose_name=_("re-check"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("campaign item")
        verbose_name_plural = _("campaign items")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "case"], name="campaign_item_unique_case"),
            # A case waits in one campaign at a time: the automatic queue can never add it twice.
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                    name="campaign_item_one_pending_per_case"),
        ]
        indexes = [models.Index(fields=["checker", "status"], name="campaign_item_checker_status"),
                   models.Index(fields=["campaign", "status"], name="campaign_item_campaign_status")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.case.number}"
