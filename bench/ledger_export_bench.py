"""Benchmark: the ledger export (`taizhang.ledger`) next to a plain xlsxwriter `constant_memory` loop
writing the same rows, in the same run; and the import of an exported ledger.

For each size the rows the export would write are first dumped (untimed) to a pickle file; then, each
in its own process so its peak memory can be read (`os.wait4` → `ru_maxrss`):

- plain:  xlsxwriter `constant_memory`, one `write_row` per row, rows read back from the dump;
- export: `export.ledger_rows` (scoped query, keyset chunks, related names set-based) into
          `export.write_xlsx` (title row, header, formats, dates, validation) — everything a job does.

Each side runs `--repeat` times, interleaved, and its best run counts. Then the import of the exported
ledger (`import_rows` rows): check every row (`upload_import`) and apply it (`commit_import`, nothing
changed), each reported in rows/s.

The scratch database is generated once with `synthetic.generate` (no search index) and reused:

    .venv/bin/python bench/ledger_export_bench.py                         # 100k and 1M on SQLite
    .venv/bin/python bench/ledger_export_bench.py --sizes 100000 --db postgres://postgres@127.0.0.1:5432/x

Targets: export ≥ 0.7× the plain loop's rows/s; export peak memory < 150 MB at 1M rows.
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taizhang.accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "sqlite:////tmp/taizhang-ledger-export-bench.sqlite3"
WORK = Path("/tmp/taizhang-ledger-export-bench")
DUMP_CHUNK = 10_000
USERNAME = "supervisor"  # the city supervisor: sees every synthetic case


def setup(url: str) -> None:
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("TAIZHANG_VAR_DIR", str(WORK / "var"))
    os.environ.setdefault("TAIZHANG_MEDIA_ROOT", str(WORK / "media"))
    os.environ.setdefault("TAIZHANG_MAX_UPLOAD_MB", "400")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(cases: int, seed: int) -> None:
    from django.core.management import call_command

    from taizhang.cases.models import Case
    from taizhang.cases.synthetic import generate

    call_command("migrate", verbosity=0)
    have = Case.objects.count()
    if have < cases:
        print(f"generating {cases - have} cases (seed {seed + have}) …", flush=True)
        result = generate(cases - have, seed + have, batch=f"ledger-export-bench-{have}", search_index=False)
        print(f"  {result.created} cases in {result.seconds:.0f} s", flush=True)


def _bench_user() -> "User":
    from taizhang.ledger.selectors import active_user

    user = active_user(USERNAME)
    if user is None:
        raise SystemExit(f"no active user {USERNAME!r}: use a database this bench prepared (--db)")
    return user


def _cases(size: int) -> Any:
    """The first `size` cases the supervisor sees, by id: the same rows for every process."""
    from taizhang.cases import policies

    user = _bench_user()
    visible = policies.scope(user)
    cutoff = visible.order_by("id").values_list("id", flat=True)[size - 1]
    return user, visible.filter(id__lte=cutoff)


def child_dump(size: int, path: str) -> dict[str, Any]:
    from taizhang.ledger import export

    user, cases = _cases(size)
    chunk: list[list[Any]] = []
    count = 0
    with open(path, "wb") as handle:
        for row in export.ledger_rows(user, cases):
            chunk.append(row)
            count += 1
            if len(chunk) == DUMP_CHUNK:
                pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
        pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {"rows": count}


def child_plain(size: int, dump: str, out: str) -> dict[str, Any]:
    import xlsxwriter  # type: ignore[import-untyped]

    from taizhang.ledger import layout

    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False,
                                         "default_date_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, layout.HEADERS)
    count = 0
    with open(dump, "rb") as handle:
        while True:
            try:
                chunk = pickle.load(handle)
            except EOFError:
                break
            for row in chunk:
                count += 1
                sheet.write_row(count, 0, row)
    workbook.close()
    return {"rows": count, "seconds": time.perf_counter() - started}


def child_export(size: int, out: str) -> dict[str, Any]:
    from taizhang.ledger import export

    started = time.perf_counter()
    user, cases = _cases(size)
    count = export.write_xlsx(out, export.ledger_rows(user, cases), title=export.title_for(user))
    return {"rows": count, "seconds": time.perf_counter() - started}


def child_import(path: str) -> dict[str, Any]:
    from taizhang.ledger import services

    user = _bench_user()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = services.upload_import(actor=user, upload=handle, name="bench.xlsx", validate_now=True)
    checked = time.perf_counter() - started
    rows = job.creates + job.updates + job.unchanged + job.invalid
    started = time.perf_counter()
    job = services.commit_import(actor=user, ledger_import=job, apply_now=True)
    applied = time.perf_counter() - started
    return {"rows": rows, "unchanged": job.unchanged, "invalid": job.invalid, "status": job.status,
            "check_seconds": checked, "apply_seconds": applied}


def run_child(args: argparse.Namespace, *argv: str) -> tuple[dict[str, Any], float]:
    """Run one measurement in a fresh process; its JSON result and its peak RSS in MB."""
    process = subprocess.Popen([sys.executable, __file__, "--db", args.db, "--child", *argv],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"child {argv} failed with {process.returncode}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated export sizes")
    parser.add_argument("--import-rows", type=int, default=100_000, help="0 skips the import")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; the best one counts")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup(args.db)
    if args.child:
        mode, *rest = args.child
        result = {"dump": lambda: child_dump(int(rest[0]), rest[1]),
                  "plain": lambda: child_plain(int(rest[0]), rest[1], rest[2]),
                  "export": lambda: child_export(int(rest[0]), rest[1]),
                  "import": lambda: child_import(rest[0])}[mode]()
        print(json.dumps(result))
        return

    from django.db import connection

    sizes = [int(s) for s in args.sizes.split(",")]
    prepare(max([*sizes, args.import_rows]), args.seed)
    vendor = connection.vendor
    connection.close()
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"database {vendor} ({args.db})")
    exported: dict[int, str] = {}
    for size in sizes:
        dump, plain_out, export_out = (str(WORK / f"{name}-{size}") for name in ("rows.pickle", "plain.xlsx",
                                                                                  "export.xlsx"))
        run_child(args, "dump", str(size), dump)
        plain_runs, our_runs = [], []
        for _ in range(args.repeat):  # interleaved, best of each: the machine may be shared
            plain_runs.append(run_child(args, "plain", str(size), dump, plain_out))
            our_runs.append(run_child(args, "export", str(size), export_out))
        (plain, plain_mb), (ours, ours_mb) = (min(runs, key=lambda run: run[0]["seconds"])
                                              for runs in (plain_runs, our_runs))
        assert plain["rows"] == ours["rows"] == size, (plain, ours)
        plain_rate, our_rate = size / plain["seconds"], size / ours["seconds"]
        print(f"{size:>9,} rows  plain xlsxwriter loop {plain['seconds']:7.1f} s {plain_rate:9,.0f} rows/s "
              f"peak {plain_mb:6.0f} MB | ledger export {ours['seconds']:7.1f} s {our_rate:9,.0f} rows/s "
              f"peak {ours_mb:6.0f} MB | ratio {our_rate / plain_rate:4.2f}x "
              f"(file {Path(export_out).stat().st_size / 2**20:.0f} MB)", flush=True)
        Path(dump).unlink()
        exported[size] = export_out
    if not args.import_rows:
        return
    source = exported.get(args.import_rows)
    if source is None:
        source = str(WORK / f"export.xlsx-{args.import_rows}")
        run_child(args, "export", str(args.import_rows), source)
    result, import_mb = run_child(args, "import", source)
    print(f"import {result['rows']:,} rows: check {result['check_seconds']:.1f} s "
          f"({result['rows'] / result['check_seconds']:,.0f} rows/s), apply {result['apply_seconds']:.1f} s "
          f"({result['rows'] / result['apply_seconds']:,.0f} rows/s), unchanged {result['unchanged']:,}, "
          f"invalid {result['invalid']}, {result['status']}, peak {import_mb:.0f} MB")


if __name__ == "__main__":
    main()
