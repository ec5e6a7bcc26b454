"""回头看 in the API (`/api/v1/recheck-campaigns/`): list and plan campaigns, launch one, read its items
and record a check. Thin: parse, call one service or selector, render; the same services as the pages."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api.idempotency import idempotent
from taizhang.api.serializers import RefSerializer, ref
from taizhang.api.views import IDEMPOTENCY_KEY, IF_MATCH, if_match_version, object_id
from taizhang.cases.models import Case
from taizhang.followup import selectors, services
from taizhang.followup.models import CampaignItem, RecheckCampaign

CAMPAIGN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Campaign id.")
MAX_ID = 2**31 - 1
ITEM_ID = OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Campaign item id.")


class _Strict(serializers.Serializer[Any]):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown input.")] for name in unknown})
        return attrs


class CampaignInputSerializer(_Strict):
    name = serializers.CharField(max_length=120)
    deadline = serializers.DateField()
    closed_from = serializers.DateField(required=False, allow_null=True)
    closed_to = serializers.DateField(required=False, allow_null=True)
    category = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID,
                                        help_text="A category, with its subcategories.")
    unit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID,
                                    help_text="A responsible or handling organisation, with its sub-organisations.")
    inspection_round = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    source = serializers.ChoiceField(choices=Case.Source.values, required=False,  # type: ignore[assignment]
                                     allow_blank=True)
    sample_size = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                          max_value=services.MAX_SAMPLE)
    sample_percent = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=services.MAX_SEED,
                                    help_text="The same filters and seed select the same cases; drawn if absent.")
    checkers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                     max_length=50,
                                     help_text="User ids of supervisors or inspectors of the supervising side.")


class ProgressSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    held = serializers.IntegerField()
    relapsed = serializers.IntegerField()


class SelectionSerializer(serializers.Serializer[Any]):
    candidates = serializers.IntegerField(help_text="Closed cases matching the filters, in your scope.")
    selected = serializers.IntegerField(help_text="Cases the launch would freeze (after sampling).")


class CampaignSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=RecheckCampaign.Kind.values)
    status = serializers.ChoiceField(choices=RecheckCampaign.Status.values)
    version = serializers.IntegerField()
    org = serializers.SerializerMethodField()
    closed_from = serializers.DateField(allow_null=True)
    closed_to = serializers.DateField(allow_null=True)
    category = serializers.IntegerField(source="category_id", allow_null=True)
    unit = serializers.IntegerField(source="unit_id", allow_null=True)
    inspection_round = serializers.IntegerField(source="inspection_round_id", allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    sample_size = serializers.IntegerField(allow_null=True)
    sample_percent = serializers.IntegerField(allow_null=True)
    seed = serializers.IntegerField()
    deadline = serializers.DateField(allow_null=True)
    checkers = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    launched_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    progress = serializers.SerializerMethodField()
    selection = serializers.SerializerMethodField()

    @extend_schema_field(RefSerializer)
    def get_org(self, campaign: RecheckCampaign) -> dict[str, Any] | None:
        return ref(campaign.org)

    def get_checkers(self, campaign: RecheckCampaign) -> list[int]:
        return sorted(user.pk for user in campaign.checkers.all())

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign: RecheckCampaign) -> dict[str, int]:
        progress = self.context.get("progress", {}).get(campaign.pk) or selectors.progress(campaign)
        return {"total": progress.total, "pending": progress.pending, "held": progress.held,
                "relapsed": progress.relapsed}

    @extend_schema_field(SelectionSerializer(allow_null=True))
    def get_selection(self, campaign: RecheckCampaign) -> dict[str, int] | None:
        if campaign.status != RecheckCampaign.Status.DRAFT or "user" not in self.context:
            return None
        candidates, selected = selectors.preview_count(self.context["user"], campaign)
        return {"candidates": candidates, "selected": selected}


class ItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    case = serializers.CharField(source="case.number")
    case_title = serializers.CharField(source="case.title")
    case_state = serializers.CharField(source="case.state")
    checker = serializers.IntegerField(source="checker_id", allow_null=True)
    status = serializers.ChoiceField(choices=CampaignItem.Status.values)
    queued_at = serializers.DateTimeField()
    checked_at = serializers.DateTimeField(allow_null=True)
    recheck = serializers.IntegerField(source="recheck_id", allow_null=True,
                                       help_text="The re-check recorded on the case.")


class RecordInputSerializer(_Strict):
    held = serializers.BooleanField(help_text="true: the fix held; false: relapsed (the case is reopened).")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    evidence = serializers.ListField(child=serializers.FileField(), required=False, max_length=20)


def _user(request: Request) -> Any:
    return request.user


def _campaign_response(request: Request, campaign: RecheckCampaign, status: int = 200) -> Response:
    response = Response(CampaignSerializer(campaign, context={"user": _user(request)}).data, status=status)
    response["ETag"] = f'"{campaign.version}"'
    return response


class RecheckCampaignListView(APIView):
    @extend_schema(operation_id="recheck_campaigns_list", responses=CampaignSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = selectors.campaign_list(_user(request))
        progress = {campaign.pk: p for campaign, p in rows}
        return Response(CampaignSerializer([c for c, _p in rows], many=True, context={"progress": progress}).data)

    @extend_schema(operation_id="recheck_campaigns_create", parameters=[IDEMPOTENCY_KEY],
                   request=CampaignInputSerializer, responses={201: CampaignSerializer},
                   description="Plan a 回头看 campaign as a draft. Nothing is selected until it is launched; "
                               "`selection` previews the count.")
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            form = CampaignInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            criteria = selectors.resolve_planning(user, dict(form.validated_data))
            campaign = services.create_campaign(actor=user, **criteria)
            return _campaign_response(request, campaign, 201)

        return idempotent(request, perform)


class RecheckCampaignDetailView(APIView):
    @extend_schema(operation_id="recheck_campaigns_retrieve", parameters=[CAMPAIGN_ID],
                   responses=CampaignSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return _campaign_response(request, selectors.campaign_for(_user(request), object_id(pk)))


class RecheckCampaignLaunchView(APIView):
    @extend_schema(operation_id="recheck_campaigns_launch", parameters=[CAMPAIGN_ID, IF_MATCH, IDEMPOTENCY_KEY],
                   request=None, responses=CampaignSerializer,
                   description="Freeze the selection as items (checkers assigned in turn). If-Match takes the "
                               "campaign's version.")
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        campaign = selectors.campaign_for(user, object_id(pk))
        version = if_match_version(request)

        def perform() -> Response:
            return _campaign_response(request, services.launch_campaign(campaign.pk, actor=user, version=version))

        return idempotent(request, perform)


class RecheckCampaignItemsView(APIView):
    @extend_schema(operation_id="recheck_campaigns_items", parameters=[CAMPAIGN_ID],
                   responses=ItemSerializer(many=True))
    def get(self, request: Request, pk: str) -> Response:
        user = _user(request)
        campaign = selectors.campaign_for(user, object_id(pk))
        return Response(ItemSerializer(selectors.items_of(user, campaign), many=True).data)


class RecheckCampaignRecordView(APIView):
    @extend_schema(operation_id="recheck_campaigns_record", parameters=[CAMPAIGN_ID, ITEM_ID, IDEMPOTENCY_KEY],
                   request={"multipart/form-data": RecordInputSerializer,
                            "application/json": RecordInputSerializer},
                   responses={201: ItemSerializer},
                   description="Record one check through the workflow action `record_recheck`: held keeps the "
                               "case closed; relapsed reopens it as rectifying.")
    def post(self, request: Request, pk: str, item_id: str) -> Response:
        user = _user(request)
        item = selectors.item_for(user, object_id(pk), object_id(item_id))

        def perform() -> Response:
            form = RecordInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            checked = services.record_check(item.campaign.pk, item.pk, actor=user, held=data["held"],
                                            note=data.get("note") or "", evidence=data.get("evidence") or None)
            return Response(ItemSerializer(checked).data, status=201)

        return idempotent(request, perform)
