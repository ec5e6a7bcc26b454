"""Whether the 回头看 navigation entry is shown; computed only when a template asks."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def lookback(request: HttpRequest) -> dict[str, Any]:
    def visible() -> bool:
        from taizhang.cases import policies as case_policies
        from taizhang.followup.policies import VIEWING_ROLES

        user: Any = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated
                    and any(s.role in VIEWING_ROLES for s in case_policies.seats(user)))

    return {"lookback_visible": SimpleLazyObject(visible)}
