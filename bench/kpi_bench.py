"""Benchmark: the KPI dashboard's queries (`kpis.selectors.dashboard`) over 1M cases on PostgreSQL, next to
bare SQL, measured in the same run (interleaved, same connection).

The dashboard side pays what a dashboard request pays for its data: the user's seats and organisations,
the settings row, the check for pending cases, then its reads of the roll-up (`kpis.rollup`: the figures
per unit, the months, the breakdowns by category and by source) and the arithmetic in Python. Two bare
baselines run beside it:

- facts: the same aggregates written by hand as GROUP BYs over the fact tables (what a dashboard without
  the roll-up has to compute), grouped by organisation id;
- cells: the roll-up's four reads written by hand (what the dashboard's own SQL costs without the ORM and
  the Python around it).

Prints the median and p95 per dashboard load and the ratios, for a city supervisor (everything) over a
quarter and over a year, and for one district over a year; and, when it builds the roll-up, how long
folding every case took.

    .venv/bin/python bench/kpi_bench.py                      # postgres://…/taizhang_kpi_bench
    .venv/bin/python bench/kpi_bench.py --repeat 5

The scratch database is migrated and filled once with `synthetic.generate()` in chunks of 100 000; with
`--clone-to N` the generated cases (and their facts) are copied in SQL until there are N, which is much
faster than generating them (the copies repeat the same timeline); the clone bypasses the services, so
the roll-up is then rebuilt (`taizhang kpi-rollup --rebuild`). Later runs reuse the database as it is.
Targets: under 1 s per dashboard load, within 3× of the bare queries.
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/taizhang_kpi_bench"
CHUNK = 100_000
FACT_TABLES = ("cases_assignment", "cases_followup", "cases_acceptance", "cases_recheck", "sla_escalation")


def setup(url: str) -> None:
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", url.rsplit("/", 1)[1]], capture_output=True,
                   check=False)
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("TAIZHANG_VAR_DIR", "/tmp/taizhang-kpi-bench-var")
    os.environ.setdefault("TAIZHANG_MEDIA_ROOT", "/tmp/taizhang-kpi-bench-media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    import django

    django.setup()


def _columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                       "ORDER BY ordinal_position", [table])
        return [row[0] for row in cursor.fetchall()]


def clone(target: int) -> None:
    """Copy the generated cases and their facts in SQL until there are `target` cases."""
    from django.db import connection, transaction

    from taizhang.cases.models import Case

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id), count(*) FROM cases_case")
        top, have = cursor.fetchone()
    originals = have
    copy = 0
    while have < target:
        copy += 1
        take = min(originals, target - have)
        offset = top * copy
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cols = _columns("cases_case")
            values = [f"id + {offset}" if c == "id" else f"number || '~{copy}'" if c == "number" else c for c in cols]
            cursor.execute(f"INSERT INTO cases_case ({', '.join(cols)}) SELECT {', '.join(values)} FROM cases_case "
                           f"WHERE id <= %s ORDER BY id LIMIT %s", [top, take])
            for table in FACT_TABLES:
                cols = [c for c in _columns(table) if c != "id"]
                values = [f"case_id + {offset}" if c == "case_id" else c for c in cols]
                cursor.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(values)} FROM {table} t "
                               f"WHERE t.case_id <= %s AND t.case_id + {offset} IN "
                               f"(SELECT id FROM cases_case WHERE id > %s)", [top, offset])
            cursor.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
                           "(SELECT max(id) FROM cases_case))")
        have = Case.objects.count()
        print(f"  copy {copy}: {have} cases ({time.perf_counter() - started:.0f} s)", flush=True)


def prepare(cases: int, seed: int, clone_to: int) -> None:
    """Migrate and fill the scratch database once; an existing one is reused as it is."""
    from django.core.management import call_command
    from django.db import connection

    from taizhang.cases.models import Case
    from taizhang.cases.synthetic import generate
    from taizhang.kpis import rollup
    from taizhang.kpis.models import KpiCell, KpiPending

    call_command("migrate", verbosity=0)
    have = Case.objects.count()
    if have == 0:
        print(f"generating {cases} cases (seed {seed}) …", flush=True)
        started = time.perf_counter()
        while have < cases:
            result = generate(min(CHUNK, cases - have), seed + have)
            have = Case.objects.count()
            print(f"  {have} cases ({result.per_second:.0f}/s)", flush=True)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    if clone_to > have:
        print(f"copying cases up to {clone_to} …", flush=True)
        clone(clone_to)
    if KpiPending.objects.count() > rollup.READ_FOLD_LIMIT or not KpiCell.objects.exists():
        print("building the roll-up …", flush=True)
        started = time.perf_counter()
        folded = rollup.rebuild()
        seconds = time.perf_counter() - started
        print(f"  {folded} cases folded in {seconds:.0f} s ({folded / seconds:.0f}/s), "
              f"{KpiCell.objects.count()} cells", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the raw side --------------------------------------------------------------------------------

LIVE = "('pending', 'signed', 'done')"
LOCAL = "AT TIME ZONE 'Asia/Shanghai'"
LEAD_JOIN = f"JOIN cases_assignment a ON a.case_id = f.case_id AND a.role = 'lead' AND a.status IN {LIVE} "


def raw_queries(scope_ids: list[int], org_ids: list[int] | None, start: dt.date, end: dt.date,
                now: dt.datetime) -> list[tuple[str, list[Any]]]:
    """The dashboard's aggregates written by hand: (sql, params) each."""
    from django.utils import timezone

    first = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    after = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    today = timezone.localdate(now)
    scope = "c.supervising_org_id = ANY(%s)"
    org = " AND a.org_id = ANY(%s)" if org_ids is not None else ""
    orgs: list[Any] = [org_ids] if org_ids is not None else []

    def fact(table: str, when: str, counts: str) -> tuple[str, list[Any]]:
        return (f"SELECT a.org_id, {counts} FROM {table} f {LEAD_JOIN} JOIN cases_case c ON c.id = f.case_id "
                f"WHERE f.{when} >= %s AND f.{when} < %s AND {scope}{org} GROUP BY a.org_id",
                [first, after, scope_ids, *orgs])

    sign_for_where = (f"FROM cases_assignment a JOIN cases_case c ON c.id = a.case_id WHERE a.status IN {LIVE} "
                      f"AND a.sign_for_due_at >= %s AND a.sign_for_due_at < %s "
                      f"AND (a.signed_at IS NOT NULL OR a.sign_for_due_at < %s) AND {scope}{org}")
    late_sign_for = "a.signed_at IS NULL OR a.signed_at > a.sign_for_due_at"
    sign_for_params = [first, after, now, scope_ids, *orgs]
    lead = f"FROM cases_assignment a JOIN cases_case c ON c.id = a.case_id WHERE a.role = 'lead' AND a.status IN {LIVE}"
    completion_where = (f"{lead} AND c.deadline_on >= %s AND c.deadline_on <= %s "
                        f"AND (a.completed_at IS NOT NULL OR c.deadline_on < %s) AND {scope}{org}")
    completion_params = [start, end, today, scope_ids, *orgs]
    late = f"a.completed_at IS NULL OR (a.completed_at {LOCAL})::date > c.deadline_on"
    handled = (f"{lead} AND a.signed_at IS NOT NULL AND a.completed_at >= %s AND a.completed_at < %s "
               f"AND {scope}{org}")
    handled_params = [first, after, scope_ids, *orgs]
    followed_up = ("EXISTS (SELECT 1 FROM cases_followup x WHERE x.case_id = f.case_id "
                   "AND x.recorded_at >= f.decided_at AND x.solved <> 'unreachable')")
    return [
        (f"SELECT a.org_id, count(DISTINCT a.case_id), count(DISTINCT a.case_id) FILTER (WHERE {late_sign_for}) "
         f"{sign_for_where} GROUP BY a.org_id", sign_for_params),
        (f"SELECT count(DISTINCT a.case_id), count(DISTINCT a.case_id) FILTER (WHERE {late_sign_for}) "
         f"{sign_for_where}", sign_for_params),
        (f"SELECT a.org_id, count(*), count(*) FILTER (WHERE {late}) {completion_where} GROUP BY a.org_id",
         completion_params),
        (f"SELECT a.org_id, count(*) {handled} GROUP BY a.org_id", handled_params),
        (f"SELECT a.org_id, (a.completed_at {LOCAL})::date, count(*) {handled} GROUP BY 1, 2", handled_params),
        (f"SELECT a.org_id, (a.signed_at {LOCAL})::date, count(*) {handled} GROUP BY 1, 2", handled_params),
        fact("cases_followup", "recorded_at",
             "count(DISTINCT f.case_id) FILTER (WHERE f.solved <> 'unreachable'), "
             "count(DISTINCT f.case_id) FILTER (WHERE f.solved = 'solved'), "
             "count(DISTINCT f.case_id) FILTER (WHERE f.satisfaction IS NOT NULL), "
             "count(DISTINCT f.case_id) FILTER (WHERE f.satisfaction >= 4)"),
        fact("cases_acceptance", "decided_at",
             "count(DISTINCT f.case_id) FILTER (WHERE f.verdict = 'passed'), "
             f"count(DISTINCT f.case_id) FILTER (WHERE f.verdict = 'passed' AND {followed_up}), "
             "count(DISTINCT f.case_id), count(DISTINCT f.case_id) FILTER (WHERE f.verdict = 'rework')"),
        fact("cases_recheck", "checked_at",
             "count(DISTINCT f.case_id), count(DISTINCT f.case_id) FILTER (WHERE NOT f.held)"),
        fact("sla_escalation", "created_at",
             ", ".join(f"count(DISTINCT f.case_id) FILTER (WHERE f.level = {n})" for n in (1, 2, 3))),
        (f"SELECT a.org_id, date_trunc('month', c.deadline_on), c.category_id, c.source, count(*), "
         f"count(*) FILTER (WHERE {late}) {completion_where} GROUP BY 1, 2, 3, 4", completion_params),
        (f"SELECT date_trunc('month', f.recorded_at {LOCAL}), count(DISTINCT f.case_id) FILTER (WHERE "
         f"f.satisfaction IS NOT NULL), count(DISTINCT f.case_id) FILTER (WHERE f.satisfaction >= 4) "
         f"FROM cases_followup f {LEAD_JOIN} JOIN cases_case c ON c.id = f.case_id "
         f"WHERE f.recorded_at >= %s AND f.recorded_at < %s AND {scope}{org} GROUP BY 1",
         [first, after, scope_ids, *orgs]),
    ]


def raw_cell_queries(scope_ids: list[int], places: list[int], whole: int, start: dt.date, end: dt.date
                     ) -> list[tuple[str, list[Any]]]:
    """The dashboard's reads of the roll-up written by hand: the figures per place, the months, and the
    breakdowns by category and by source, over the same cells (`rollup.period_parts`)."""
    from taizhang.kpis.definitions import Period
    from taizhang.kpis.rollup import period_parts

    parts = period_parts(Period(start, end))
    ranges = " OR ".join(["(span = %s AND day BETWEEN %s AND %s)"] * len(parts))
    taken = [p for p in parts if p.taken]
    sign = " OR ".join(["(span = %s AND day BETWEEN %s AND %s)"] * len(taken)) or "false"
    total = f"sum(CASE WHEN {sign} THEN -n ELSE n END)"
    where = f"({ranges}) AND supervising_org_id = ANY(%s)"
    sign_params: list[Any] = [value for p in taken for value in (p.span, p.first, p.last)]
    params: list[Any] = [*(value for p in parts for value in (p.span, p.first, p.last)), scope_ids]
    return [
        (f"SELECT key, org_id, own, {total} FROM kpis_kpicell WHERE {where} AND since < %s AND org_id = ANY(%s) "
         f"AND position(':' in key) = 0 GROUP BY 1, 2, 3", [*sign_params, *params, start, [*places, whole]]),
        (f"SELECT key, org_id, own, date_trunc('month', day), since, {total} FROM kpis_kpicell WHERE {where} "
         f"AND org_id = ANY(%s) AND key = ANY(%s) GROUP BY 1, 2, 3, 4, 5",
         [*sign_params, *params, [*places, whole], ["on_time_completion__den", "overdue__den", "satisfaction__den",
                                                    "satisfaction__num@3", "satisfaction__num@4"]]),
        *((f"SELECT key, {column}, {total} FROM kpis_kpicell WHERE {where} AND since < %s AND org_id = %s "
           f"AND NOT own AND key = ANY(%s) GROUP BY 1, 2",
           [*sign_params, *params, start, whole, [f"completion__due:{dims}", f"completion__late:{dims}"]])
          for column, dims in (("category_id", "category"), ("source", "source"))),
    ]


def run_raw(queries: list[tuple[str, list[Any]]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            cursor.fetchall()


# --- measuring -----------------------------------------------------------------------------------

def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def p95(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]


def compare(label: str, dashboard: Callable[[], Any], cells: Callable[[], Any], facts: Callable[[], Any],
            repeat: int, facts_repeat: int, warm_up: bool = True) -> dict[str, float]:
    if warm_up:
        dashboard()
        cells()
        facts()
    samples: dict[str, list[float]] = {"dashboard": [], "cells": [], "facts": []}
    for round_ in range(repeat):
        samples["dashboard"].append(timed(dashboard))
        samples["cells"].append(timed(cells))
        if round_ < facts_repeat:
            samples["facts"].append(timed(facts))
    figures = {name: statistics.median(values) for name, values in samples.items()}
    figures["dashboard_p95"] = p95(samples["dashboard"])
    figures["ratio_cells"] = figures["dashboard"] / figures["cells"]
    figures["ratio_facts"] = figures["dashboard"] / figures["facts"]
    print(f"{label:<40} dashboard {figures['dashboard']:7.1f} ms (p95 {figures['dashboard_p95']:7.1f})   "
          f"bare SQL on the cells {figures['cells']:6.1f} ms (ratio {figures['ratio_cells']:4.2f})   "
          f"bare GROUP BY on the facts {figures['facts']:8.1f} ms (ratio {figures['ratio_facts']:5.3f})", flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to generate into an empty database")
    parser.add_argument("--clone-to", type=int, default=1_000_000, help="copy cases in SQL up to this many")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--facts-repeat", type=int, default=3, help="runs of the (slow) bare GROUP BY on the facts")
    parser.add_argument("--scenario", type=int, action="append", choices=[1, 2, 3],
                        help="run only these scenarios (1 quarter, 2 year, 3 district); default all")
    parser.add_argument("--no-warm-up", action="store_true")
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args(argv)
    setup(args.db)
    prepare(args.cases, args.seed, args.clone_to)
    if args.prepare_only:
        return

    from django.db import connection

    from taizhang.accounts.models import User
    from taizhang.cases import policies
    from taizhang.cases.models import Case
    from taizhang.core import clock
    from taizhang.kpis import selectors
    from taizhang.kpis.definitions import subtree_ids
    from taizhang.kpis.models import KpiCell
    from taizhang.orgs.models import Organisation

    if connection.vendor != "postgresql":
        sys.exit("This benchmark measures PostgreSQL: pass --db postgres://…")
    supervisor = User.objects.get(username="supervisor")
    district = Organisation.objects.get(name="净月区党工委")
    scope_ids = sorted({pk for seat in policies.seats(supervisor) for pk in subtree_ids(seat.org_id)})
    now = clock.now()
    today = clock.today()
    print(f"postgresql: {Case.objects.count()} cases, {policies.scope(supervisor).count()} visible to the "
          f"supervisor, {KpiCell.objects.count()} roll-up cells; median of {args.repeat} loads after a warm-up "
          f"({args.facts_repeat} of the bare GROUP BY on the facts)", flush=True)
    results = []
    scenarios = (("city supervisor, everything, a quarter", None, 91),
                 ("city supervisor, everything, a year", None, 365),
                 ("city supervisor, one district, a year", district, 365))
    for number, (label, org, days) in enumerate(scenarios, start=1):
        if args.scenario and number not in args.scenario:
            continue
        start = today - dt.timedelta(days=days - 1)
        org_ids = subtree_ids(org.pk) if org else None

        units = [u.org_id or 0 for u in selectors.kpi_table(supervisor, org=org, start=start, end=today).units]

        def dashboard(org: Organisation | None = org, start: dt.date = start) -> None:
            policies.forget_seats(supervisor)
            selectors.dashboard(supervisor, org=org, start=start, end=today)

        def cells(units: list[int] = units, org: Organisation | None = org, start: dt.date = start) -> None:
            run_raw(raw_cell_queries(scope_ids, units, org.pk if org else 0, start, today))

        def facts(org_ids: list[int] | None = org_ids, start: dt.date = start) -> None:
            run_raw(raw_queries(scope_ids, org_ids, start, today, now))

        results.append(compare(label, dashboard, cells, facts, args.repeat, args.facts_repeat,
                               warm_up=not args.no_warm_up))
    worst = max(r["dashboard"] for r in results)
    ratio = max(r["ratio_cells"] for r in results)
    print(f"slowest dashboard load {worst:.0f} ms (target < 1000); highest ratio to the bare SQL on the cells "
          f"{ratio:.2f}, to the bare GROUP BY on the facts {max(r['ratio_facts'] for r in results):.3f} (target ≤ 3)")


if __name__ == "__main__":
    main()
