"""Downloads of a case's official documents in the workspace. Out of scope, or not offered by the case:
404. The first download issues the document; every later one returns the same file."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.documents import services
from taizhang.documents.downloads import download_response


def _download(request: HttpRequest, number: str, respond: Callable[[], HttpResponse]) -> HttpResponse:
    try:
        return respond()
    except NotFound:
        raise Http404() from None
    except ValidationFailed as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("web:case", args=[number]))


@login_required
@require_GET
def case_document(request: HttpRequest, number: str, kind: str, fmt: str) -> HttpResponse:
    user: Any = request.user
    return _download(request, number,
                     lambda: download_response(services.case_document(number, kind, actor=user), fmt))


@login_required
@require_GET
def supervision_order_document(request: HttpRequest, number: str, order_id: str, fmt: str) -> HttpResponse:
    user: Any = request.user
    return _download(request, number, lambda: download_response(
        services.supervision_order_document(number, int(order_id), actor=user), fmt))
