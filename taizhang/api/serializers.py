"""Shapes of the API: what goes out, and the shape checks on what comes in (services do the rest)."""

import copy
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taizhang.cases import policies
from taizhang.cases.models import Assignment, Case, Evidence, FollowUp, ProgressReport
from taizhang.cases.workflow import ACTIONS, CLOCK_LABELS, State, Transition, input_label
from taizhang.orgs.models import Enterprise, Organisation
from taizhang.sla.models import TimeLimit

CLOCK_FIELDS = ("sign_for_due_at", "decline_due_at", "next_report_due_at", "completion_due_at",
                "ledger_review_due_at", "followup_due_at", "recheck_due_at")


class RefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


def ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj.name)}


class CaseSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=[s.value for s in State])
    state_label = serializers.SerializerMethodField()
    title = serializers.CharField()
    description = serializers.CharField()
    source = serializers.ChoiceField(choices=Case.Source.values)  # type: ignore[assignment]
    category = serializers.SerializerMethodField()
    mode = serializers.CharField()
    severity = serializers.CharField()
    found_on = serializers.DateField()
    supervising_org = serializers.SerializerMethodField()
    responsible_org = serializers.SerializerMethodField()
    enterprises = serializers.SerializerMethodField()
    inspection_round = serializers.SerializerMethodField()
    responsible_leader = serializers.CharField()
    responsible_person = serializers.CharField()
    goal = serializers.CharField()
    deadline_on = serializers.DateField(allow_null=True)
    progress_summary = serializers.CharField()
    institution_building = serializers.CharField()
    closure_opinion = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    reopen_count = serializers.IntegerField()
    rework_count = serializers.IntegerField()
    merged_into = serializers.SerializerMethodField()
    remarks = serializers.CharField()
    reporter_name = serializers.SerializerMethodField()
    reporter_contact = serializers.SerializerMethodField()
    internal_note = serializers.SerializerMethodField()
    sign_for_due_at = serializers.DateTimeField(allow_null=True)
    decline_due_at = serializers.DateTimeField(allow_null=True)
    next_report_due_at = serializers.DateTimeField(allow_null=True)
    completion_due_at = serializers.DateTimeField(allow_null=True)
    ledger_review_due_at = serializers.DateTimeField(allow_null=True)
    followup_due_at = serializers.DateTimeField(allow_null=True)
    recheck_due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: Case) -> dict[str, Any]:
        """Each value through the declared field of its name, or the `get_<name>` method of a method field.
        These flat output fields keep no state, so nothing is copied and bound per case (DRF's way, which
        costs more than writing the case out)."""
        data: dict[str, Any] = {}
        for name, field in self._declared_fields.items():
            if isinstance(field, serializers.SerializerMethodField):
                data[name] = getattr(self, f"get_{name}")(instance)
            else:
                value = getattr(instance, name)
                data[name] = None if value is None else field.to_representation(value)
        return data

    def _user(self) -> Any:
        return self.context["user"]

    def get_state_label(self, case: Case) -> str:
        return State(case.state).label

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_category(self, case: Case) -> dict[str, Any] | None:
        return None if case.category is None else {"id": case.category.pk, "name": case.category.full_name}

    @extend_schema_field(RefSerializer())
    def get_supervising_org(self, case: Case) -> dict[str, Any] | None:
        return ref(case.supervising_org)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_responsible_org(self, case: Case) -> dict[str, Any] | None:
        return ref(case.responsible_org)

    @extend_schema_field(RefSerializer(many=True))
    def get_enterprises(self, case: Case) -> list[dict[str, Any]]:
        return [{"id": e.pk, "name": e.name} for e in case.enterprises.all()]

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_inspection_round(self, case: Case) -> dict[str, Any] | None:
        return ref(case.inspection_round)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_merged_into(self, case: Case) -> str | None:
        return case.merged_into.number if case.merged_into is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter_name(self, case: Case) -> str | None:
        return case.reporter_name if policies.sees_reporter(self._user(), case) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter_contact(self, case: Case) -> str | None:
        return case.reporter_contact if policies.sees_reporter(self._user(), case) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_internal_note(self, case: Case) -> str | None:
        return case.internal_note if policies.sees_internal_notes(self._user()) else None


class CasePageSerializer(serializers.Serializer[Any]):
    results = CaseSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()


class CaseCreateSerializer(serializers.Serializer[Any]):
    """A new case from an intake channel (`source`)."""

    source = serializers.ChoiceField(choices=Case.Source.values)  # type: ignore[assignment]
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    found_on = serializers.DateField(required=False)
    supervising_org = serializers.IntegerField(required=False, min_value=1)
    category = serializers.IntegerField(required=False, min_value=1)
    enterprises = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                        max_length=50)
    inspection_round = serializers.IntegerField(required=False, min_value=1)
    reporter_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    reporter_contact = serializers.CharField(max_length=60, required=False, allow_blank=True)
    reporter_anonymous = serializers.BooleanField(required=False)
    remarks = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    internal_note = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """Shallow copies of the declared fields (DRF deep-copies them for every request, which costs more than
        the checks): checking a value changes no state of these fields but what binding sets on the copy."""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class PlanItemInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000)
    owner = serializers.CharField(max_length=60, required=False, allow_blank=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    done = serializers.BooleanField(required=False)


class ActionInputSerializer(serializers.Serializer[Any]):
    """Every input any workflow action takes, checked for shape. Which ones an action takes, and
    whether they make sense, the workflow service decides (see `GET .../actions/`)."""

    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    category = serializers.IntegerField(required=False, min_value=1)
    mode = serializers.ChoiceField(choices=Case.Mode.values, required=False)
    into = serializers.CharField(max_length=32, required=False)
    responsible_org = serializers.IntegerField(required=False, min_value=1)
    lead_org = serializers.IntegerField(required=False, min_value=1)
    co_orgs = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=50)
    deadline = serializers.DateField(required=False)
    responsible_leader = serializers.CharField(max_length=60, required=False, allow_blank=True)
    responsible_person = serializers.CharField(max_length=60, required=False, allow_blank=True)
    goal = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    items = PlanItemInputSerializer(many=True, required=False)
    text = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    evidence = serializers.ListField(child=serializers.FileField(), required=False, max_length=20)
    requested_deadline = serializers.DateField(required=False)
    granted = serializers.BooleanField(required=False)
    review_date = serializers.DateField(required=False)
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    institution_building = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    checklist = serializers.DictField(child=serializers.BooleanField(), required=False,
                                      help_text="{item: met?} for every item of GET .../acceptance-checklist/.")
    team = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=20,
                                 help_text="User ids of colleagues accepting with you (none from a handling unit).")
    opinion = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    solved = serializers.ChoiceField(choices=FollowUp.Solved.values, required=False)
    satisfaction = serializers.ChoiceField(choices=FollowUp.Satisfaction.values, required=False)
    channel = serializers.ChoiceField(choices=FollowUp.Channel.values, required=False)
    override_reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    held = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown input.")] for name in unknown})
        return attrs


class ActionInputDescriptionSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    required = serializers.BooleanField()  # type: ignore[assignment]


class AvailableActionSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=list(ACTIONS))
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    targets = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()

    def get_label(self, transition: Transition) -> str:
        return str(transition.label)

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_targets(self, transition: Transition) -> dict[str, str]:
        return {outcome or "default": target.value for outcome, target in transition.targets.items()}

    @extend_schema_field(ActionInputDescriptionSerializer(many=True))
    def get_inputs(self, transition: Transition) -> list[dict[str, Any]]:
        return [{"name": i.name, "label": input_label(i.name), "required": i.required} for i in transition.inputs]


class EvidenceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    purpose = serializers.CharField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    progress_report = serializers.IntegerField(source="progress_report_id", allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, evidence: Evidence) -> str:
        return f"/api/v1/cases/{evidence.case.number}/evidence/{evidence.pk}/download/"


class EvidenceUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    purpose = serializers.ChoiceField(choices=Evidence.Purpose.values, required=False)


class ProgressReportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    org = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    text = serializers.CharField()
    reported_at = serializers.DateTimeField()
    evidence = serializers.SerializerMethodField()

    @extend_schema_field(RefSerializer())
    def get_org(self, report: ProgressReport) -> dict[str, Any] | None:
        return ref(report.org)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, report: ProgressReport) -> str | None:
        return str(report.author) if policies.sees_internal_notes(self.context["user"]) else None

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, report: ProgressReport) -> list[dict[str, Any]]:
        return [dict(EvidenceSerializer(e).data) for e in report.evidence.all()]


class ProgressReportCreateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=20000)
    evidence = serializers.ListField(child=serializers.FileField(), required=False, max_length=20)


class AssignmentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    org = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=Assignment.Role.values)
    status = serializers.ChoiceField(choices=Assignment.Status.values)
    sign_for_due_at = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()

    @extend_schema_field(RefSerializer())
    def get_org(self, assignment: Assignment) -> dict[str, Any] | None:
        return ref(assignment.org)


class TimelineEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    sentence = serializers.CharField()
    details = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField())
    def get_details(self, entry: Any) -> dict[str, Any]:
        return dict(entry.details or {})


class EnterpriseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk", read_only=True)
    org = serializers.IntegerField(source="org_id", read_only=True)
    name = serializers.CharField(max_length=120)
    credit_code = serializers.CharField(max_length=40)
    industry = serializers.CharField(max_length=60, required=False, allow_blank=True)
    scale = serializers.ChoiceField(choices=Enterprise.Scale.values, read_only=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    parent_org = serializers.IntegerField(required=False, min_value=1, write_only=True)


class OrganisationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Organisation.Kind.values)
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    code = serializers.CharField()


class CategorySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    full_name = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]


class TimeLimitSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    clock = serializers.CharField()
    clock_label = serializers.SerializerMethodField()
    category = serializers.IntegerField(source="category_id", allow_null=True)
    mode = serializers.CharField()
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    basis = serializers.CharField()

    def get_clock_label(self, limit: TimeLimit) -> str:
        from taizhang.cases.workflow import Clock

        return str(CLOCK_LABELS[Clock(limit.clock)])


class ApiTokenSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(max_length=100)
    key_prefix = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ApiTokenCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    expires_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The raw token. It is shown this once only.")


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    fields = serializers.DictField(required=False)  # type: ignore[assignment]
    state = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False)
    request_id = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer[Any]):
    error = ErrorDetailSerializer()


__all__ = ["OpenApiTypes"]
