"""The ledger list (台账): filters and pages come from taizhang.cases.listing; this module only
shapes the request and the columns of DESIGN.md §5."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from taizhang.cases import listing
from taizhang.cases.models import Case
from taizhang.cases.workflow import Clock, State
from taizhang.core.errors import ValidationFailed
from taizhang.orgs.models import EnterpriseTag
from taizhang.web import selectors

COLUMNS: list[tuple[str, Any]] = [
    ("number", _("Case number")),
    ("source", _("Source (round)")),
    ("category", _("Category")),
    ("title", _("Specific manifestation of the problem")),
    ("enterprises", _("Enterprise / requester")),
    ("mode", _("Rectify at once?")),
    ("goal", _("Rectification goal / measures")),
    ("responsible_leader", _("Responsible leader")),
    ("units", _("Responsible unit (lead) + co-handling units")),
    ("responsible_person", _("Responsible person")),
    ("deadline", _("Rectification deadline")),
    ("progress", _("Progress")),
    ("state", _("Completion / state")),
    ("evidence", _("Evidence")),
    ("institution_building", _("Rules and institutions built")),
    ("acceptance", _("Acceptance opinion / by")),
    ("closure", _("Closure (date / sign-off)")),
    ("followup", _("Follow-up / re-check result")),
    ("remarks", _("Remarks")),
]
DEFAULT_COLUMNS = ["number", "source", "category", "title", "enterprises", "units", "deadline", "progress", "state"]
SORTS: list[tuple[str, Any]] = [
    ("-created", _("Newest first")), ("created", _("Oldest first")),
    ("deadline", _("Deadline, earliest first")), ("-deadline", _("Deadline, latest first")),
    ("number", _("Case number, ascending")), ("-number", _("Case number, descending")),
]
EXTRA_COLUMNS = {"goal", "responsible_leader", "responsible_person", "evidence", "institution_building",
                 "acceptance", "closure", "followup", "remarks"}


def chinese_or_local_date(day: Any) -> str:
    return date_format(day) if day else ""


def _case_links() -> Callable[[str], str]:
    """The case page URL of a case number, reversed once per page rather than once per row."""
    placeholder = "~number~"
    template = reverse("web:case", args=[placeholder])
    # Escaped as `reverse` escapes a path argument.
    return lambda number: template.replace(placeholder, quote(number, safe="!$&'()*+,;=~:@"), 1)


def _cell(key: str, row: dict[str, Any], extra: dict[str, Any], case_link: Callable[[str], str]) -> dict[str, Any]:
    """One table cell: text, an optional link and a CSS class."""
    text: Any = ""
    href = cls = ""
    match key:
        case "number":
            text, href = row["number"], case_link(row["number"])
        case "source":
            text = row["source_label"] + (f"（{row['inspection_round__name']}）" if row.get("inspection_round__name")
                                          else "")
        case "category":
            text = row.get("category__name") or ""
        case "title":
            text = row["title"]
        case "enterprises":
            text = "、".join(row.get("enterprise_names") or [])
        case "mode":
            if row.get("mode"):
                text = gettext_now("Yes") if row["mode"] == "immediate" else gettext_now("No")
        case "units":
            lead = "、".join(row.get("lead_org_names") or [])
            co = "、".join(row.get("co_org_names") or [])
            text = lead + (f" + {co}" if co else "")
        case "deadline":
            text = chinese_or_local_date(row.get("deadline_on"))
            if "completion" in row.get("overdue", []):
                cls, text = "overdue", f"{text} {gettext_now('overdue')}"
        case "progress":
            text = row.get("progress_summary") or ""
        case "state":
            text = row["state_label"]
            if row.get("escalation_level"):
                text = f"{text} · {gettext_now('escalation level %(n)s') % {'n': row['escalation_level']}}"
            if row.get("overdue"):
                cls = "overdue"
        case "evidence":
            count = extra.get("evidence_count", 0)
            text = gettext_now("%(n)s files") % {"n": count} if count else ""
        case "acceptance":
            text = extra.get("acceptance", "")
        case "closure":
            if extra.get("closed_at"):
                signer = extra.get("closed_by__display_name") or ""
                text = " ".join(part for part in (chinese_or_local_date(extra["closed_at"].date()), signer,
                                                  extra.get("closure_opinion", "")) if part)
        case "followup":
            text = "；".join(x for x in (extra.get("followup", ""), extra.get("recheck", "")) if x)
        case _:
            text = extra.get(key, "")
    return {"key": key, "text": text, "href": href, "cls": cls}
PAGE_SIZE = 50
ORG_ROLE_CHOICES = [("any", _("Any role")), ("responsible", _("Main responsibility")), ("lead", _("Lead unit")),
                    ("co", _("Co-handling unit"))]


def ledger_context(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    columns = selectors.ledger_columns(user, DEFAULT_COLUMNS)
    query = request.GET.copy()
    cursor = query.pop("cursor", [""])[-1] or None
    order = query.get("order") or "-created"
    if order not in dict(SORTS):
        order = "-created"
    filter_query = query.copy()
    filter_query.pop("order", None)
    context: dict[str, Any] = {
        "columns": [(key, label) for key, label in COLUMNS if key in columns],
        "all_columns": COLUMNS, "chosen_columns": columns, "sorts": SORTS, "order": order,
        "query_string": query.urlencode(), "selected_states": query.getlist("state"), "params": query,
        "saved": selectors.saved_filters(user),
        "categories": selectors.categories(), "orgs": selectors.handover_orgs(),
        "rounds": selectors.rounds_for(user), "errors": [], "rows": [], "next_url": "",
        "states": [(st.value, st.label) for st in State], "sources": Case.Source.choices,
        "modes": Case.Mode.choices, "tags": EnterpriseTag.Tag.choices,
        "clocks": [(c.value, c.label) for c in Clock], "org_roles": ORG_ROLE_CHOICES,
    }
    try:
        filters = listing.LedgerFilters.from_query(filter_query)
        page = listing.ledger_page(user, filters, cursor=cursor, limit=PAGE_SIZE, order=order)
    except ValidationFailed as error:
        context["errors"] = [str(error.message)]
        context["status"] = 422
        return context
    shown = [key for key, _label in COLUMNS if key in columns]
    extras = selectors.ledger_extras(user, [row["id"] for row in page.rows], set(shown) & EXTRA_COLUMNS) \
        if set(shown) & EXTRA_COLUMNS else {}
    case_link = _case_links()
    context["rows"] = [{"id": row["id"], "cells": [_cell(key, row, extras.get(row["id"], {}), case_link)
                                                   for key in shown]}
                       for row in page.rows]
    if page.has_more and page.next_cursor:
        next_query = query.copy()
        next_query["cursor"] = page.next_cursor
        context["next_url"] = "?" + next_query.urlencode()
    context["first_url"] = "?" + query.urlencode() if cursor else ""
    context["export_query"] = urlencode([(k, v) for k, vs in filter_query.lists() for v in vs])
    return context
