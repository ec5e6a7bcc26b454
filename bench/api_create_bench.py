"""Benchmark: case creation over HTTP against a raw INSERT of the same row, measured in the same run.

A live server, started exactly as `taizhang serve` starts its web process (granian, same workers and
threads), answers `POST /api/v1/cases/` with a token and a fresh `Idempotency-Key` per
request: the whole write path (registration, search index, audit event in the hash chain, outbox row,
idempotency record). The baseline inserts the same case row with one plain SQL INSERT per transaction
through the same database. The two are measured in alternating rounds, so that both see the same load
on a shared machine; the figures of merit are the medians of creations/s and of the per-round ratio
baseline ÷ API.

The HTTP load comes from Debian's `wrk` (keep-alive connections, a Lua script giving each request its
own key), so the client takes little of the CPU the server needs:

    apt-get install -y wrk
    TAIZHANG_DATABASE_URL=postgres://postgres@127.0.0.1:5432/taizhang_api_bench \
        .venv/bin/python bench/api_create_bench.py

Besides the rates it prints the CPU time the web server's workers and their PostgreSQL backends spend per
creation (from /proc): a cost that, unlike a rate, hardly depends on what else the machine runs.

The database is migrated and seeded with the demo personas; created rows are left in place. At the end
the audit chain is verified and the cases created are counted against the successful requests.
"""

import argparse
import dataclasses
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/taizhang_api_bench"
BODY = {"source": "hotline", "title": "12345 热线转办：园区路灯不亮",
        "description": "群众来电反映园区道路路灯长期不亮。"}
# Each request gets its own Idempotency-Key: the run's prefix, the wrk thread and a counter.
WRK_SCRIPT = """
local prefix, body, token = "", "", ""
local counter, next_thread = 0, 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end
function init(args)
  prefix, token, body = args[1], args[2], args[3]
end
function request()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/cases/", {
    ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. thread_id .. "-" .. counter}, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %.0f %.0f\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(95)))
end
"""


@dataclass(frozen=True)
class ApiRound:
    requests: int
    seconds: float
    bad_status: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    web_cpu_ms: float = 0.0  # CPU time of the web server's workers per request
    db_cpu_ms: float = 0.0  # CPU time of their PostgreSQL backends per request

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU time of each process (Linux /proc); a process that is gone counts nothing."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def children_of(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def database_backends() -> set[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return {int(row[0]) for row in cursor.fetchall()}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, token: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/categories/", headers={"Authorization": f"Bearer {token}"})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def api_round(wrk: str, script: Path, port: int, token: str, seconds: int, connections: int) -> ApiRound:
    prefix = uuid.uuid4().hex[:12]
    body = json.dumps(BODY, ensure_ascii=False)
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}/", "--", prefix, token, body],
        capture_output=True, text=True, check=True).stdout
    line = next(row for row in out.splitlines() if row.startswith("RESULT "))
    requests, micros, bad, failed, p50, p95 = (int(float(v)) for v in line.split()[1:])
    return ApiRound(requests, micros / 1e6, bad, failed, p50 / 1000, p95 / 1000)


def raw_round(count: int) -> float:
    """Single-row INSERTs of a bare case per second, one transaction each."""
    from django.db import connection, transaction

    from taizhang.cases.models import Case
    from taizhang.orgs.models import Organisation

    org = Organisation.objects.get(code="CC")
    table = Case._meta.db_table
    sql = (f"INSERT INTO {table} (number, title, description, source, found_on, supervising_org_id, mode, "
           "severity, reporter_name, reporter_contact, reporter_anonymous, responsible_leader, responsible_person, "
           "goal, institution_building, progress_summary, closure_opinion, followup_waived_reason, remarks, "
           "internal_note, state, version, escalation_level, reopen_count, rework_count, created_at, updated_at) "
           "VALUES (%s, %s, %s, %s, CURRENT_DATE, %s, '', '', '', '', false, '', '', '', '', '', '', '', '', '', "
           "'registered', 1, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    for i in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [f"RAW-{run}-{i}", BODY["title"], BODY["description"], BODY["source"], org.pk])
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating raw/API rounds")
    parser.add_argument("--seconds", type=int, default=10, help="length of each API round")
    parser.add_argument("--raw-inserts", type=int, default=1000, help="INSERTs per baseline round")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive HTTP connections")
    parser.add_argument("--workers", type=int, help="web server workers (default: as `taizhang serve`)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as `taizhang serve`)")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("this benchmark drives the server with wrk: apt-get install -y wrk")
    os.environ.setdefault("TAIZHANG_DATABASE_URL", DEFAULT_DB)
    if not os.environ["TAIZHANG_DATABASE_URL"].startswith("postgres"):
        raise SystemExit("this benchmark runs on PostgreSQL (TAIZHANG_DATABASE_URL=postgres://...)")
    os.environ.setdefault("TAIZHANG_MEDIA_ROOT", "/tmp/taizhang-api-bench-media")
    os.environ.setdefault("TAIZHANG_STATIC_ROOT", "/tmp/taizhang-api-bench-static")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    os.environ["TAIZHANG_SSL_REDIRECT"] = "false"
    os.environ.setdefault("TAIZHANG_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))

    import django
    from django.core.management import call_command

    dbname = os.environ["TAIZHANG_DATABASE_URL"].rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], capture_output=True, check=False)
    django.setup()
    call_command("migrate", verbosity=0)

    from django.db import connection, transaction

    from taizhang.api.tokens import create_token
    from taizhang.audit.verify import verify_chain
    from taizhang.cases.models import Case
    from taizhang.core import workdays
    from taizhang.core.management.commands.serve import (
        child_commands,
        default_web_threads,
        default_web_workers,
        uncollected_static_file,
    )
    from taizhang.sla import deadlines
    from taizhang.testing.personas import build_world

    with transaction.atomic():
        world = build_world()
        _token, token = create_token(user=world.supervisor, name="bench")
    workdays.seed_calendar()
    deadlines.seed_default_time_limits()
    if uncollected_static_file() is not None:  # the server starts as `taizhang serve` would let it
        call_command("collectstatic", interactive=False, verbosity=0)
    cases_before = Case.objects.filter(registered_by=world.supervisor).count()
    connection.close()

    workers = args.workers or default_web_workers()
    threads = args.threads or default_web_threads()
    port = free_port()
    web = child_commands("127.0.0.1", port, workers, threads=threads, with_worker=False, with_scheduler=False)["web"]
    server = subprocess.Popen([*web, "--log-level", "warning"], cwd=ROOT, env=os.environ.copy(),
                              start_new_session=True, stdout=subprocess.DEVNULL)  # the access log
    api: list[ApiRound] = []
    raw: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "create.lua"
            script.write_text(WRK_SCRIPT)
            wait_for(port, token, time.monotonic() + 60)
            warm_up = api_round(wrk, script, port, token, 2, args.connections)  # imports, connections
            for number in range(1, args.rounds + 1):
                raw.append(raw_round(args.raw_inserts))
                workers_pids, backends = children_of(server.pid), database_backends()
                web_before, db_before = cpu_seconds(workers_pids), cpu_seconds(backends)
                measured = api_round(wrk, script, port, token, args.seconds, args.connections)
                web_after, db_after = cpu_seconds(workers_pids), cpu_seconds(backends | database_backends())
                connection.close()
                count = max(measured.requests, 1)
                api.append(dataclasses.replace(measured, web_cpu_ms=spent(web_before, web_after) * 1000 / count,
                                               db_cpu_ms=spent(db_before, db_after) * 1000 / count))
                print(f"round {number}: API {api[-1].rate:.0f}/s (p95 {api[-1].p95_ms:.1f} ms; CPU per creation: "
                      f"web {api[-1].web_cpu_ms:.1f} ms, PostgreSQL {api[-1].db_cpu_ms:.1f} ms), "
                      f"raw INSERT {raw[-1]:.0f}/s, ratio {raw[-1] / api[-1].rate:.1f}x", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    bad = sum(r.bad_status + r.socket_errors for r in api)
    created = Case.objects.filter(registered_by=world.supervisor).count() - cases_before
    chain = verify_chain()
    print(f"API creations over HTTP: median {statistics.median(r.rate for r in api):.0f}/s "
          f"({args.connections} keep-alive connections, {workers} workers x {threads} threads; "
          f"median p50 {statistics.median(r.p50_ms for r in api):.1f} ms, "
          f"median p95 {statistics.median(r.p95_ms for r in api):.1f} ms; {bad} errors)")
    print(f"CPU per creation:        median web {statistics.median(r.web_cpu_ms for r in api):.1f} ms, "
          f"PostgreSQL backends {statistics.median(r.db_cpu_ms for r in api):.1f} ms")
    print(f"raw INSERT baseline:     median {statistics.median(raw):.0f}/s")
    ratio = statistics.median(base / measured.rate for base, measured in zip(raw, api, strict=True))
    print(f"ratio (raw / API):       median {ratio:.1f}x")
    answered = sum(r.requests - r.bad_status for r in [warm_up, *api])
    print(f"cases created: {created} for {answered} answers counted by wrk (requests still in flight when a "
          f"round ends are created but not counted); audit chain: {'intact' if chain.ok else 'BROKEN'}, "
          f"{chain.checked} events")
    if bad or not chain.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
