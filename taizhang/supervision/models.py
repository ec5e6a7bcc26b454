"""监察建议 (recommendations with replies and evaluation), 通报 (bulletins) and 会商 / 联合督查 (meetings
with decisions that become follow-up tasks on cases). Only `services` writes these rows."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.core.models import StoredFile
from taizhang.sla.models import TimeLimit

USER = settings.AUTH_USER_MODEL


class RecommendationKind(models.TextChoices):
    DISCIPLINE = "discipline", _("Discipline inspection recommendation")
    SUPERVISION = "supervision", _("Supervision recommendation")
    COMBINED = "combined", _("Discipline inspection and supervision recommendation")


class MeetingKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation meeting")
    JOINT_INSPECTION = "joint_inspection", _("Joint inspection")


class Recommendation(models.Model):
    """监察建议: addressed to an organisation, issued by a supervisory body, answered in writing by a
    deadline and evaluated by the issuing side. Overdue replies climb a ladder (sweeper)."""

    Kind = RecommendationKind

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued, awaiting reply")
        REPLIED = "replied", _("Replied")
        EVALUATED = "evaluated", _("Evaluated")

    class Outcome(models.TextChoices):
        ADOPTED = "adopted", _("Adopted")
        PARTLY = "partly", _("Partly adopted")
        NOT_ADOPTED = "not_adopted", _("Not adopted")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SUPERVISION)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    number = models.CharField(_("document number"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=200)
    issuing_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("issued by"))
    addressed_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("addressed to"))
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="recommendations",
                                   verbose_name=_("linked cases"))
    inspection_round = models.ForeignKey("orgs.InspectionRound", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("inspection round"))
    problems = models.TextField(_("problems found"))
    causes = models.TextField(_("causes"), blank=True)
    recommendations = models.TextField(_("recommendations"))
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reply_due_at = models.DateTimeField(_("reply due"), null=True, blank=True)
    # The sweeper's ladder: highest step applied (0 reminder … 3 supervisory body told), the flag and level.
    reply_step = models.PositiveSmallIntegerField(null=True, blank=True)
    overdue_at = models.DateTimeField(_("reply overdue since"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    reply = models.TextField(_("reply and measures taken"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("evaluation"), max_length=12, choices=Outcome.choices, blank=True)
    evaluation = models.TextField(_("evaluation opinion"), blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    evaluated_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("supervision recommendation")
        verbose_name_plural = _("supervision recommendations")
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~models.Q(number=""),
                                    name="recommendation_number_unique"),
            models.CheckConstraint(condition=models.Q(escalation_level__lte=3), name="recommendation_level_0_3"),
        ]
        indexes = [models.Index(fields=["reply_due_at"], name="recommendation_awaiting_reply",
                                condition=models.Q(state="issued"))]

    def __str__(self) -> str:
        return self.number or self.title


class ReplyTimeLimit(models.Model):
    """How long the addressed unit has to answer a recommendation in writing, per kind (blank: any kind).
    The seeded default is 30 calendar days from issue (a written reply on the rectification within a
    month of receiving the 监察建议书); administrators may change it or add a row per kind."""

    kind = models.CharField(_("kind"), max_length=20, blank=True, unique=True,
                            choices=[("", _("Any kind")), *Recommendation.Kind.choices])
    amount = models.PositiveSmallIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=10, choices=TimeLimit.Unit.choices, default=TimeLimit.Unit.DAYS)
    basis = models.CharField(_("basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("recommendation reply time limit")
        verbose_name_plural = _("recommendation reply time limits")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.get_unit_display()}"


def recommendation_evidence_path(instance: "RecommendationEvidence", filename: str) -> str:
    return f"recommendations/{instance.recommendation_id}/{filename}"


class RecommendationEvidence(StoredFile):
    """佐证材料 of a unit's reply, content-sniffed at upload (core.files)."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to=recommendation_evidence_path, max_length=200)

    class Meta(StoredFile.Meta):
        verbose_name = _("reply evidence file")
        verbose_name_plural = _("reply evidence files")


class Bulletin(models.Model):
    """通报: generated for a period and a set of units, edited as text sections, issued as a numbered
    document to a distribution list; a redacted public version can be published."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    number = models.CharField(_("document number"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=200)
    issuing_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("issued by"))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    units = models.ManyToManyField("orgs.Organisation", related_name="+", verbose_name=_("units covered"))
    distribution = models.ManyToManyField("orgs.Organisation", related_name="+", blank=True,
                                          verbose_name=_("distribution list"))
    # [{"key", "heading", "text"}]: generated, then edited before issue.
    sections = models.JSONField(_("sections"), default=list)
    # The ranking table as generated: [{"org_id", "org", "score", "rank", "figures": {...}}].
    ranking = models.JSONField(_("ranking"), default=list)
    case_numbers = models.JSONField(_("cases cited"), default=list)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    public_sections = models.JSONField(_("public version"), default=list, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        constraints = [models.UniqueConstraint(fields=["number"], condition=~models.Q(number=""),
                                               name="bulletin_number_unique")]

    def __str__(self) -> str:
        return self.number or self.title


class Meeting(models.Model):
    """会商 (consultation meeting) or 联合督查 (joint inspection): who took part, what was discussed,
    and the decisions, each a follow-up task for an organisation."""

    Kind = MeetingKind

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CONSULTATION)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    location = models.CharField(_("place"), max_length=120, blank=True)
    convening_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("convened by"))
    participant_orgs = models.ManyToManyField("orgs.Organisation", related_name="+", blank=True,
                                              verbose_name=_("participating organisations"))
    participants: "models.ManyToManyField[Any, Any]" = models.ManyToManyField(
        USER, related_name="+", blank=True, verbose_name=_("participants"))
    topics = models.TextField(_("topics"))
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return self.title


class MeetingDecision(models.Model):
    """One decision of a meeting: a follow-up task for an organisation, due by a date, linked to cases
    (whose timelines show it)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"))
    assignee_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("to be carried out by"))
    due_on = models.DateField(_("due"))
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="meeting_decisions",
                                   verbose_name=_("linked cases"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    done_note = models.TextField(_("how it was carried out"), blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        indexes = [models.Index(fields=["due_on"], name="meeting_decision_open",
                                condition=models.Q(done_at__isnull=True))]

    def __str__(self) -> str:
        return self.text[:60]
