"""drf-spectacular hooks: the committed schema documents `/api/v1/` only."""

from typing import Any

Endpoint = tuple[str, str, str, Any]


def only_v1(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
