"""Template context shared by every workspace page. Values are computed only when a template uses them."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def workspace(request: HttpRequest) -> dict[str, Any]:
    def can_register() -> bool:
        from taizhang.cases import policies

        user: Any = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and policies.registering_seat(user) is not None)

    return {"workspace_can_register": SimpleLazyObject(can_register)}
