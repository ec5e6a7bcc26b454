"""Recommendations, bulletins and meetings in the API (/api/v1/recommendations/, /bulletins/, /meetings/).
Thin: parse, call one service or selector, render. Out of scope is a 404; errors use the API's one shape."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api.idempotency import idempotent
from taizhang.api.parsers import JSONParser
from taizhang.api.serializers import RefSerializer, ref
from taizhang.api.views import IDEMPOTENCY_KEY, object_id
from taizhang.core import clock
from taizhang.core.errors import NotFound
from taizhang.supervision import selectors, services
from taizhang.supervision.models import Bulletin, Meeting, MeetingDecision, Recommendation

PAGE_SIZE = 50
ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id.")
DECISION_ID = OpenApiParameter("decision_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Decision id.")
CURSOR = OpenApiParameter("cursor", OpenApiTypes.INT, description="The `next` of the previous page.")
VERSION_HELP = "The version the change expects (from the last read); a stale one is a 409."


def _user(request: Request) -> Any:
    return request.user


class _Strict(serializers.Serializer[Any]):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown input.")] for name in unknown})
        return attrs


def _page(request: Request, rows: QuerySet[Any], serializer: type[serializers.Serializer[Any]]) -> Response:
    """Newest first, keyset-paged by id."""
    cursor = request.query_params.get("cursor")
    if cursor:
        rows = rows.filter(pk__lt=object_id(cursor))
    found = list(rows.order_by("-pk")[:PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return Response({"results": serializer(found, many=True).data, "next": found[-1].pk if more else None})


def _paged(serializer: type[serializers.Serializer[Any]], name: str) -> Any:
    return inline_serializer(name, {"results": serializer(many=True),
                                    "next": serializers.IntegerField(allow_null=True)})


# --- recommendations -----------------------------------------------------------------------------

class RecommendationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Recommendation.State.values)
    kind = serializers.ChoiceField(choices=Recommendation.Kind.choices)
    number = serializers.CharField()
    title = serializers.CharField()
    issuing_org = serializers.SerializerMethodField()
    addressed_org = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()
    inspection_round = serializers.IntegerField(source="inspection_round_id", allow_null=True)
    problems = serializers.CharField()
    causes = serializers.CharField()
    recommendations = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    reply_due_at = serializers.DateTimeField(allow_null=True)
    overdue_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    evaluation = serializers.CharField()
    evaluated_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(RefSerializer)
    def get_issuing_org(self, rec: Recommendation) -> dict[str, Any] | None:
        return ref(rec.issuing_org)

    @extend_schema_field(RefSerializer)
    def get_addressed_org(self, rec: Recommendation) -> dict[str, Any] | None:
        return ref(rec.addressed_org)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cases(self, rec: Recommendation) -> list[str]:
        return sorted(rec.cases.values_list("number", flat=True))


class RecommendationInputSerializer(_Strict):
    issuing_org = serializers.IntegerField(required=False, help_text="Only when creating.")
    addressed_org = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Recommendation.Kind.choices)
    title = serializers.CharField(max_length=200)
    problems = serializers.CharField(max_length=services.MAX_TEXT)
    causes = serializers.CharField(max_length=services.MAX_TEXT, allow_blank=True, required=False, default="")
    recommendations = serializers.CharField(max_length=services.MAX_TEXT)
    cases = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    inspection_round = serializers.IntegerField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class VersionSerializer(_Strict):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class ReplyInputSerializer(_Strict):
    reply = serializers.CharField(max_length=services.MAX_TEXT, allow_blank=True)
    evidence = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class EvaluationInputSerializer(_Strict):
    outcome = serializers.ChoiceField(choices=Recommendation.Outcome.values)
    evaluation = serializers.CharField(max_length=services.MAX_TEXT, allow_blank=True)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data: Any = request.data
    if hasattr(data, "getlist"):  # multipart: files may repeat
        data = {key: (data.getlist(key) if key == "evidence" else data.get(key)) for key in data}
    form = serializer_class(data=data)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class RecommendationListView(APIView):
    @extend_schema(operation_id="recommendations_list", parameters=[CURSOR],
                   responses=_paged(RecommendationSerializer, "RecommendationPage"))
    def get(self, request: Request) -> Response:
        return _page(request, selectors.recommendations_visible_to(_user(request)), RecommendationSerializer)

    @extend_schema(operation_id="recommendations_create", parameters=[IDEMPOTENCY_KEY],
                   request=RecommendationInputSerializer, responses={201: RecommendationSerializer},
                   description="Draft a supervision recommendation (监察建议) of a supervisory body.")
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            data = _valid(RecommendationInputSerializer, request)
            data.pop("version", None)
            rec = services.create_recommendation(actor=user, issuing_org=data.pop("issuing_org", None), **data)
            return Response(RecommendationSerializer(rec).data, status=201)

        return idempotent(request, perform)


class RecommendationDetailView(APIView):
    @extend_schema(operation_id="recommendations_retrieve", parameters=[ID], responses=RecommendationSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(RecommendationSerializer(services.get_recommendation_for(_user(request), object_id(pk))).data)

    @extend_schema(operation_id="recommendations_update", parameters=[ID], request=RecommendationInputSerializer,
                   responses=RecommendationSerializer, description="Edit a draft.")
    def put(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_recommendation_for(user, object_id(pk))
        data = _valid(RecommendationInputSerializer, request)
        data.pop("issuing_org", None)
        rec = services.update_recommendation(object_id(pk), actor=user, **data)
        return Response(RecommendationSerializer(rec).data)


class _RecommendationStep(APIView):
    input_serializer: type[serializers.Serializer[Any]] = VersionSerializer

    def perform(self, user: Any, pk: int, data: dict[str, Any]) -> Recommendation:
        raise NotImplementedError

    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_recommendation_for(user, object_id(pk))  # out of scope is 404 before any input is read
        data = _valid(self.input_serializer, request)
        return Response(RecommendationSerializer(self.perform(user, object_id(pk), data)).data)


class RecommendationIssueView(_RecommendationStep):
    @extend_schema(operation_id="recommendations_issue", parameters=[ID], request=VersionSerializer,
                   responses=RecommendationSerializer,
                   description="Issue a draft: it gets its document number and reply deadline.")
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, pk: int, data: dict[str, Any]) -> Recommendation:
        return services.issue_recommendation(pk, actor=user, **data)


class RecommendationReplyView(_RecommendationStep):
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    input_serializer = ReplyInputSerializer

    @extend_schema(operation_id="recommendations_reply", parameters=[ID],
                   request={"multipart/form-data": ReplyInputSerializer, "application/json": ReplyInputSerializer},
                   responses=RecommendationSerializer,
                   description="The addressed unit's written reply with measures taken and evidence files.")
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, pk: int, data: dict[str, Any]) -> Recommendation:
        return services.reply_to_recommendation(pk, actor=user, **data)


class RecommendationEvaluateView(_RecommendationStep):
    input_serializer = EvaluationInputSerializer

    @extend_schema(operation_id="recommendations_evaluate", parameters=[ID], request=EvaluationInputSerializer,
                   responses=RecommendationSerializer,
                   description="The issuing body's evaluation: adopted, partly adopted or not adopted.")
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)

    def perform(self, user: Any, pk: int, data: dict[str, Any]) -> Recommendation:
        return services.evaluate_recommendation(pk, actor=user, **data)


# --- bulletins -----------------------------------------------------------------------------------

class SectionSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    heading = serializers.CharField()
    text = serializers.CharField()


class BulletinSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Bulletin.State.values)
    number = serializers.CharField()
    title = serializers.CharField()
    issuing_org = serializers.SerializerMethodField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    units = serializers.SerializerMethodField()
    distribution = serializers.SerializerMethodField()
    sections = SectionSerializer(many=True)
    ranking = serializers.JSONField()
    issued_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(RefSerializer)
    def get_issuing_org(self, bulletin: Bulletin) -> dict[str, Any] | None:
        return ref(bulletin.issuing_org)

    @extend_schema_field(RefSerializer(many=True))
    def get_units(self, bulletin: Bulletin) -> list[dict[str, Any] | None]:
        return [ref(o) for o in bulletin.units.order_by("path")]

    @extend_schema_field(RefSerializer(many=True))
    def get_distribution(self, bulletin: Bulletin) -> list[dict[str, Any] | None]:
        return [ref(o) for o in bulletin.distribution.order_by("path")]


class BulletinInputSerializer(_Strict):
    issuing_org = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    units = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BulletinEditSerializer(_Strict):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    title = serializers.CharField(max_length=200, required=False)
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=services.MAX_TEXT),
                                     required=False, help_text="Section texts by section key.")
    distribution = serializers.ListField(child=serializers.IntegerField(), required=False)


class BulletinListView(APIView):
    @extend_schema(operation_id="bulletins_list", parameters=[CURSOR],
                   responses=_paged(BulletinSerializer, "BulletinPage"))
    def get(self, request: Request) -> Response:
        return _page(request, selectors.bulletins_visible_to(_user(request)), BulletinSerializer)

    @extend_schema(operation_id="bulletins_generate", parameters=[IDEMPOTENCY_KEY], request=BulletinInputSerializer,
                   responses={201: BulletinSerializer},
                   description="Generate a draft bulletin (通报) for a period and units from the KPIs and the ledger.")
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            data = _valid(BulletinInputSerializer, request)
            bulletin = services.generate_bulletin(actor=user, **data)
            return Response(BulletinSerializer(bulletin).data, status=201)

        return idempotent(request, perform)


class BulletinDetailView(APIView):
    @extend_schema(operation_id="bulletins_retrieve", parameters=[ID], responses=BulletinSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(BulletinSerializer(services.get_bulletin_for(_user(request), object_id(pk))).data)

    @extend_schema(operation_id="bulletins_edit", parameters=[ID], request=BulletinEditSerializer,
                   responses=BulletinSerializer, description="Edit a draft's title, sections and distribution list.")
    def patch(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_bulletin_for(user, object_id(pk))
        data = _valid(BulletinEditSerializer, request)
        return Response(BulletinSerializer(services.edit_bulletin(object_id(pk), actor=user, **data)).data)


class BulletinIssueView(APIView):
    @extend_schema(operation_id="bulletins_issue", parameters=[ID], request=VersionSerializer,
                   responses=BulletinSerializer, description="Issue the bulletin as a numbered document.")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_bulletin_for(user, object_id(pk))
        data = _valid(VersionSerializer, request)
        return Response(BulletinSerializer(services.issue_bulletin(object_id(pk), actor=user, **data)).data)


class BulletinPublishView(APIView):
    @extend_schema(operation_id="bulletins_publish", parameters=[ID], request=VersionSerializer,
                   responses=BulletinSerializer,
                   description="Publish the redacted public version (no personal names or contact data).")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_bulletin_for(user, object_id(pk))
        data = _valid(VersionSerializer, request)
        return Response(BulletinSerializer(services.publish_bulletin(object_id(pk), actor=user, **data)).data)


# --- meetings ------------------------------------------------------------------------------------

class DecisionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    text = serializers.CharField()
    assignee_org = serializers.SerializerMethodField()
    due_on = serializers.DateField()
    cases = serializers.SerializerMethodField()
    done_at = serializers.DateTimeField(allow_null=True)
    done_note = serializers.CharField()

    @extend_schema_field(RefSerializer)
    def get_assignee_org(self, decision: MeetingDecision) -> dict[str, Any] | None:
        return ref(decision.assignee_org)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cases(self, decision: MeetingDecision) -> list[str]:
        return sorted(decision.cases.values_list("number", flat=True))


class MeetingSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices)
    title = serializers.CharField()
    held_on = serializers.DateField()
    location = serializers.CharField()
    convening_org = serializers.SerializerMethodField()
    participant_orgs = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    topics = serializers.CharField()
    decisions = serializers.SerializerMethodField()

    @extend_schema_field(RefSerializer)
    def get_convening_org(self, meeting: Meeting) -> dict[str, Any] | None:
        return ref(meeting.convening_org)

    @extend_schema_field(RefSerializer(many=True))
    def get_participant_orgs(self, meeting: Meeting) -> list[dict[str, Any] | None]:
        return [ref(o) for o in meeting.participant_orgs.order_by("path")]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_participants(self, meeting: Meeting) -> list[str]:
        return [str(u) for u in meeting.participants.order_by("pk")]

    @extend_schema_field(DecisionSerializer(many=True))
    def get_decisions(self, meeting: Meeting) -> Any:
        return DecisionSerializer(meeting.decisions.select_related("assignee_org"), many=True).data


class MeetingInputSerializer(_Strict):
    convening_org = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices)
    title = serializers.CharField(max_length=200)
    held_on = serializers.DateField()
    location = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    topics = serializers.CharField(max_length=services.MAX_TEXT)
    participant_orgs = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    participants = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class DecisionInputSerializer(_Strict):
    text = serializers.CharField(max_length=4000)
    assignee_org = serializers.IntegerField()
    due_on = serializers.DateField()
    cases = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class DecisionDoneSerializer(_Strict):
    note = serializers.CharField(max_length=4000, allow_blank=True)


class MeetingListView(APIView):
    @extend_schema(operation_id="meetings_list", parameters=[CURSOR],
                   responses=_paged(MeetingSerializer, "MeetingPage"))
    def get(self, request: Request) -> Response:
        return _page(request, selectors.meetings_visible_to(_user(request)), MeetingSerializer)

    @extend_schema(operation_id="meetings_create", parameters=[IDEMPOTENCY_KEY], request=MeetingInputSerializer,
                   responses={201: MeetingSerializer},
                   description="Record a consultation meeting (会商) or joint inspection (联合督查).")
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            meeting = services.record_meeting(actor=user, **_valid(MeetingInputSerializer, request))
            return Response(MeetingSerializer(meeting).data, status=201)

        return idempotent(request, perform)


class MeetingDetailView(APIView):
    @extend_schema(operation_id="meetings_retrieve", parameters=[ID], responses=MeetingSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(MeetingSerializer(services.get_meeting_for(_user(request), object_id(pk))).data)


class MeetingDecisionsView(APIView):
    @extend_schema(operation_id="meetings_decisions_create", parameters=[ID, IDEMPOTENCY_KEY],
                   request=DecisionInputSerializer, responses={201: DecisionSerializer},
                   description="Add a decision (a follow-up task for an organisation, linked to cases; their "
                               "timelines show it).")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        services.get_meeting_for(user, object_id(pk))

        def perform() -> Response:
            decision = services.add_decision(object_id(pk), actor=user, **_valid(DecisionInputSerializer, request))
            return Response(DecisionSerializer(decision).data, status=201)

        return idempotent(request, perform)


class DecisionDoneView(APIView):
    @extend_schema(operation_id="meetings_decisions_done", parameters=[ID, DECISION_ID],
                   request=DecisionDoneSerializer, responses=DecisionSerializer,
                   description="Mark a decision carried out (once).")
    def post(self, request: Request, pk: str, decision_id: str) -> Response:
        user = _user(request)
        page = selectors.meeting_page(user, object_id(pk), today=clock.today())
        wanted = object_id(decision_id)
        if all(row.decision.pk != wanted for row in page.decisions):
            raise NotFound()
        decision = services.complete_decision(wanted, actor=user, **_valid(DecisionDoneSerializer, request))
        return Response(DecisionSerializer(decision).data)
