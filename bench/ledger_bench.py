"""Benchmark: ledger pages (`cases.listing.ledger_page`) at 100k cases, each next to hand-written SQL
returning the same rows, measured in the same run (interleaved, same connection).

Scenarios: the first page for a city supervisor (sees everything) and for a unit leader (scope through
assignments); the page at depth 50k (the cursor of row 50 000, sought directly); a filtered page; a
filtered and searched page. The ORM side pays everything a request pays — reading the user's seats,
building and validating the filters, the page query, the units and enterprises of the page, labels;
the raw side runs the three equivalent SQL statements. Prints median, p95 and the ratios.

    .venv/bin/python bench/ledger_bench.py                       # SQLite file under /tmp
    .venv/bin/python bench/ledger_bench.py --db postgres://postgres@127.0.0.1:5432/taizhang_bench_search

The scratch database is migrated and filled with `synthetic.generate(cases, seed)` when empty.
Targets: within 3× of the raw SQL, p95 < 100 ms.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "sqlite:////tmp/taizhang_bench_search.sqlite3"
HANDED_OVER = ("handed_over", "rectifying", "on_ledger", "awaiting_acceptance", "awaiting_followup",
               "awaiting_closure", "closed")


def setup(url: str) -> None:
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("TAIZHANG_VAR_DIR", "/tmp/taizhang-bench-var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    import django

    django.setup()


def prepare(cases: int, seed: int) -> None:
    """Migrate and fill the scratch database once; an existing one is reused as it is."""
    from django.core.management import call_command
    from django.db import connection

    from taizhang.cases.models import Case
    from taizhang.cases.synthetic import generate
    from taizhang.search.models import SearchDocument

    call_command("migrate", verbosity=0)
    have = Case.objects.count()
    if have == 0:
        print(f"generating {cases} cases (seed {seed}) …", flush=True)
        result = generate(cases, seed)
        print(f"  {result.created} cases in {result.seconds:.1f} s ({result.per_second:.0f}/s), indexed as generated")
    elif have != cases:
        print(f"note: the database holds {have} cases, not {cases}; measuring what is there")
    if SearchDocument.objects.count() != Case.objects.count():
        print("search index incomplete: reindexing …", flush=True)
        call_command("reindex")
    # Planner statistics after the bulk load, as `PRAGMA optimize` / autovacuum would keep them: without
    # them SQLite guesses that `state IN (…)` is selective and sorts most of the table for a unit's page.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def p95(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def compare(label: str, orm: Callable[[], Any], raw: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Run both `repeat` times, interleaved after a warm-up; print and return the figures (ms)."""
    for _ in range(3):
        orm()
        raw()
    orm_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(repeat):
        orm_ms.append(timed(orm))
        raw_ms.append(timed(raw))
    figures = {"orm_median": statistics.median(orm_ms), "orm_p95": p95(orm_ms),
               "raw_median": statistics.median(raw_ms), "raw_p95": p95(raw_ms)}
    figures["ratio"] = figures["orm_median"] / figures["raw_median"]
    figures["ratio_p95"] = figures["orm_p95"] / figures["raw_p95"]
    print(f"{label:<44} orm {figures['orm_median']:7.2f} ms (p95 {figures['orm_p95']:7.2f})   "
          f"raw {figures['raw_median']:7.2f} ms (p95 {figures['raw_p95']:7.2f})   "
          f"ratio {figures['ratio']:4.2f} (p95 {figures['ratio_p95']:4.2f})", flush=True)
    return figures


# --- the raw side --------------------------------------------------------------------------------

SELECT = """
SELECT c.id, c.number, c.title, c.state, c.source, c.mode, c.severity, c.found_on, c.created_at, c.deadline_on,
       c.escalation_level, c.reopen_count, c.progress_summary, c.category_id, cat.name, c.responsible_org_id,
       r.name, c.inspection_round_id, ir.name, c.sign_for_due_at, c.decline_due_at, c.next_report_due_at,
       c.completion_due_at, c.ledger_review_due_at, c.followup_due_at, c.recheck_due_at
FROM cases_case c
JOIN orgs_organisation s ON s.id = c.supervising_org_id
LEFT JOIN cases_category cat ON cat.id = c.category_id
LEFT JOIN orgs_organisation r ON r.id = c.responsible_org_id
LEFT JOIN orgs_inspectionround ir ON ir.id = c.inspection_round_id
"""


def raw_page(where: str, params: list[Any], limit: int = 50,
             order: str = "c.created_at DESC, c.id DESC") -> list[tuple[Any, ...]]:
    """The page, then the units and the enterprises of its rows: what a hand-written ledger would run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"{SELECT} WHERE {where} ORDER BY {order} LIMIT {limit + 1}", params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        ids = [row[0] for row in rows[:limit]]
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"SELECT a.case_id, a.role, o.name FROM cases_assignment a JOIN orgs_organisation o "
                           f"ON o.id = a.org_id WHERE a.case_id IN ({marks}) "
                           f"AND a.status IN ('proposed', 'pending', 'signed', 'done') ORDER BY a.role, a.id", ids)
            cursor.fetchall()
            cursor.execute(f"SELECT ce.case_id, e.name FROM cases_case_enterprises ce JOIN orgs_enterprise e "
                           f"ON e.id = ce.enterprise_id WHERE ce.case_id IN ({marks}) ORDER BY ce.id", ids)
            cursor.fetchall()
    return rows


def raw_search(query: str) -> tuple[str, list[Any]]:
    """The search condition written by hand, with the plan choice `search.query` makes: candidates from
    the index drive a narrow query; a broad one (counted first, with a LIMIT) is a per-row probe."""
    from django.db import connection

    from taizhang.search.query import BROAD, search_sql

    search = search_sql(query)
    assert search is not None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({search.candidates} LIMIT {BROAD}) AS x", search.params)
        broad = cursor.fetchone()[0] >= BROAD
    params = list(search.params)
    if broad and connection.vendor == "postgresql":
        sql = "EXISTS (SELECT 1 FROM search_searchdocument d WHERE d.case_id = c.id AND d.vector @@ %s::tsquery"
        if search.confirm:
            sql += " AND strpos(d.body, %s) > 0"
            params.append(search.confirm)
        return sql + " OFFSET 0)", params
    sql = f"{'c.id + 0' if broad else 'c.id'} IN ({search.candidates})"
    if search.confirm:
        position = "instr" if connection.vendor == "sqlite" else "strpos"
        sql += f" AND {position}((SELECT d.body FROM search_searchdocument d WHERE d.case_id = c.id), %s) > 0"
        params.append(search.confirm)
    return sql, params


def supervisor_scope(user: Any) -> tuple[str, list[Any]]:
    from taizhang.cases import policies

    paths = [seat.org_path + "%" for seat in policies.seats(user)]
    return "(" + " OR ".join(["s.path LIKE %s"] * len(paths)) + ")", paths


def unit_scope(user: Any) -> tuple[str, list[Any]]:
    from taizhang.cases import policies

    path = policies.seats(user)[0].org_path + "%"
    states = ", ".join(f"'{s}'" for s in HANDED_OVER)
    return (f"c.state IN ({states}) AND (EXISTS (SELECT 1 FROM cases_assignment a JOIN orgs_organisation o "
            f"ON o.id = a.org_id WHERE a.case_id = c.id AND o.path LIKE %s "
            f"AND a.status IN ('pending', 'signed', 'done')) OR r.path LIKE %s)"), [path, path]


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    setup(args.db)
    prepare(args.cases, args.seed)

    from django.db import connection

    from taizhang.accounts.models import User
    from taizhang.cases import policies
    from taizhang.cases.listing import LedgerFilters, encode_cursor, ledger_page
    from taizhang.cases.models import Case
    from taizhang.orgs.models import Organisation

    supervisor = User.objects.get(username="supervisor")
    unit_leader = User.objects.get(username="unit_leader")
    district = Organisation.objects.get(name="净月区党工委")
    total = policies.scope(supervisor).count()
    print(f"{connection.vendor}: {Case.objects.count()} cases, {total} visible to the supervisor, "
          f"{policies.scope(unit_leader).count()} to the unit leader\n")

    def orm(user: Any, params: dict[str, Any], **kwargs: Any) -> Callable[[], Any]:
        def run() -> Any:
            policies.forget_seats(user)  # a request reads the seats afresh
            page = ledger_page(user, LedgerFilters.from_query(params), **kwargs)
            assert page.rows
            return page

        return run

    results: dict[str, dict[str, float]] = {}
    where, params = supervisor_scope(supervisor)
    results["first page, supervisor"] = compare(
        "first page (supervisor, 50 rows)", orm(supervisor, {}), lambda: raw_page(where, params), args.repeat)

    results["by deadline"] = compare(
        "first page by deadline (supervisor)", orm(supervisor, {}, order="deadline"),
        lambda: raw_page(f"{where} AND c.deadline_on IS NOT NULL", params, order="c.deadline_on ASC, c.id ASC"),
        args.repeat)

    depth = min(50_000, total - 60)
    c_at, c_id = policies.scope(supervisor).order_by("-created_at", "-id").values_list("created_at", "id")[depth - 1]
    cursor = encode_cursor("-created", c_at, c_id)
    keyset = f"{where} AND c.created_at <= %s AND (c.created_at < %s OR c.id < %s)"
    results["depth 50k"] = compare(
        f"page at depth {depth} (supervisor)", orm(supervisor, {}, cursor=cursor),
        lambda: raw_page(keyset, [*params, c_at, c_at, c_id]), args.repeat)

    unit_where, unit_params = unit_scope(unit_leader)
    results["first page, unit leader"] = compare(
        "first page (unit leader)", orm(unit_leader, {}), lambda: raw_page(unit_where, unit_params), args.repeat)

    filtered = {"state": "rectifying,on_ledger", "mode": "deadline", "org": str(district.pk), "org_role": "responsible"}
    org_ids = list(Organisation.objects.filter(path__startswith=district.path).values_list("pk", flat=True))
    marks = ", ".join(["%s"] * len(org_ids))
    filter_sql = (f"{where} AND c.state IN ('rectifying', 'on_ledger') AND c.mode = 'deadline' "
                  f"AND c.responsible_org_id IN ({marks})")
    results["filtered"] = compare("filtered page (state, mode, org subtree)", orm(supervisor, filtered),
                                  lambda: raw_page(filter_sql, [*params, *org_ids]), args.repeat)

    for query in ("供电", "路面积水"):
        searched = {**filtered, "q": query}

        def raw_searched(query: str = query) -> Any:
            search, search_params = raw_search(query)
            return raw_page(f"{filter_sql} AND {search}", [*params, *org_ids, *search_params])

        results[f"filtered + searched {query}"] = compare(
            f"filtered + searched page (q={query})", orm(supervisor, searched), raw_searched, args.repeat)

    worst = max(r["orm_p95"] for r in results.values())
    ratio = max(r["ratio"] for r in results.values())
    print(f"\nworst ORM p95 {worst:.1f} ms (target < 100 ms); worst median ratio {ratio:.2f} (target ≤ 3)")
    return results


if __name__ == "__main__":
    main()
