"""Open311 GeoReport v2 under /open311/v2/ (JSON and XML). Thin: parse, call one service or
selector, render. Errors come back in the spec's shape with the matching HTTP status.

`api_key` is a personal API token (taizhang.api.tokens) of an account allowed to register cases,
e.g. a 12345 hotline integration account. Service requests are cases, so reading them needs a key
too, and each key sees what its user may see (out of scope is 404, as everywhere).
"""

import json
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from taizhang.accounts.models import User
from taizhang.api.errors import UNREADABLE_BODY, unreadable_body
from taizhang.api.open311 import selectors, serializers, services
from taizhang.api.open311.serializers import Open311Error
from taizhang.api.tokens import authenticate_token
from taizhang.core.errors import DomainError, NotFound, ValidationFailed
from taizhang.core.errors import PermissionDenied as DomainPermissionDenied

logger = logging.getLogger("taizhang.api.open311")

View = Callable[..., HttpResponse]


def open311_view(*methods: str) -> Callable[[View], View]:
    """An Open311 view answering `methods`. Every failure, a method not allowed too, comes back as
    [{"code": …, "description": …}] in the requested format."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _method_not_allowed(request, methods, fmt)
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                return serializers.render_error(fmt, error)
            except NotFound:
                return serializers.render_error(fmt, Open311Error(404, _("Not found.")))
            except DomainPermissionDenied as error:
                return serializers.render_error(fmt, Open311Error(403, str(error.message)))
            except ValidationFailed as error:
                return serializers.render_error(fmt, Open311Error(400, str(error.message)))
            except DomainError as error:
                return serializers.render_error(fmt, Open311Error(error.status, str(error.message)))
            except UNREADABLE_BODY as error:
                _code, message, status = unreadable_body(error)
                return serializers.render_error(fmt, Open311Error(status, message))

        return wrapped

    return decorate


def _method_not_allowed(request: HttpRequest, methods: tuple[str, ...], fmt: str) -> HttpResponse:
    allowed = ", ".join(methods)
    message = _("The method %(method)s is not allowed here; use %(allowed)s.") % {
        "method": request.method, "allowed": allowed}
    response = serializers.render_error(fmt, Open311Error(405, message))
    response["Allow"] = allowed
    return response


def _params(request: HttpRequest) -> Mapping[str, str]:
    """Query parameters, plus the form (or a JSON object) of a POST."""
    params: dict[str, str] = {k: str(v) for k, v in request.GET.items()}
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: too deep
                raise Open311Error(400, _("The body is not valid JSON.")) from None
            if not isinstance(body, dict):
                raise Open311Error(400, _("The body must be a JSON object."))
            params.update({str(k): "" if v is None else str(v) for k, v in body.items()})
        else:
            params.update({k: str(v) for k, v in request.POST.items()})
    return params


def _api_user(request: HttpRequest, params: Mapping[str, str]) -> User:
    raw = params.get("api_key", "")
    if not raw:
        header = request.headers.get("Authorization", "").split()
        if len(header) == 2 and header[0].lower() in ("bearer", "token"):
            raw = header[1]
    user = authenticate_token(raw) if raw else None
    if user is None:
        raise Open311Error(403, _("A valid api_key is required."))
    return user


@open311_view("GET")
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    records = [serializers.service_record(c) for c in selectors.active_categories()]
    return serializers.render(fmt, "services", records)


@open311_view("GET")
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    service = selectors.category(code)
    return serializers.render_one(fmt, "service_definition", {"service_code": str(service.pk), "attributes": []})


@csrf_exempt
@open311_view("GET", "POST")
def request_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    params = _params(request)
    user = _api_user(request, params)
    if request.method == "POST":
        return _create(user, params, fmt)
    cases = selectors.requests_for(user, serializers.parse_filters(params))
    reasons = selectors.dismissal_reasons(cases)
    return serializers.render(fmt, "service_requests", [serializers.request_record(c, reasons) for c in cases])


def _create(user: User, params: Mapping[str, str], fmt: str) -> HttpResponse:
    service_request = serializers.parse_service_request(params)
    case = services.submit_request(actor=user, request=service_request)
    notice = _("Registered as %(number)s; the supervising organisation will assess it.") % {"number": case.number}
    record = {"service_request_id": case.number, "token": services.token_for(case.number),
              "service_notice": notice, "account_id": None}
    return serializers.render(fmt, "service_requests", [record], status=201)


@open311_view("GET")
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    user = _api_user(request, _params(request))
    case = selectors.request_for(user, request_id)
    reasons = selectors.dismissal_reasons([case])
    return serializers.render(fmt, "service_requests", [serializers.request_record(case, reasons)])


@open311_view("GET")
def token_detail(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    user = _api_user(request, _params(request))
    number = services.number_for_token(token)
    if number is None:
        raise NotFound()
    case = selectors.request_for(user, number)
    return serializers.render(fmt, "service_requests", [{"service_request_id": case.number, "token": token}])
