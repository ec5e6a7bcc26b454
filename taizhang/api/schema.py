"""drf-spectacular hooks: the committed schema documents `/api/v1/` only, and every operation
documents the error responses it can give, in the one error shape."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

Endpoint = tuple[str, str, str, Any]

COMMON_ERRORS = {
    400: "Malformed request body.",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "Authenticated, but not allowed.",
    404: "Not found, or out of your scope.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    415: "Unsupported media type.",
    422: "Invalid input.",
}
WRITE_ERRORS = {409: "Conflict: illegal transition or stale version.", 413: "Request body too large."}


def only_v1(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


class TaizhangAutoSchema(AutoSchema):
    """Adds the error responses (in the shared error shape) to every operation."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        from taizhang.api.serializers import ErrorSerializer

        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors.update(WRITE_ERRORS)
        for status, description in errors.items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    OpenApiResponse(response=ErrorSerializer, description=description), str(status),
                    direction=direction)
        return responses
