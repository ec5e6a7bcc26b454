"""The ledger's REST endpoints (`/api/v1/ledger/…`): export jobs (create, poll, download) and imports
(upload → preview → commit). Thin views over the ledger services and selectors; jobs are their owner's
alone (404 to anyone else)."""

import os
import tempfile
from typing import Any

from django.http import FileResponse, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.ledger import selectors, services
from taizhang.ledger.models import ImportRow, LedgerExport, LedgerImport

JOB_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's id.")


class ExportCreateSerializer(serializers.Serializer[Any]):
    format = serializers.ChoiceField(choices=LedgerExport.Format.choices, default=LedgerExport.Format.XLSX)
    query = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                  help_text="The ledger filters as a query string, e.g. state=rectifying&org=3 "
                                            "(the parameters of GET /api/v1/cases/).")


class ExportSerializer(serializers.ModelSerializer[LedgerExport]):
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = LedgerExport
        fields = ["id", "format", "query", "status", "total", "written", "percent", "error", "created_at",
                  "finished_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, job: LedgerExport) -> str | None:
        return reverse("api:ledger-export-download", args=[job.pk]) if job.is_done else None


class ImportUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="The ledger workbook (.xlsx).")


class ImportSerializer(serializers.ModelSerializer[LedgerImport]):
    percent = serializers.IntegerField(read_only=True)
    audit_id = serializers.CharField(read_only=True, help_text="The request id its audit events carry.")

    class Meta:
        model = LedgerImport
        fields = ["id", "original_name", "status", "total", "processed", "percent", "creates", "updates",
                  "unchanged", "invalid", "notes", "found_headers", "error_code", "error", "created_at",
                  "committed_at", "audit_id"]
        read_only_fields = fields


class ImportRowSerializer(serializers.ModelSerializer[ImportRow]):
    class Meta:
        model = ImportRow
        fields = ["id", "sheet", "row", "number", "action", "changes", "problems"]
        read_only_fields = fields


class ImportRowPageSerializer(serializers.Serializer[Any]):
    results = ImportRowSerializer(many=True)
    next_after = serializers.IntegerField(allow_null=True)


def _user(request: Request) -> Any:
    return request.user


def _file(path: Any, filename: str, content_type: str) -> FileResponse:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        raise NotFound() from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ExportListView(APIView):
    @extend_schema(operation_id="ledger_exports_create", request=ExportCreateSerializer,
                   responses={202: ExportSerializer})
    def post(self, request: Request) -> Response:
        form = ExportCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = services.create_export(actor=_user(request), query=form.validated_data["query"],
                                     format=form.validated_data["format"])
        return Response(ExportSerializer(job).data, status=202)


class ExportDetailView(APIView):
    @extend_schema(operation_id="ledger_exports_retrieve", parameters=[JOB_ID], responses=ExportSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(ExportSerializer(selectors.export_for(_user(request), pk)).data)


class ExportDownloadView(APIView):
    @extend_schema(operation_id="ledger_exports_download", parameters=[JOB_ID],
                   responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The finished file.")})
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        job = selectors.export_for(_user(request), pk)
        if not job.is_done or not job.file:
            raise NotFound()
        return _file(services.media_path(job.file), services.download_name(job.format),
                     services.CONTENT_TYPES[job.format])


class ImportListView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="ledger_imports_create", request={"multipart/form-data": ImportUploadSerializer},
                   responses={201: ImportSerializer})
    def post(self, request: Request) -> Response:
        form = ImportUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = services.upload_import(actor=_user(request), upload=form.validated_data["file"])
        return Response(ImportSerializer(job).data, status=201)


class ImportDetailView(APIView):
    @extend_schema(operation_id="ledger_imports_retrieve", parameters=[JOB_ID], responses=ImportSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(ImportSerializer(selectors.import_for(_user(request), pk)).data)


class ImportRowsView(APIView):
    @extend_schema(operation_id="ledger_imports_rows", parameters=[
        JOB_ID, OpenApiParameter("action", OpenApiTypes.STR, enum=ImportRow.Action.values, required=False),
        OpenApiParameter("after", OpenApiTypes.INT, required=False, description="The next_after of the last page."),
    ], responses=ImportRowPageSerializer)
    def get(self, request: Request, pk: str) -> Response:
        job = selectors.import_for(_user(request), pk)
        action = request.query_params.get("action", "")
        if action and action not in ImportRow.Action.values:
            raise ValidationFailed(code="validation.invalid_filter", field="action")
        after = request.query_params.get("after", "0")
        if not after.isdigit():
            raise ValidationFailed(code="validation.invalid_cursor", field="after")
        limit = 200
        rows = list(selectors.import_rows(job, action=action, after=int(after), limit=limit + 1))
        return Response({"results": ImportRowSerializer(rows[:limit], many=True).data,
                         "next_after": rows[limit - 1].pk if len(rows) > limit else None})


class ImportCommitView(APIView):
    @extend_schema(operation_id="ledger_imports_commit", request=None, parameters=[JOB_ID],
                   responses={200: ImportSerializer, 202: ImportSerializer})
    def post(self, request: Request, pk: str) -> Response:
        user = _user(request)
        job = services.commit_import(actor=user, ledger_import=selectors.import_for(user, pk))
        return Response(ImportSerializer(job).data, status=200 if job.is_committed or not job.is_busy else 202)


class ImportErrorsView(APIView):
    @extend_schema(operation_id="ledger_imports_error_workbook", parameters=[JOB_ID],
                   responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY,
                                                            description="The rows with each bad cell marked.")})
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        job = selectors.import_for(_user(request), pk)
        if not job.has_report:
            raise NotFound()
        handle, name = tempfile.mkstemp(suffix=".xlsx", prefix="ledger-errors-")
        os.close(handle)
        services.write_error_workbook(job, name)
        response = _file(name, "errors.xlsx", services.CONTENT_TYPES["xlsx"])
        os.unlink(name)
        return response
