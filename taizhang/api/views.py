"""The REST API (`/api/v1/`): thin views that parse, call one service or selector, and render."""

import datetime as dt
import re
from typing import Any

from django.http import FileResponse, HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api import selectors, serializers
from taizhang.api.idempotency import idempotent
from taizhang.api.tokens import create_token, revoke_token
from taizhang.cases import services
from taizhang.cases.selectors import case_timeline
from taizhang.cases.workflow import ACTIONS
from taizhang.core import clock
from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.orgs import services as org_services

ETAG = re.compile(r'^(?:W/)?"?(\d{1,10})"?$', re.ASCII)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Retries with the same key return the first result and create nothing new.")
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description='The case version the action expects, as returned in the ETag ("3"). A stale one is a 409.')
NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Public case number.",
                          examples=[OpenApiExample("The demo story", value="CC-2022-0001")])
ACTION = OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(ACTIONS),
                          description="A workflow action.")
LEDGER_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Search in the number, title and text (≤ 100 characters)."),
    OpenApiParameter("kpi", OpenApiTypes.STR, description="The cases behind one number of /api/v1/kpis/ "
                     "(as given there)."),
    OpenApiParameter("state", OpenApiTypes.STR, description="States, comma-separated or repeated."),
    OpenApiParameter("source", OpenApiTypes.STR, description="Intake channels, comma-separated or repeated."),
    OpenApiParameter("mode", OpenApiTypes.STR, description="Rectification modes, comma-separated or repeated."),
    OpenApiParameter("category", OpenApiTypes.INT, description="A category, with its subcategories."),
    OpenApiParameter("org", OpenApiTypes.INT, description="An organisation, with its sub-organisations."),
    OpenApiParameter("org_role", OpenApiTypes.STR, enum=["any", "responsible", "lead", "co"],
                     description="How `org` is concerned."),
    OpenApiParameter("enterprise", OpenApiTypes.INT, description="An enterprise concerned."),
    OpenApiParameter("tag", OpenApiTypes.STR, description="Enterprise tags, comma-separated or repeated."),
    OpenApiParameter("round", OpenApiTypes.INT, description="An inspection round."),
    OpenApiParameter("overdue", OpenApiTypes.STR, description='A clock whose deadline has passed, or "any".'),
    OpenApiParameter("escalation", OpenApiTypes.STR, description="Escalation levels 0–3, comma-separated."),
    OpenApiParameter("registered_from", OpenApiTypes.DATE), OpenApiParameter("registered_to", OpenApiTypes.DATE),
    OpenApiParameter("deadline_from", OpenApiTypes.DATE), OpenApiParameter("deadline_to", OpenApiTypes.DATE),
    OpenApiParameter("order", OpenApiTypes.STR, enum=list(selectors.ORDERS), description="Sort order."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The next_cursor of the previous page."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1–200 (default 50)."),
]
ETAG_HEADER = OpenApiResponse(response=serializers.CaseSerializer, description="The case; ETag carries its version.")


def _user(request: Request) -> Any:
    """The authenticated user (IsAuthenticated guards every view)."""
    return request.user


def case_response(request: Request, case: Any, status: int = 200) -> Response:
    response = Response(serializers.CaseSerializer(case, context={"user": _user(request)}).data, status=status)
    response["ETag"] = f'"{case.version}"'
    return response


def if_match_version(request: Request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = ETAG.match(raw.strip())
    if match is None:
        raise ValidationFailed(_("If-Match takes the case version from the ETag, e.g. \"3\"."),
                               code="validation.invalid_if_match", field="If-Match")
    return int(match.group(1))


def object_id(raw: str) -> int:
    """A numeric id from the path; anything else is simply not found."""
    if not re.fullmatch(r"[1-9]\d{0,17}", raw, re.ASCII):
        raise NotFound()
    return int(raw)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request: Request) -> Response:
    """Unknown paths under /api/v1/ answer in the API's error shape."""
    raise NotFound()


# --- cases ---------------------------------------------------------------------------------------

class CaseListView(APIView):
    @extend_schema(
        operation_id="cases_list",
        parameters=LEDGER_PARAMETERS,
        responses=serializers.CasePageSerializer,
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        page = selectors.case_page(user, request.query_params)
        return Response({
            "results": serializers.CaseSerializer(page.rows, many=True, context={"user": user}).data,
            "next_cursor": page.next_cursor, "has_more": page.has_more,
        })

    @extend_schema(operation_id="cases_create", request=serializers.CaseCreateSerializer,
                   parameters=[IDEMPOTENCY_KEY], responses={201: ETAG_HEADER})
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            form = serializers.CaseCreateSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            case = services.register_case(
                actor=user, source=data["source"], title=data["title"], description=data["description"],
                found_on=data.get("found_on"),
                supervising_org=selectors.organisation_by_id(data.get("supervising_org"), "supervising_org"),
                category=selectors.category_by_id(data.get("category")),
                enterprises=selectors.enterprises_by_ids(data.get("enterprises", [])),
                inspection_round=selectors.inspection_round_by_id(data.get("inspection_round")),
                reporter_name=data.get("reporter_name", ""), reporter_contact=data.get("reporter_contact", ""),
                reporter_anonymous=data.get("reporter_anonymous", False), remarks=data.get("remarks", ""),
                internal_note=data.get("internal_note", ""),
            )
            response = case_response(request, case, 201)
            response["Location"] = f"/api/v1/cases/{case.number}/"
            return response

        return idempotent(request, perform)


class CaseDetailView(APIView):
    @extend_schema(operation_id="cases_retrieve", parameters=[NUMBER], responses=ETAG_HEADER)
    def get(self, request: Request, number: str) -> Response:
        return case_response(request, selectors.case_for(_user(request), number))


class CaseActionsView(APIView):
    @extend_schema(operation_id="cases_actions_list", parameters=[NUMBER],
                   responses=serializers.AvailableActionSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case = selectors.case_for(user, number)
        return Response(serializers.AvailableActionSerializer(services.available_actions(user, case), many=True).data)


class CaseActionView(APIView):
    @extend_schema(operation_id="cases_actions_perform", parameters=[NUMBER, ACTION, IF_MATCH, IDEMPOTENCY_KEY],
                   request={"application/json": serializers.ActionInputSerializer,
                            "multipart/form-data": serializers.ActionInputSerializer},
                   responses={200: ETAG_HEADER})
    def post(self, request: Request, number: str, action: str) -> Response:
        user = _user(request)
        if action not in ACTIONS:
            raise NotFound()
        selectors.case_for(user, number)  # out of scope is 404 before any input is looked at
        version = if_match_version(request)

        def perform() -> Response:
            form = serializers.ActionInputSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            inputs = dict(form.validated_data)
            if "items" in inputs:
                inputs["items"] = [dict(item) for item in inputs["items"]]
            case = services.perform_action(number, action, actor=user, version=version, **inputs)
            return case_response(request, case)

        return idempotent(request, perform)


class CaseTimelineView(APIView):
    @extend_schema(operation_id="cases_timeline", parameters=[NUMBER],
                   responses=serializers.TimelineEntrySerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case = selectors.case_for(user, number)
        return Response(serializers.TimelineEntrySerializer(case_timeline(user, case), many=True).data)


class CaseAssignmentsView(APIView):
    @extend_schema(operation_id="cases_assignments", parameters=[NUMBER],
                   responses=serializers.AssignmentSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case = selectors.case_for(user, number)
        return Response(serializers.AssignmentSerializer(selectors.assignments_of(user, case), many=True).data)


class ProgressReportsView(APIView):
    @extend_schema(operation_id="cases_progress_reports_list", parameters=[NUMBER],
                   responses=serializers.ProgressReportSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case = selectors.case_for(user, number)
        reports = selectors.progress_reports(user, case)
        return Response(serializers.ProgressReportSerializer(reports, many=True, context={"user": user}).data)

    @extend_schema(operation_id="cases_progress_reports_create", parameters=[NUMBER, IF_MATCH, IDEMPOTENCY_KEY],
                   request={"multipart/form-data": serializers.ProgressReportCreateSerializer,
                            "application/json": serializers.ProgressReportCreateSerializer},
                   responses={201: ETAG_HEADER})
    def post(self, request: Request, number: str) -> Response:
        user = _user(request)
        selectors.case_for(user, number)
        version = if_match_version(request)

        def perform() -> Response:
            form = serializers.ProgressReportCreateSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            case = services.report_progress(number, actor=user, version=version, text=form.validated_data["text"],
                                            evidence=form.validated_data.get("evidence") or None)
            return case_response(request, case, 201)

        return idempotent(request, perform)


class EvidenceListView(APIView):
    @extend_schema(operation_id="cases_evidence_list", parameters=[NUMBER],
                   responses=serializers.EvidenceSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        user = _user(request)
        case = selectors.case_for(user, number)
        return Response(serializers.EvidenceSerializer(selectors.evidence_of(user, case), many=True).data)

    @extend_schema(operation_id="cases_evidence_upload", parameters=[NUMBER, IDEMPOTENCY_KEY],
                   request={"multipart/form-data": serializers.EvidenceUploadSerializer},
                   responses={201: serializers.EvidenceSerializer})
    def post(self, request: Request, number: str) -> Response:
        user = _user(request)
        selectors.case_for(user, number)

        def perform() -> Response:
            form = serializers.EvidenceUploadSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            purpose = form.validated_data.get("purpose")
            extra = {"purpose": purpose} if purpose else {}
            evidence = services.attach_evidence(number, form.validated_data["file"], actor=user, **extra)
            return Response(serializers.EvidenceSerializer(evidence).data, status=201)

        return idempotent(request, perform)


class EvidenceDownloadView(APIView):
    @extend_schema(operation_id="cases_evidence_download",
                   parameters=[NUMBER, OpenApiParameter("evidence_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY,
                                                            description="The file, as an attachment.")})
    def get(self, request: Request, number: str, evidence_id: str) -> HttpResponseBase:
        evidence = selectors.evidence_item(_user(request), number, object_id(evidence_id))
        try:
            handle = evidence.file.open("rb")
        except (FileNotFoundError, OSError):
            raise NotFound() from None
        response = FileResponse(handle, as_attachment=True, filename=evidence.original_name,
                                content_type=evidence.content_type or "application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


# --- reference data ------------------------------------------------------------------------------

class EnterpriseListView(APIView):
    @extend_schema(operation_id="enterprises_list", responses=serializers.EnterpriseSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(serializers.EnterpriseSerializer(selectors.enterprises(_user(request)), many=True).data)

    @extend_schema(operation_id="enterprises_create", request=serializers.EnterpriseSerializer,
                   parameters=[IDEMPOTENCY_KEY], responses={201: serializers.EnterpriseSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)

        def perform() -> Response:
            form = serializers.EnterpriseSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = dict(form.validated_data)
            parent = selectors.organisation_by_id(data.pop("parent_org", None), "parent_org")
            enterprise = org_services.create_enterprise(actor=user, parent=parent, **data)
            return Response(serializers.EnterpriseSerializer(enterprise).data, status=201)

        return idempotent(request, perform)


class EnterpriseDetailView(APIView):
    @extend_schema(operation_id="enterprises_retrieve", responses=serializers.EnterpriseSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(serializers.EnterpriseSerializer(selectors.enterprise_for(_user(request), object_id(pk))).data)


class OrganisationListView(APIView):
    @extend_schema(operation_id="organisations_list", responses=serializers.OrganisationSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(serializers.OrganisationSerializer(selectors.organisations(_user(request)), many=True).data)


class OrganisationDetailView(APIView):
    @extend_schema(operation_id="organisations_retrieve", responses=serializers.OrganisationSerializer)
    def get(self, request: Request, pk: str) -> Response:
        organisation = selectors.organisation_for(_user(request), object_id(pk))
        return Response(serializers.OrganisationSerializer(organisation).data)


class CategoryListView(APIView):
    @extend_schema(operation_id="categories_list", responses=serializers.CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(serializers.CategorySerializer(selectors.categories(_user(request)), many=True).data)


class TimeLimitListView(APIView):
    @extend_schema(operation_id="time_limits_list", responses=serializers.TimeLimitSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(serializers.TimeLimitSerializer(selectors.time_limits(_user(request)), many=True).data)


# --- tokens --------------------------------------------------------------------------------------

class TokenListView(APIView):
    @extend_schema(operation_id="tokens_list", responses=serializers.ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(serializers.ApiTokenSerializer(selectors.tokens_of(_user(request)), many=True).data)

    @extend_schema(operation_id="tokens_create", request=serializers.ApiTokenCreateSerializer,
                   responses={201: serializers.ApiTokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        user = _user(request)
        form = serializers.ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        days = form.validated_data.get("expires_days")
        expires_at = clock.now() + dt.timedelta(days=days) if days else None
        token, raw = create_token(user=user, name=form.validated_data["name"], expires_at=expires_at)
        data = dict(serializers.ApiTokenSerializer(token).data)
        data["token"] = raw
        return Response(data, status=201)


class TokenDetailView(APIView):
    @extend_schema(operation_id="tokens_retrieve", responses=serializers.ApiTokenSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(serializers.ApiTokenSerializer(selectors.token_of(_user(request), object_id(pk))).data)

    @extend_schema(operation_id="tokens_revoke", responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        user = _user(request)
        revoke_token(selectors.token_of(user, object_id(pk)), actor=user)
        return Response(status=204)
