"""Error pages rendered without the request's context processors: the 500 page with the request id to quote,
and the page for a form whose CSRF token no longer matches."""

from django.http import HttpRequest, HttpResponseForbidden, HttpResponseServerError
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template.loader import render_to_string

from taizhang.core.middleware import current_request_id


def server_error(request: HttpRequest) -> HttpResponseServerError:
    return HttpResponseServerError(render_to_string("500.html", {"request_id": current_request_id.get()}))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseForbidden:
    return HttpResponseForbidden(render_to_string("403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}))
