"""Scoped reads for the Open311 endpoint. Service requests are cases, always read through
`policies.scope()`; services are the active categories (public reference data)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.cases import policies
from taizhang.cases.models import Case, Category
from taizhang.cases.workflow import State
from taizhang.core import clock
from taizhang.core.errors import NotFound

CLOSED_STATES = (State.CLOSED, State.DISMISSED, State.MERGED)
MAX_REQUESTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)


@dataclass(frozen=True)
class RequestFilters:
    request_ids: tuple[str, ...] = ()
    service_codes: tuple[int, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()  # "open", "closed"


def active_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).select_related("parent").order_by("path"))


def category(code: str) -> Category:
    try:
        return Category.objects.get(pk=int(code), is_active=True)
    except (ValueError, Category.DoesNotExist):
        raise NotFound() from None


def _base(user: User) -> QuerySet[Case]:
    return policies.scope(user).select_related("category", "responsible_org", "supervising_org", "merged_into",
                                               "service_request_location")


def requests_for(user: User, filters: RequestFilters) -> list[Case]:
    """Up to MAX_REQUESTS cases visible to `user`, newest first. Explicit ids override every other
    filter (as the spec says); otherwise the window defaults to the last 90 days."""
    cases = _base(user)
    if filters.request_ids:
        return list(cases.filter(number__in=filters.request_ids)[:MAX_REQUESTS])
    end = filters.end or clock.now()
    start = filters.start or end - DEFAULT_WINDOW
    cases = cases.filter(created_at__gte=start, created_at__lte=end)
    if filters.service_codes:
        cases = cases.filter(category_id__in=filters.service_codes)
    if set(filters.statuses) == {"closed"}:
        cases = cases.filter(state__in=[s.value for s in CLOSED_STATES])
    elif set(filters.statuses) == {"open"}:
        cases = cases.exclude(state__in=[s.value for s in CLOSED_STATES])
    return list(cases.order_by("-created_at", "-pk")[:MAX_REQUESTS])


def request_for(user: User, number: str) -> Case:
    """The case with this number if `user` may see it; otherwise NotFound."""
    try:
        return _base(user).get(number=number)
    except Case.DoesNotExist:
        raise NotFound() from None


def dismissal_reasons(cases: list[Case]) -> dict[str, str]:
    """The reason given when each dismissed case was dismissed (one query for the lot)."""
    numbers = [c.number for c in cases if c.state == State.DISMISSED]
    if not numbers:
        return {}
    reasons: dict[str, str] = {}
    events = AuditEvent.objects.filter(object_type="case", object_id__in=numbers, action="case.dismissed")
    for number, after in events.order_by("seq").values_list("object_id", "after"):
        data: Any = after
        if isinstance(data, dict) and data.get("reason"):
            reasons[number] = str(data["reason"])
    return reasons
