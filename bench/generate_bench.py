"""Benchmark: `synthetic.generate()` against a raw baseline measured in the same run.

The baseline bulk-creates the same number of bare `Case` rows (the required columns only) with
Django's `bulk_create` and rolls them back; the figure of merit is generate ÷ baseline, which is
stable across machines where absolute seconds are not.

    .venv/bin/python bench/generate_bench.py --cases 100000
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="/tmp/taizhang-generate-bench.sqlite3",
                        help="scratch SQLite file, recreated on each run (ignored when TAIZHANG_DATABASE_URL is set)")
    args = parser.parse_args()

    if "TAIZHANG_DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["TAIZHANG_DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("TAIZHANG_MEDIA_ROOT", "/tmp/taizhang-generate-bench-media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from taizhang.cases.models import Case
    from taizhang.cases.synthetic import generate
    from taizhang.testing.personas import build_world

    call_command("migrate", verbosity=0)
    city = build_world().city  # reference data outside both timings
    today = dt.date.today()

    started = time.perf_counter()
    try:
        with transaction.atomic():
            Case.objects.bulk_create(
                Case(number=f"BASE-{i:07d}", title="基线", description="基线", source=Case.Source.OTHER,
                     found_on=today, supervising_org=city)
                for i in range(args.cases))
            baseline = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass

    result = generate(args.cases, args.seed)
    ratio = result.seconds / baseline
    print(f"database            {connection.vendor}")
    print(f"cases               {args.cases}")
    print(f"baseline bulk_create {baseline:8.2f} s  ({args.cases / baseline:,.0f} rows/s)")
    print(f"generate()          {result.seconds:8.2f} s  ({result.per_second:,.0f} cases/s)")
    print(f"ratio               {ratio:8.2f}x")


if __name__ == "__main__":
    main()
