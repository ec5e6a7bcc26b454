"""The dashboard's and the API's parameters: `org` (an organisation id, empty for everything the user may
see), `from` and `to` (ISO dates, both included; by default this year up to today)."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.core import clock
from taizhang.core.errors import ValidationFailed
from taizhang.kpis.definitions import DRILL_DOWN_PARAMETER


@dataclass(frozen=True)
class KpiQuery:
    org: int | None
    start: dt.date
    end: dt.date

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "KpiQuery":
        today = clock.today()
        start = _date(params.get("from"), "from") or today.replace(month=1, day=1)
        return cls(org=_org(params.get("org")), start=start, end=_date(params.get("to"), "to") or today)

    def params(self, **extra: Any) -> str:
        values: dict[str, Any] = {"org": self.org or "", "from": self.start.isoformat(), "to": self.end.isoformat()}
        return urlencode({**values, **extra})


def _org(raw: Any) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise ValidationFailed(_("Choose an organisation from the list."), code="validation.invalid_filter",
                               field="org")
    return int(text)


def _date(raw: Any, name: str) -> dt.date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Enter a date such as 2026-01-31."), code="validation.invalid_date",
                               field=name) from None


def ledger_url(drill_down: str, extra: str = "") -> str:
    """The ledger restricted to the cases behind a number (and to `extra` ledger parameters)."""
    query = urlencode({DRILL_DOWN_PARAMETER: drill_down})
    return f"{reverse('web:ledger')}?{query}{'&' + extra if extra else ''}"


def api_cases_url(drill_down: str) -> str:
    return f"{reverse('api:cases')}?{urlencode({DRILL_DOWN_PARAMETER: drill_down})}"
