"""The dashboard's numbers as the page, the charts and the CSV tables show them, each number with the link
to the cases behind it."""

from typing import Any

from django.utils.translation import gettext as _

from taizhang.kpis.definitions import FIGURES, Kind, Part, drill_down_value
from taizhang.kpis.query import KpiQuery, ledger_url
from taizhang.kpis.selectors import Breakdown, Dashboard, FigureValue, OrgNode, UnitKpis, month_period


def org_choices(orgs: list[OrgNode]) -> list[tuple[int, str]]:
    """The organisation picker's options, indented by depth below the shallowest."""
    top = min((o.depth for o in orgs), default=0)
    return [(o.id, "\u3000" * (o.depth - top) + o.name) for o in orgs]


def chart_titles() -> list[tuple[str, str]]:
    return [("ranking", _("Unit ranking by score")), ("trend", _("Trend by month")),
            ("category", _("Cases due by category")), ("source", _("Cases due by source")),
            ("heat", _("Overdue cases by unit and month"))]


def chart_labels() -> dict[str, str]:
    return {"score": _("Score"), "due": _("Cases due"), "late": _("Overdue cases"),
            "on_time": _("On-time completion rate"), "satisfaction": _("Satisfaction rate"),
            "save": _("Save as PNG"), "empty": _("No data in this period.")}


def _shown(figure: FigureValue) -> str:
    if figure.value is None:
        return "—"
    return f"{figure.value}%" if figure.kind == Kind.RATE else str(figure.value)


def _cell(figure: FigureValue) -> dict[str, Any]:
    return {
        "key": figure.key, "kind": figure.kind, "text": _shown(figure), "numerator": figure.numerator,
        "denominator": figure.denominator,
        "numerator_url": ledger_url(figure.cases[Part.NUMERATOR]) if Part.NUMERATOR in figure.cases else "",
        "denominator_url": ledger_url(figure.cases[Part.DENOMINATOR]),
    }


def _row(unit: UnitKpis) -> dict[str, Any]:
    return {"org_id": unit.org_id, "name": unit.org_name, "score": unit.score, "rank": unit.rank,
            "cells": [_cell(unit.figures[key]) for key in FIGURES]}


def _completion_link(org_id: int | None, data: Dashboard, item: Breakdown, figure: str = "on_time_completion",
                     month: str = "") -> str:
    period = month_period(month, data.table.period) if month else data.table.period
    return ledger_url(drill_down_value(figure, Part.DENOMINATOR, org_id, period), item.query if item else "")


def dashboard_context(data: Dashboard, query: KpiQuery) -> dict[str, Any]:
    table = data.table
    org_id = table.org.id if table.org else None
    trend_links = [_completion_link(org_id, data, b, month=b.key) for b in data.trend]
    charts = {
        "ranking": {"names": [u.org_name for u in table.units if u.score is not None],
                    "scores": [u.score for u in table.units if u.score is not None],
                    "links": [f"?{KpiQuery(u.org_id, query.start, query.end).params()}"
                              for u in table.units if u.score is not None]},
        "trend": {"months": data.months, "due": [b.due for b in data.trend], "late": [b.late for b in data.trend],
                  "on_time": [b.on_time_rate for b in data.trend],
                  "satisfaction": [data.satisfaction_by_month[m] for m in data.months], "links": trend_links},
        "category": {"names": [b.label for b in data.by_category], "due": [b.due for b in data.by_category],
                     "late": [b.late for b in data.by_category],
                     "links": [_completion_link(org_id, data, b) for b in data.by_category]},
        "source": {"names": [b.label for b in data.by_source], "due": [b.due for b in data.by_source],
                   "late": [b.late for b in data.by_source],
                   "links": [_completion_link(org_id, data, b) for b in data.by_source]},
        "heat": {"units": [name for _id, name in data.heat_units], "months": data.months,
                 "cells": [[x, y, data.heat.get(unit_id, {}).get(month, 0)]
                           for y, (unit_id, _name) in enumerate(data.heat_units)
                           for x, month in enumerate(data.months)],
                 "links": [[ledger_url(drill_down_value("overdue", Part.DENOMINATOR, unit_id,
                                                         month_period(month, table.period)))
                            for month in data.months] for unit_id, _name in data.heat_units]},
    }
    return {
        "table": table, "figures": list(FIGURES.values()), "rows": [_row(u) for u in table.units],
        "total": _row(table.total), "charts": charts, "weights": table.weights,
        "export_query": query.params(), "chart_titles": chart_titles(), "chart_labels": chart_labels(),
    }


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value}"


def csv_rows(data: Dashboard, table: str) -> list[list[Any]]:
    """The rows of one of the dashboard's tables, header first."""
    if table == "units":
        header: list[Any] = [_("Unit"), _("Score"), _("Rank")]
        for figure in FIGURES.values():
            header += [str(figure.label), f"{figure.label} · {_('numerator')}", f"{figure.label} · {_('denominator')}"]
        rows = [header]
        for unit in [*data.table.units, data.table.total]:
            line: list[Any] = [unit.org_name, _rate(unit.score), unit.rank or ""]
            for key in FIGURES:
                value = unit.figures[key]
                line += [_rate(value.value), "" if value.numerator is None else value.numerator, value.denominator]
            rows.append(line)
        return rows
    if table == "trend":
        rows = [[_("Month"), _("Cases due"), _("Overdue cases"), _("On-time completion rate"),
                 _("Satisfaction rate")]]
        return rows + [[b.key, b.due, b.late, _rate(b.on_time_rate), _rate(data.satisfaction_by_month[b.key])]
                       for b in data.trend]
    if table in ("category", "source"):
        items = data.by_category if table == "category" else data.by_source
        first = _("Category") if table == "category" else _("Source")
        rows = [[first, _("Cases due"), _("Overdue cases"), _("On-time completion rate")]]
        return rows + [[b.label, b.due, b.late, _rate(b.on_time_rate)] for b in items]
    rows = [[_("Unit"), *data.months]]
    return rows + [[name, *(data.heat.get(unit_id, {}).get(m, 0) for m in data.months)]
                   for unit_id, name in data.heat_units]
