"""Benchmark: Chinese full-text search at 100k cases — a searched ledger page (`ledger_page` with `q`)
next to the same search in hand-written SQL (FTS5 / tsvector + substring check, the same scope, order
and limit), measured in the same run; plus, for scale, the `LIKE '%q%'` scan the index replaces.

Queries of 1, 2, 3 and 4+ characters, Chinese, ASCII, case numbers, credit-code prefixes, a query
that matches nothing. Each row also checks that the search returned exactly the LIKE scan's cases.

    .venv/bin/python bench/search_bench.py
    .venv/bin/python bench/search_bench.py --db postgres://postgres@127.0.0.1:5432/taizhang_bench_search

Target: search p95 < 200 ms.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_bench import DEFAULT_DB, compare, prepare, raw_page, raw_search, setup, supervisor_scope

LIKE_FIELDS = ["number", "title", "description", "progress_summary", "enterprises__name", "enterprises__credit_code",
               "progress_reports__text"]


def like_ids(query: str) -> set[int]:
    from django.db.models import Q

    from taizhang.cases.models import Case

    condition = Q()
    for name in LIKE_FIELDS:
        condition |= Q(**{f"{name}__icontains": query})
    return set(Case.objects.filter(condition).values_list("pk", flat=True))


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--like-repeat", type=int, default=3, help="runs of the (slow) LIKE scan per query")
    args = parser.parse_args(argv)
    setup(args.db)
    prepare(args.cases, args.seed)

    from django.db import connection

    from taizhang.accounts.models import User
    from taizhang.cases import policies
    from taizhang.cases.listing import LedgerFilters, ledger_page
    from taizhang.cases.models import Case
    from taizhang.orgs.models import Enterprise
    from taizhang.search.query import filter_cases

    supervisor = User.objects.get(username="supervisor")
    sample = Case.objects.order_by("pk").values_list("number", flat=True)[Case.objects.count() // 2]
    code = Enterprise.objects.filter(cases__isnull=False).order_by("pk").values_list("credit_code", flat=True)[0]
    queries = ["电", "积水", "路面积水", "供电局", "净月大街", "增容扩建迟迟未接电", sample, sample[:7], code[:8], code,
               "5g", "不存在的问题"]
    where, params = supervisor_scope(supervisor)
    print(f"{connection.vendor}: {Case.objects.count()} cases\n")
    results: dict[str, dict[str, float]] = {}
    for query in queries:
        hits = set(filter_cases(Case.objects.all(), query).values_list("pk", flat=True))
        like_ms = []
        for _ in range(args.like_repeat):
            started = time.perf_counter()
            expected = like_ids(query)
            like_ms.append((time.perf_counter() - started) * 1000)
        assert hits == expected, f"recall differs from LIKE for {query!r}: {len(hits)} vs {len(expected)}"
        def orm(query: str = query) -> Any:
            policies.forget_seats(supervisor)
            return ledger_page(supervisor, LedgerFilters.from_query({"q": query}))

        def raw(query: str = query) -> Any:
            search, search_params = raw_search(query)
            return raw_page(f"{where} AND {search}", [*params, *search_params])

        figures = compare(f"q={query!r} ({len(hits)} hits)", orm, raw, args.repeat)
        figures["like_median"] = statistics.median(like_ms)
        results[query] = figures
        print(f"{'':<44} LIKE scan over the same fields: {figures['like_median']:8.1f} ms (same {len(hits)} cases)")
    worst = max(r["orm_p95"] for r in results.values())
    ratio = max(r["ratio"] for r in results.values())
    print(f"\nworst search p95 {worst:.1f} ms (target < 200 ms); worst median ratio {ratio:.2f}")
    return results


if __name__ == "__main__":
    main()
