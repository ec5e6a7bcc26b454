"""Benchmark: one sweep over many cases on PostgreSQL, next to the bare SQL selecting the same due rows.

A scratch database (default `taizhang_bench_sweep`, dropped and recreated on each run) is migrated, then
filled with INSERT … SELECT generate_series: N cases in rectification, each with a signed-for lead unit,
of which `--overdue` (default 1 %) passed their completion deadline within the last day and the rest
are due weeks ahead (the progress clocks all run ahead). Then, at one frozen moment:

1. bare:   the sweeper's own due-row SELECTs (every clock × ladder step), run and fetched without
           claiming anything — the floor for finding the work;
2. sweep:  `sweep()` — claims, audit events, outbox messages, escalation levels — timed as a whole and
           for its claiming statements alone (the scan: the conditional UPDATE … WHERE id IN (SELECT … LIMIT
           … FOR UPDATE SKIP LOCKED) … RETURNING that selects and claims each batch);
3. again:  a second sweep at the same moment, which finds nothing left (the steady per-minute cost).

Memory: the process RSS before and after the timed sweep, and tracemalloc's peak over a replay of it
(the claims deleted, the same work done again; tracemalloc slows Python, so the replay is not timed).

    .venv/bin/python bench/sweep_bench.py --cases 1000000
"""

import argparse
import datetime as dt
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def case_columns(now_sql: str, overdue_every: int, spread_minutes: int, city: int, district: int) -> tuple[str, str]:
    """(column list, SELECT list over generate_series g) for bare Case rows."""
    from django.db import models

    from taizhang.cases.models import Case

    overrides = {
        "number": "'BENCH-' || lpad(g::text, 8, '0')",
        "title": "'基准问题 ' || g", "description": "'基准'", "source": "'inspection'", "mode": "'deadline'",
        "state": "'rectifying'", "version": "3", "found_on": "current_date", "supervising_org_id": str(city),
        "responsible_org_id": str(district),
        # 1 in `overdue_every` passed its deadline within the spread; the rest are due in 20–50 days.
        "completion_due_at": (f"CASE WHEN g %% {overdue_every} = 0 "
                              f"THEN {now_sql} - (g %% {spread_minutes}) * interval '1 minute'"
                              f" ELSE {now_sql} + interval '20 days' + (g %% 30) * interval '1 day' END"),
        "next_report_due_at": f"{now_sql} + interval '3 days' + (g %% 5) * interval '1 day'",
        "deadline_on": "current_date + 20",
        "created_at": now_sql, "updated_at": now_sql,
    }
    names, values = [], []
    for field in Case._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column in overrides:
            value = overrides[field.column]
        elif field.null:
            continue
        elif isinstance(field, models.BooleanField):
            value = "false"
        elif isinstance(field, models.IntegerField):
            value = "0"
        elif isinstance(field, models.CharField | models.TextField):
            value = "''"
        else:
            raise SystemExit(f"no bench value for {field.column}")
        names.append(f'"{field.column}"')
        values.append(value)
    return ", ".join(names), ", ".join(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=float, default=0.01, help="share of cases overdue (default 0.01)")
    parser.add_argument("--db", default="taizhang_bench_sweep")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--spread-days", type=int, default=1,
                        help="overdue deadlines passed within this many days (default 1: all newly overdue; "
                             "20 reaches levels 2 and 3, with 督办单)")
    args = parser.parse_args()

    recreate(args.db)
    os.environ["TAIZHANG_DATABASE_URL"] = f"{SERVER}/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    os.environ.setdefault("TAIZHANG_DEBUG", "0")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from taizhang.cases.models import Assignment, Case
    from taizhang.cases.workflow import Clock
    from taizhang.core import workdays
    from taizhang.core.models import OutboxMessage
    from taizhang.sla import ladder
    from taizhang.sla.models import Escalation, SupervisionOrder
    from taizhang.sla.sweeper import SWEPT, due_rows_sql, steps_for, sweep
    from taizhang.testing.personas import build_world

    call_command("migrate", verbosity=0)
    world = build_world()
    # A working Wednesday morning; the overdue cases' deadlines passed during the previous day.
    moment = dt.datetime(2026, 3, 11, 9, 0, tzinfo=timezone.get_default_timezone())
    assert workdays.is_workday(moment.date())
    now_sql = f"'{moment.isoformat()}'::timestamptz"
    overdue_every = max(1, round(1 / args.overdue)) if args.overdue else args.cases + 1

    started = time.perf_counter()
    columns, values = case_columns(now_sql, overdue_every, args.spread_days * 1440, world.city.pk, world.district.pk)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{Case._meta.db_table}" ({columns}) '
                       f"SELECT {values} FROM generate_series(1, %s) g", [args.cases])
        cursor.execute(
            f'INSERT INTO "{Assignment._meta.db_table}" (case_id, org_id, role, status, signed_at, note) '
            f"SELECT id, %s, 'lead', 'signed', {now_sql}, '' FROM \"{Case._meta.db_table}\"", [world.lead_unit.pk])
        cursor.execute("ANALYZE")
        cursor.execute(f'SELECT count(*) FROM "{Case._meta.db_table}" WHERE completion_due_at < {now_sql}')
        overdue = cursor.fetchone()[0]
    print(f"cases: {args.cases:,}   overdue: {overdue:,}   (loaded in {time.perf_counter() - started:.1f} s)")

    def bare() -> tuple[float, int]:
        """The sweeper's due-row SELECTs, every clock and step, fetched in full."""
        rows = 0
        began = time.perf_counter()
        policies = ladder.policies()
        with connection.cursor() as cursor:
            for swept in SWEPT:
                for step in steps_for(policies[swept.clock], moment):
                    sql, params = due_rows_sql(swept, step)
                    cursor.execute(sql, params)
                    rows += len(cursor.fetchall())
        return time.perf_counter() - began, rows

    def bare_update() -> tuple[float, int]:
        """The write floor: for each ladder step, one plain UPDATE … RETURNING setting the completion clock's
        step on the rows due for it (the progress clocks have none due), rolled back."""
        began = time.perf_counter()
        rows = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for step in steps_for(ladder.policies()[Clock.COMPLETION], moment):
                cursor.execute(f'UPDATE "{Case._meta.db_table}" SET completion_step = %s '
                               f'WHERE state = %s AND {step.condition.format(col="completion_due_at")} '
                               "RETURNING id", [step.level, "rectifying", *step.params])
                rows += len(cursor.fetchall())
            seconds = time.perf_counter() - began
            transaction.set_rollback(True)
        return seconds, rows

    claim_seconds = [0.0]

    def timing_claims(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.startswith(f'UPDATE "{Case._meta.db_table}" AS t SET'):
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            claim_seconds[0] += time.perf_counter() - began

    with time_machine.travel(moment, tick=False):
        bare()  # warm the caches once, for both sides
        bare_seconds, bare_rows = bare()
        bare_update()
        update_seconds, update_rows = bare_update()
        rss_before = rss_mb()
        began = time.perf_counter()
        with connection.execute_wrapper(timing_claims):
            result = sweep(batch_size=args.batch_size)
        sweep_seconds = time.perf_counter() - began
        rss_after = rss_mb()
        claims_first = claim_seconds[0]
        began = time.perf_counter()
        again = sweep(batch_size=args.batch_size)
        again_seconds = time.perf_counter() - began
        # Memory, traced on a replay of the same work (tracemalloc slows Python down, so not timed):
        # the claims and their outbox rows are removed and the sweep runs again.
        with connection.cursor() as cursor:
            cursor.execute(f'DELETE FROM "{SupervisionOrder._meta.db_table}"')
            cursor.execute(f'DELETE FROM "{Escalation._meta.db_table}"')
            cursor.execute(f'DELETE FROM "{OutboxMessage._meta.db_table}"')
            cursor.execute(f'UPDATE "{Case._meta.db_table}" SET completion_step = NULL, progress_step = NULL, '
                           "sign_for_step = NULL, escalation_level = 0 WHERE completion_step IS NOT NULL "
                           "OR progress_step IS NOT NULL OR sign_for_step IS NOT NULL")
        tracemalloc.start()
        replay = sweep(batch_size=args.batch_size)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert replay.acted == result.acted, (replay, result)

    print(f"bare due-row SELECTs:      {bare_seconds:8.3f} s   rows {bare_rows:,}")
    print(f"bare UPDATE of those rows: {update_seconds:8.3f} s   rows {update_rows:,}   (rolled back)")
    print(f"sweep (acting):            {sweep_seconds:8.3f} s   acted {result.acted:,} "
          f"(reminders {result.reminders:,}, overdue {result.overdue:,}, leadership {result.leadership:,}, "
          f"orders {result.supervision_orders:,}) in {result.batches} batches")
    print(f"  of which claims:         {claims_first:8.3f} s   "
          f"ratio to bare SELECT {claims_first / bare_seconds:5.2f}×, "
          f"to bare UPDATE {claims_first / update_seconds:5.2f}×")
    print(f"second sweep (no work):    {again_seconds:8.3f} s   acted {again.acted}   "
          f"ratio to bare {again_seconds / bare_seconds:5.2f}×")
    print(f"memory: RSS {rss_before:.0f} → {rss_after:.0f} MiB over the sweep; tracemalloc peak "
          f"{peak / 2**20:.1f} MiB (replayed sweep, batches of {args.batch_size})")
    print(f"target: sweep < 10 s: {'yes' if sweep_seconds < 10 else 'NO'};  "
          f"steady scan within 3× of bare SELECT: {'yes' if again_seconds < 3 * bare_seconds else 'NO'};  "
          f"claims within 3× of bare UPDATE: {'yes' if claims_first < 3 * update_seconds else 'NO'}")


if __name__ == "__main__":
    main()
