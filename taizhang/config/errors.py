"""The site's 404 and 500 answers: the API and Open311 in their own formats, the workspace with pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from taizhang.api.errors import error_body, server_error_body
from taizhang.api.open311.serializers import Open311Error, render_error
from taizhang.core.middleware import current_request_id
from taizhang.web import errors as pages

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"


def _json(body: dict[str, object], status: int) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _open311_format(request: HttpRequest) -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(error_body("not_found", _("Not found.")), 404)
    if request.path.startswith(OPEN311_PREFIX):
        return render_error(_open311_format(request), Open311Error(404, _("Not found.")))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(server_error_body(), 500)
    if request.path.startswith(OPEN311_PREFIX):
        description = _("Something went wrong on our side. Quote the request id %(id)s to an operator.") % {
            "id": current_request_id.get()}
        return render_error(_open311_format(request), Open311Error(500, description))
    return pages.server_error(request)
