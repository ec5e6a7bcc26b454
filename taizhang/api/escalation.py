"""督办 in the API: escalating a case by hand, its escalation history, answering a supervision order and
the parent leadership's response to a level-2 escalation. Thin: parse, call one service or selector, render."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api import selectors as api_selectors
from taizhang.api.idempotency import idempotent
from taizhang.api.serializers import RefSerializer, ref
from taizhang.api.views import IDEMPOTENCY_KEY, IF_MATCH, NUMBER, if_match_version, object_id
from taizhang.cases.models import Case
from taizhang.sla import selectors, services
from taizhang.sla.models import Escalation, SupervisionOrder

ORDER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Supervision order id.")
ESCALATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Escalation id.")


class _Strict(serializers.Serializer[Any]):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown input.")] for name in unknown})
        return attrs


class EscalateInputSerializer(_Strict):
    level = serializers.ChoiceField(choices=[2, 3], help_text="2: tell the parent leadership; "
                                                              "3: issue a supervision order (督办单).")
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class TextInputSerializer(_Strict):
    text = serializers.CharField(max_length=4000, allow_blank=True)


class SupervisionOrderSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    case = serializers.CharField(source="case.number")
    issuing_org = serializers.SerializerMethodField()
    addressed_org = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    reply_due_at = serializers.DateTimeField()
    overdue_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    reply = serializers.CharField()

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_issuing_org(self, order: SupervisionOrder) -> dict[str, Any] | None:
        return ref(order.issuing_org)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_addressed_org(self, order: SupervisionOrder) -> dict[str, Any] | None:
        return ref(order.addressed_org)


class EscalationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Escalation.Level.values)
    level_label = serializers.CharField(source="get_level_display")
    clock = serializers.CharField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    target_org = serializers.SerializerMethodField()
    reason = serializers.CharField()
    escalated_by = serializers.SerializerMethodField()
    response_due_at = serializers.DateTimeField(allow_null=True)
    responded_at = serializers.DateTimeField(allow_null=True)
    response = serializers.CharField()
    supervision_order = serializers.SerializerMethodField()

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_target_org(self, escalation: Escalation) -> dict[str, Any] | None:
        return ref(escalation.target_org)

    def get_escalated_by(self, escalation: Escalation) -> str | None:
        user = escalation.escalated_by
        return None if user is None else str(user)

    @extend_schema_field(SupervisionOrderSerializer(allow_null=True))
    def get_supervision_order(self, escalation: Escalation) -> dict[str, Any] | None:
        if escalation.level != Escalation.Level.SUPERVISION_ORDER:
            return None
        order = getattr(escalation, "supervision_order", None)
        return None if order is None else dict(SupervisionOrderSerializer(order).data)


def _user(request: Request) -> Any:
    return request.user


class CaseEscalateView(APIView):
    @extend_schema(operation_id="cases_escalate", parameters=[NUMBER, IF_MATCH, IDEMPOTENCY_KEY],
                   request=EscalateInputSerializer, responses={201: EscalationSerializer},
                   description="Escalate a case by hand (督办), with a reason, straight to level 2 or 3. "
                               "The ETag of the answer carries the case's new version.")
    def post(self, request: Request, number: str) -> Response:
        user = _user(request)
        api_selectors.case_for(user, number)  # out of scope is 404 before any input is looked at
        version = if_match_version(request)

        def perform() -> Response:
            form = EscalateInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            escalation = services.escalate_case(number, actor=user, level=int(form.validated_data["level"]),
                                                reason=form.validated_data["reason"], version=version)
            fresh = Case.objects.only("version").get(pk=escalation.case_id)
            response = Response(EscalationSerializer(escalation).data, status=201)
            response["ETag"] = f'"{fresh.version}"'
            return response

        return idempotent(request, perform)


class CaseEscalationsView(APIView):
    @extend_schema(operation_id="cases_escalations_list", parameters=[NUMBER],
                   responses=EscalationSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        return Response(EscalationSerializer(selectors.escalations_for(_user(request), number), many=True).data)


class SupervisionOrderReplyView(APIView):
    @extend_schema(operation_id="supervision_orders_reply", parameters=[ORDER_ID, IDEMPOTENCY_KEY],
                   request=TextInputSerializer, responses={200: SupervisionOrderSerializer},
                   description="The lead unit's leader answers a supervision order (once).")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        order = selectors.order_for(user, object_id(pk))

        def perform() -> Response:
            form = TextInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            answered = services.reply_to_supervision_order(order.pk, actor=user, text=form.validated_data["text"])
            return Response(SupervisionOrderSerializer(selectors.order_for(user, answered.pk)).data)

        return idempotent(request, perform)


class EscalationRespondView(APIView):
    @extend_schema(operation_id="escalations_respond", parameters=[ESCALATION_ID, IDEMPOTENCY_KEY],
                   request=TextInputSerializer, responses={200: EscalationSerializer},
                   description="The parent leadership told at level 2 records its response (once).")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        escalation = selectors.escalation_for(user, object_id(pk))

        def perform() -> Response:
            form = TextInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            answered = services.respond_to_escalation(escalation.pk, actor=user, text=form.validated_data["text"])
            return Response(EscalationSerializer(selectors.escalation_for(user, answered.pk)).data)

        return idempotent(request, perform)
