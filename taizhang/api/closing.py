"""Closing the loop in the API: a case's acceptance checklist, its acceptance and follow-up record, and a
signed follow-up link for the enterprise. The actions themselves (accept, return_for_rework,
record_followup, waive_followup, close, put_on_ledger, resume) go through `POST .../actions/{action}`."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api import selectors as api_selectors
from taizhang.api.idempotency import idempotent
from taizhang.api.serializers import RefSerializer, ref
from taizhang.api.views import IDEMPOTENCY_KEY, NUMBER
from taizhang.cases import policies, services
from taizhang.cases.checklists import checklist_labels
from taizhang.cases.models import Acceptance, Case, FollowUp
from taizhang.cases.workflow import UNREACHABLE_ATTEMPTS_BEFORE_WAIVER, State


def _user(request: Request) -> Any:
    return request.user


class ChecklistSerializer(serializers.Serializer[Any]):
    category = serializers.IntegerField(allow_null=True, help_text="The case's category (null: none yet).")
    items = serializers.ListField(child=serializers.CharField(),
                                  help_text="Answer each item in `checklist` ({item: true|false}) when accepting.")


class AcceptanceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    verdict = serializers.ChoiceField(choices=Acceptance.Verdict.values)
    checklist = serializers.DictField(child=serializers.BooleanField())
    opinion = serializers.CharField()
    decided_at = serializers.DateTimeField()
    team = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_team(self, acceptance: Acceptance) -> list[str] | None:
        """Names of the acceptance team; null for enterprises (units, not people)."""
        if not self.context["internal"]:
            return None
        return [str(u) for u in acceptance.team.all()] or [str(acceptance.accepted_by)]


class FollowUpSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    channel = serializers.ChoiceField(choices=FollowUp.Channel.values)
    solved = serializers.ChoiceField(choices=FollowUp.Solved.values)
    satisfaction = serializers.IntegerField(allow_null=True)
    recorded_at = serializers.DateTimeField()
    note = serializers.SerializerMethodField()
    override_reason = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()

    def _internal(self, value: str) -> str | None:
        return value if self.context["internal"] else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_note(self, followup: FollowUp) -> str | None:
        return self._internal(followup.note)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_override_reason(self, followup: FollowUp) -> str | None:
        return self._internal(followup.override_reason)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_recorded_by(self, followup: FollowUp) -> str | None:
        """The staff member who recorded it; null when the enterprise answered itself, or for enterprises."""
        return self._internal(str(followup.recorded_by)) if followup.recorded_by else None


class ClosingSerializer(serializers.Serializer[Any]):
    state = serializers.CharField()
    rework_count = serializers.IntegerField()
    reopen_count = serializers.IntegerField()
    acceptances = AcceptanceSerializer(many=True)
    followups = FollowUpSerializer(many=True)
    unreachable_attempts = serializers.IntegerField(help_text="Of the current follow-up round.")
    attempts_before_waiver = serializers.IntegerField()
    followup_waived_reason = serializers.CharField()
    closure_opinion = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_null=True)


class FollowUpLinkInputSerializer(serializers.Serializer[Any]):
    enterprise = serializers.IntegerField(required=False, min_value=1,
                                          help_text="An enterprise of the case (default: the first).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown input.")] for name in unknown})
        return attrs


class FollowUpLinkSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(help_text="Send it to the enterprise: it answers once, without signing in.")
    expires_at = serializers.DateTimeField()
    enterprise = RefSerializer()


class CaseChecklistView(APIView):
    @extend_schema(operation_id="cases_acceptance_checklist", parameters=[NUMBER], responses=ChecklistSerializer,
                   description="The acceptance checklist (验收清单) of the case's category: its own items, else "
                               "the nearest parent category's, else the default set.")
    def get(self, request: Request, number: str) -> Response:
        case = api_selectors.case_for(_user(request), number)
        return Response({"category": case.category_id, "items": checklist_labels(case.category)})


class CaseClosingView(APIView):
    @extend_schema(operation_id="cases_closing", parameters=[NUMBER], responses=ClosingSerializer,
                   description="Acceptance verdicts, follow-up attempts, waiver and closure (销号) of the case.")
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case: Case = api_selectors.case_for(user, number)
        internal = policies.sees_internal_notes(user)
        data = {
            "state": case.state, "rework_count": case.rework_count, "reopen_count": case.reopen_count,
            "acceptances": case.acceptances.select_related("accepted_by").prefetch_related("team"),
            "followups": case.followups.select_related("recorded_by"),
            "unreachable_attempts": services.unreachable_attempts(case) if case.state == State.AWAITING_FOLLOWUP
            else 0,
            "attempts_before_waiver": UNREACHABLE_ATTEMPTS_BEFORE_WAIVER,
            "followup_waived_reason": case.followup_waived_reason, "closure_opinion": case.closure_opinion,
            "closed_at": case.closed_at, "closed_by": str(case.closed_by) if internal and case.closed_by else None,
        }
        return Response(ClosingSerializer(data, context={"internal": internal}).data)


class FollowUpLinkView(APIView):
    @extend_schema(operation_id="cases_followup_link", parameters=[NUMBER, IDEMPOTENCY_KEY],
                   request=FollowUpLinkInputSerializer, responses={201: FollowUpLinkSerializer},
                   description="Issue a signed follow-up link (valid 14 days, used once) for the enterprise to "
                               "answer the follow-up itself. Supervising side only, while the case awaits "
                               "follow-up; the outbox topic case.followup_link_issued carries it too.")
    def post(self, request: Request, number: str) -> Response:
        user = _user(request)
        api_selectors.case_for(user, number)  # out of scope is 404 before any input is looked at

        def perform() -> Response:
            form = FollowUpLinkInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            issued = services.issue_followup_link(number, actor=user, enterprise=form.validated_data.get("enterprise"))
            return Response({"url": request.build_absolute_uri(issued.url), "expires_at": issued.expires_at,
                             "enterprise": ref(issued.enterprise)}, status=201)

        return idempotent(request, perform)
