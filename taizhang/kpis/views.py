"""The KPI dashboard (web) and its CSV tables. Thin: parse, call one selector, render."""

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.kpis import presentation, selectors
from taizhang.kpis.query import KpiQuery

TABLES = ("units", "trend", "category", "source", "heat")


def _query(request: HttpRequest) -> KpiQuery:
    user: Any = request.user
    query = KpiQuery.from_params(request.GET)
    if "org" not in request.GET:
        opening = selectors.default_org(user)
        query = KpiQuery(org=opening.id if opening else None, start=query.start, end=query.end)
    return query


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not selectors.may_see_kpis(user):
        raise Http404(_("Not found."))
    orgs = presentation.org_choices(selectors.kpi_orgs(user))
    try:
        query = _query(request)
        data = selectors.dashboard(user, org=query.org, start=query.start, end=query.end)
    except NotFound:
        raise Http404(_("Not found.")) from None
    except ValidationFailed as error:
        return render(request, "kpis/dashboard.html", {"org_choices": orgs, "errors": [str(error.message)],
                                                       "params": request.GET}, status=422)
    return render(request, "kpis/dashboard.html", {
        "org_choices": orgs, "query": query, "params": request.GET, **presentation.dashboard_context(data, query)})


@login_required
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One of the dashboard's tables as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    user: Any = request.user
    if table not in TABLES or not selectors.may_see_kpis(user):
        raise Http404(_("Not found."))
    try:
        query = _query(request)
        data = selectors.dashboard(user, org=query.org, start=query.start, end=query.end)
    except NotFound:
        raise Http404(_("Not found.")) from None
    except ValidationFailed as error:
        return HttpResponse(str(error.message), status=422, content_type="text/plain; charset=utf-8")
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(presentation.csv_rows(data, table))
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    name = f"kpi-{table}-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
