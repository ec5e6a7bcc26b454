"""One JSON error shape for the whole API: `{"error": {"code": ..., "message": ..., ...extra}}`.

Codes are stable; messages are translated. No stack trace or SQL ever reaches a response: anything
unexpected becomes a 500 with code `server_error` and the request id to quote to an operator.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from taizhang.core.errors import DomainError
from taizhang.core.middleware import current_request_id

logger = logging.getLogger("taizhang.api")

DRF_CODES: dict[type[exceptions.APIException], tuple[str, int]] = {
    exceptions.NotAuthenticated: ("auth.not_authenticated", status.HTTP_401_UNAUTHORIZED),
    exceptions.AuthenticationFailed: ("auth.invalid_token", status.HTTP_401_UNAUTHORIZED),
    exceptions.PermissionDenied: ("auth.permission_denied", status.HTTP_403_FORBIDDEN),
    exceptions.NotFound: ("not_found", status.HTTP_404_NOT_FOUND),
    exceptions.MethodNotAllowed: ("http.method_not_allowed", status.HTTP_405_METHOD_NOT_ALLOWED),
    exceptions.NotAcceptable: ("http.not_acceptable", status.HTTP_406_NOT_ACCEPTABLE),
    exceptions.UnsupportedMediaType: ("http.unsupported_media_type", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    exceptions.ParseError: ("validation.malformed_body", status.HTTP_400_BAD_REQUEST),
    exceptions.Throttled: ("http.throttled", status.HTTP_429_TOO_MANY_REQUESTS),
}


def error_body(code: str, message: Any, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), **extra}}


# Bodies Django refuses to read: larger than DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields or files.
UNREADABLE_BODY = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def unreadable_body(exc: Exception) -> tuple[str, str, int]:
    """The code, message and status that answer one of UNREADABLE_BODY."""
    if isinstance(exc, RequestDataTooBig):
        return "http.payload_too_large", _("The request body is larger than the %(limit).0f MB allowed.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20}, 413
    return "validation.malformed_body", _("The request has more fields or files than allowed."), 400


def server_error_body() -> dict[str, Any]:
    return error_body("server_error", _("Something went wrong on our side. Quote the request id to an operator."),
                      request_id=current_request_id.get())


def error_response(code: str, message: Any, status: int, **extra: Any) -> Response:
    """A response in the API's error shape, for modules that answer errors themselves."""
    return Response(error_body(code, message, **extra), status=status)


def _flatten(detail: Any) -> Any:
    """DRF error details as plain strings (lists and nested dicts kept)."""
    if isinstance(detail, Mapping):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [_flatten(v) for v in detail]
    return str(detail)


def _django_validation(exc: DjangoValidationError) -> Response:
    codes = [getattr(e, "code", None) for e in exc.error_list] if not hasattr(exc, "error_dict") else []
    if hasattr(exc, "error_dict"):
        fields = {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
        codes = [getattr(e, "code", None) for errors in exc.error_dict.values() for e in errors]
        if "credit_code_invalid" in codes:
            return error_response("validation.credit_code_invalid", fields.get("credit_code", [""])[0] or
                                  _("The unified social credit code is invalid."), 422, field="credit_code",
                                  fields=fields)
        return error_response("validation.invalid", _("The submitted data is invalid."), 422, fields=fields)
    messages = [str(m) for m in exc.messages]
    if "credit_code_invalid" in codes:
        return error_response("validation.credit_code_invalid", messages[0], 422, field="credit_code")
    return error_response("validation.invalid", messages[0] if messages else _("The submitted data is invalid."),
                          422)


def _credit_code_field(detail: Any) -> str | None:
    """The field whose DRF validation error came from the credit-code validator, if any."""
    if not isinstance(detail, Mapping):
        return None
    for name, errors in detail.items():
        items = errors if isinstance(errors, list) else [errors]
        if any(getattr(e, "code", None) == "credit_code_invalid" for e in items):
            return str(name)
    return None


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error of the API in one shape."""
    response = _handle(exc)
    set_rollback()
    if isinstance(exc, exceptions.APIException):
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait:
            response["Retry-After"] = str(int(wait))
    return response


def _handle(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return _django_validation(exc)
    if isinstance(exc, UNREADABLE_BODY):
        return error_response(*unreadable_body(exc))
    if isinstance(exc, Http404):
        return error_response("not_found", _("Not found."), 404)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response("auth.permission_denied", _("You do not have permission to do this."), 403)
    if isinstance(exc, exceptions.ValidationError):
        field = _credit_code_field(exc.detail)
        fields = _flatten(exc.detail)
        if field is not None:
            message = fields[field][0] if isinstance(fields.get(field), list) else fields.get(field)
            return error_response("validation.credit_code_invalid", message, 422, field=field, fields=fields)
        if isinstance(fields, dict):
            first = next(iter(fields), None)
            return error_response("validation.invalid", _("The submitted data is invalid."), 422,
                                  fields=fields, **({"field": first} if first else {}))
        return error_response("validation.invalid", _("The submitted data is invalid."), 422, errors=fields)
    if isinstance(exc, exceptions.APIException):
        code, status_code = DRF_CODES.get(type(exc), (None, exc.status_code))
        if code is None:
            for klass, (mapped, mapped_status) in DRF_CODES.items():
                if isinstance(exc, klass):
                    code, status_code = mapped, mapped_status
                    break
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
            detail_code = exc.get_codes()
            if isinstance(detail_code, str) and detail_code.startswith("auth."):
                code = detail_code
        if isinstance(exc, exceptions.ParseError):  # its detail is the parser's English, e.g. "JSON parse error - …"
            return error_response(code or "error", _("The request body is malformed and could not be read."),
                                  status_code)
        return error_response(code or "error", _flatten(exc.detail), status_code)
    logger.exception("Unhandled error in the API", exc_info=exc)
    return Response(server_error_body(), status=500)
