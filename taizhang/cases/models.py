from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.cases.workflow import STATE_LABELS, State
from taizhang.core import clock
from taizhang.core.models import StoredFile
from taizhang.core.tree import TreeNode
from taizhang.orgs.models import Enterprise, InspectionRound, Organisation

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]
USER = settings.AUTH_USER_MODEL


class Category(TreeNode):
    """问题类别: a configurable tree, e.g. 营商环境 › 要素保障 › 供电."""

    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent category"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))


class Case(models.Model):
    """问题 / 诉求 / 线索: one problem, from intake to closure. Only services write it."""

    class Source(models.TextChoices):
        INSPECTION = "inspection", _("Inspection finding")
        ENTERPRISE = "enterprise", _("Enterprise demand")
        LIAISON = "liaison", _("Liaison officer visit")
        HOTLINE = "hotline", _("12345 hotline")
        ONLINE_REPORT = "online_report", _("Online reporting zone")
        SUPERVISION = "supervision", _("Supervision")
        AUDIT = "audit", _("Audit")
        OTHER = "other", _("Other")

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("Rectify at once")
        DEADLINE = "deadline", _("Rectify within a deadline")
        LONG_TERM = "long_term", _("Long-term rectification")

    class Severity(models.TextChoices):
        GENERAL = "general", _("General")
        SERIOUS = "serious", _("Serious")
        MAJOR = "major", _("Major")

    number = models.CharField(_("case number"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description of the problem"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, db_index=True)
    inspection_round = models.ForeignKey(InspectionRound, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="cases", verbose_name=_("inspection round"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                                 verbose_name=_("category"))
    mode = models.CharField(_("rectification mode"), max_length=12, choices=Mode.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    enterprises = models.ManyToManyField(Enterprise, related_name="cases", blank=True,
                                         verbose_name=_("enterprises concerned"))
    reporter_name = models.CharField(_("reporter"), max_length=60, blank=True)
    reporter_contact = models.CharField(_("reporter contact"), max_length=60, blank=True)
    reporter_anonymous = models.BooleanField(_("reporter asked for anonymity"), default=False)
    found_on = models.DateField(_("found on"))

    supervising_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supervised_cases",
                                        verbose_name=_("supervising organisation"))
    responsible_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="responsible_cases",
                                        verbose_name=_("organisation bearing main responsibility"))
    responsible_leader = models.CharField(_("responsible leader"), max_length=60, blank=True)
    responsible_person = models.CharField(_("responsible person"), max_length=60, blank=True)
    goal = models.TextField(_("rectification goal"), blank=True)
    deadline_on = models.DateField(_("rectification deadline"), null=True, blank=True)
    institution_building = models.TextField(_("rules and institutions built"), blank=True)
    progress_summary = models.TextField(_("latest progress"), blank=True)
    closure_opinion = models.TextField(_("closure opinion"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("closed by"))
    followup_waived_reason = models.TextField(_("reason follow-up was waived"), blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    internal_note = models.TextField(_("internal note"), blank=True,
                                     help_text=_("Never shown to the enterprise."))

    state = models.CharField(_("state"), max_length=20, choices=STATE_CHOICES, default=State.REGISTERED)
    version = models.PositiveIntegerField(default=1)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("times returned for rework"), default=0)
    # Set when the case is reopened (二次督办, relapse): only evidence with a higher id supports the next
    # submission for acceptance.
    evidence_counted_after = models.PositiveBigIntegerField(_("evidence counted after id"), null=True, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_cases", verbose_name=_("merged into"))

    # Clocks: indexed instants computed in working days at each transition.
    sign_for_due_at = models.DateTimeField(_("sign-for deadline"), null=True, blank=True, db_index=True)
    decline_due_at = models.DateTimeField(_("return window ends"), null=True, blank=True)
    next_report_due_at = models.DateTimeField(_("next progress report due"), null=True, blank=True, db_index=True)
    completion_due_at = models.DateTimeField(_("completion deadline"), null=True, blank=True, db_index=True)
    ledger_review_due_at = models.DateTimeField(_("ledger review date"), null=True, blank=True, db_index=True)
    followup_due_at = models.DateTimeField(_("follow-up deadline"), null=True, blank=True, db_index=True)
    recheck_due_at = models.DateTimeField(_("re-check due"), null=True, blank=True, db_index=True)
    # Set while an extension request waits: the completion clock neither reminds nor escalates.
    clock_paused_at = models.DateTimeField(_("completion clock paused since"), null=True, blank=True)
    # The highest escalation-ladder step (0 reminder … 3 supervision order) the sweeper applied to the current
    # run of each clock; cleared when the clock gets a new deadline. The sweeper claims a step with a
    # conditional UPDATE of these columns, so no step is applied twice.
    sign_for_step = models.PositiveSmallIntegerField(_("sign-for ladder step"), null=True, blank=True)
    progress_step = models.PositiveSmallIntegerField(_("progress-report ladder step"), null=True, blank=True)
    completion_step = models.PositiveSmallIntegerField(_("completion ladder step"), null=True, blank=True)
    # The supervising side's own clocks (follow-up, re-check): reminder (0) and overdue flag (1) only, claimed
    # the same way; a step counts only for the deadline it was applied to (`*_step_due_at`).
    followup_step = models.PositiveSmallIntegerField(_("follow-up reminder step"), null=True, blank=True)
    followup_step_due_at = models.DateTimeField(_("follow-up reminder step applies to"), null=True, blank=True)
    recheck_step = models.PositiveSmallIntegerField(_("re-check reminder step"), null=True, blank=True)
    recheck_step_due_at = models.DateTimeField(_("re-check reminder step applies to"), null=True, blank=True)

    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("registered by"))
    created_at = models.DateTimeField(_("registered at"), default=clock.now)
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["state", "-created_at"], name="case_state_created"),
            models.Index(fields=["supervising_org", "state"], name="case_supervising_state"),
            models.Index(fields=["responsible_org", "state"], name="case_responsible_state"),
            models.Index(fields=["-created_at", "-id"], name="case_created_keyset"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(escalation_level__lte=3), name="case_escalation_0_3"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_immediate(self) -> bool:
        return self.mode == self.Mode.IMMEDIATE

    @property
    def lead_assignment(self) -> "Assignment | None":
        return self.assignments.filter(role=Assignment.Role.LEAD).exclude(
            status=Assignment.Status.WITHDRAWN).first()


class Assignment(models.Model):
    """One organisation's part of the work: the lead unit or a co-handling unit."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead unit")
        CO = "co", _("Co-handling unit")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        PENDING = "pending", _("Awaiting sign-for")
        SIGNED = "signed", _("Signed for")
        DONE = "done", _("Part done")
        DECLINED = "declined", _("Returned")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assignments",
                            verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=4, choices=Role.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    sign_for_due_at = models.DateTimeField(_("sign-for deadline"), null=True, blank=True, db_index=True)
    # A co-handling unit's own sign-for ladder (0 reminder, 1 overdue), claimed by the sweeper with a
    # conditional UPDATE; the step counts only for the deadline it was applied to (`sign_for_step_due_at`).
    sign_for_step = models.PositiveSmallIntegerField(_("sign-for ladder step"), null=True, blank=True)
    sign_for_step_due_at = models.DateTimeField(_("sign-for ladder step applies to"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    signed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["case", "org"], name="assignment_unique_org")]
        indexes = [models.Index(fields=["org", "status"])]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.org} · {self.get_role_display()}"


class PlanItem(models.Model):
    """整改措施: one measure of the rectification plan."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plan_items")
    text = models.TextField(_("measure"))
    owner = models.CharField(_("owner"), max_length=60, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("rectification measure")
        verbose_name_plural = _("rectification measures")

    def __str__(self) -> str:
        return self.text[:40]


class ProgressReport(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="progress_reports")
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("author"))
    text = models.TextField(_("progress"))
    reported_at = models.DateTimeField(_("reported at"))

    class Meta:
        ordering = ["reported_at", "pk"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")

    def __str__(self) -> str:
        return f"{self.case.number} {self.reported_at:%Y-%m-%d}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    return f"evidence/{instance.case_id}/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(StoredFile):
    """佐证材料. Stored under MEDIA_ROOT (outside the web root), content-sniffed at upload."""

    class Purpose(models.TextChoices):
        PROGRESS = "progress", _("Progress")
        ACCEPTANCE = "acceptance", _("Acceptance")
        FOLLOWUP = "followup", _("Follow-up")
        RECHECK = "recheck", _("Re-check")
        OTHER = "other", _("Other")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    progress_report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, null=True, blank=True,
                                        related_name="evidence")
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.PROGRESS)
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)

    class Meta(StoredFile.Meta):
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extension_requests")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    requested_deadline = models.DateField(_("requested deadline"))
    previous_deadline = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                               name="one_pending_extension_per_case")]

    def __str__(self) -> str:
        return f"{self.case.number} → {self.requested_deadline}"


class AcceptanceChecklistItem(models.Model):
    """One item of the acceptance checklist (验收清单). Items without a category are the default set; a
    category with items of its own replaces the set for itself and its subcategories (the nearest wins)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="checklist_items", verbose_name=_("category"),
                                 help_text=_("Leave empty for the default set used by every category without "
                                             "items of its own."))
    label = models.CharField(_("item"), max_length=60)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category_id", "position", "pk"]
        verbose_name = _("acceptance checklist item")
        verbose_name_plural = _("acceptance checklist items")
        constraints = [models.UniqueConstraint(fields=["category", "label"], name="checklist_item_unique_label")]

    def __str__(self) -> str:
        return self.label


class Acceptance(models.Model):
    """验收: a verdict against a checklist by someone outside the handling units. One row per verdict."""

    class Verdict(models.TextChoices):
        PASSED = "passed", _("Passed")
        REWORK = "rework", _("Returned for rework")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="acceptances")
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    checklist = models.JSONField(_("checklist"), default=dict)
    opinion = models.TextField(_("opinion"))
    accepted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    team: "models.ManyToManyField[Any, Any]" = models.ManyToManyField(
        USER, related_name="acceptance_teams", blank=True, verbose_name=_("acceptance team"))
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "pk"]
        verbose_name = _("acceptance")
        verbose_name_plural = _("acceptances")

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_verdict_display()}"


class FollowUp(models.Model):
    """回访: the enterprise is asked whether the problem is solved and how satisfied it is."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        ONLINE = "online", _("Online")
        PORTAL = "portal", _("Answered by the enterprise")

    class Solved(models.TextChoices):
        SOLVED = "solved", _("Solved")
        PARTLY = "partly", _("Partly solved")
        NOT_SOLVED = "not_solved", _("Not solved")
        UNREACHABLE = "unreachable", _("Unreachable")

    class Satisfaction(models.IntegerChoices):
        VERY_SATISFIED = 5, _("Very satisfied")
        SATISFIED = 4, _("Satisfied")
        BASICALLY_SATISFIED = 3, _("Basically satisfied")
        DISSATISFIED = 2, _("Dissatisfied")
        VERY_DISSATISFIED = 1, _("Very dissatisfied")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followups")
    # The passed acceptance this attempt follows up: a follow-up round runs from one acceptance to the next.
    acceptance = models.ForeignKey(Acceptance, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="followups", verbose_name=_("acceptance followed up"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    solved = models.CharField(_("solved?"), max_length=12, choices=Solved.choices)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), choices=Satisfaction.choices, null=True,
                                                    blank=True)
    note = models.TextField(_("note"), blank=True)
    override_reason = models.TextField(_("reason for closing despite the answer"), blank=True)
    # Empty when the enterprise answered through a signed link without signing in.
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    recorded_at = models.DateTimeField()
    # The nonce of the signed link this answer came through: a link is used once.
    link_nonce = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [models.UniqueConstraint(fields=["link_nonce"], condition=~models.Q(link_nonce=""),
                                               name="followup_link_used_once")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_solved_display()}"


class Recheck(models.Model):
    """回头看: a re-check of a closed case. A relapse reopens the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rechecks")
    held = models.BooleanField(_("fix held"))
    note = models.TextField(_("note"), blank=True)
    checked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["checked_at", "pk"]
        verbose_name = _("re-check")
        verbose_name_plural = _("re-checks")

    def __str__(self) -> str:
        return f"{self.case.number} {'held' if self.held else 'relapsed'}"
