from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def kpis(request: HttpRequest) -> dict[str, Any]:
    """Whether the navigation offers the dashboard; computed only when a template asks."""
    def available() -> bool:
        from taizhang.kpis.selectors import may_see_kpis

        user: Any = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and may_see_kpis(user))

    return {"kpis_available": SimpleLazyObject(available)}
