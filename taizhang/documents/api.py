"""Official documents in the API: the documents a case offers and their files. Thin: parse, call one
selector or service, render. Out of scope or not offered: 404 in the API's error shape."""

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.api.views import NUMBER, object_id
from taizhang.core.errors import NotFound
from taizhang.documents import selectors, services
from taizhang.documents.downloads import MIME_TYPES, download_response
from taizhang.documents.models import DocumentKind
from taizhang.documents.selectors import CASE_KINDS, FORMATS, CaseDocument

KIND = OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[str(k) for k in CASE_KINDS],
                        description="transfer_letter (问题移交函) or immediate_notice (立行立改通知书).")
FORMAT = OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(FORMATS),
                          description="docx or pdf.")
ORDER_ID = OpenApiParameter("order_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Supervision order id.")
FILE = {(200, MIME_TYPES[fmt]): OpenApiResponse(OpenApiTypes.BINARY, description="The document as an attachment.")
        for fmt in FORMATS}


def _links(number: str, item: CaseDocument) -> dict[str, str]:
    if item.order_id is not None:
        return {fmt: reverse("api:case-supervision-order-document", args=[number, item.order_id, fmt])
                for fmt in FORMATS}
    return {fmt: reverse("api:case-document", args=[number, item.kind, fmt]) for fmt in FORMATS}


class CaseDocumentSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    name = serializers.CharField(source="label", help_text="What the document is (the order's number for a "
                                                            "supervision order).")
    supervision_order_id = serializers.IntegerField(allow_null=True, source="order_id")
    number = serializers.SerializerMethodField(help_text="发文字号, once the document has been issued.")
    issued_on = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    def get_number(self, item: CaseDocument) -> str | None:
        return item.issued.number if item.issued else None

    def get_issued_on(self, item: CaseDocument) -> str | None:
        return item.issued.issued_on.isoformat() if item.issued else None

    def get_links(self, item: CaseDocument) -> dict[str, str]:
        return _links(self.context["number"], item)


class AnyContent(BaseContentNegotiation):
    """A file download answers whatever the client accepts; errors are JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class CaseDocumentsView(APIView):
    @extend_schema(operation_id="cases_documents_list", parameters=[NUMBER],
                   responses=CaseDocumentSerializer(many=True),
                   description="The official documents (公文) the case offers: its handover letter, a notice to "
                               "rectify at once, its supervision orders. A document is numbered and kept when "
                               "it is first downloaded.")
    def get(self, request: Request, number: str) -> Response:
        items = selectors.case_documents(request.user, number)  # type: ignore[arg-type]
        return Response(CaseDocumentSerializer(items, many=True, context={"number": number}).data)


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound()
    return fmt


class CaseDocumentView(APIView):
    content_negotiation_class = AnyContent

    @extend_schema(operation_id="cases_document_download", parameters=[NUMBER, KIND, FORMAT], responses=FILE)
    def get(self, request: Request, number: str, kind: str, fmt: str) -> HttpResponseBase:
        if kind not in CASE_KINDS:
            raise NotFound()
        fmt = _fmt(fmt)
        return download_response(services.case_document(number, kind, actor=request.user), fmt)  # type: ignore[arg-type]


class CaseSupervisionOrderDocumentView(APIView):
    content_negotiation_class = AnyContent

    @extend_schema(operation_id="cases_supervision_order_document_download", parameters=[NUMBER, ORDER_ID, FORMAT],
                   responses=FILE)
    def get(self, request: Request, number: str, order_id: str, fmt: str) -> HttpResponseBase:
        fmt, order = _fmt(fmt), object_id(order_id)
        return download_response(services.supervision_order_document(number, order, actor=request.user), fmt)  # type: ignore[arg-type]
