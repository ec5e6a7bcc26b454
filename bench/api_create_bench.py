"""Benchmark: case creation over HTTP against a raw INSERT of the same row, measured in the same run.

A live server (gunicorn, as `taizhang serve` runs it) answers `POST /api/v1/cases/` with a token, an
`Idempotency-Key` per request, the audit event and the outbox row: the whole write path. The baseline
inserts the same case row with one plain SQL INSERT per transaction through the same database. The
figure of merit is creations/s and the ratio baseline ÷ API.

    TAIZHANG_DATABASE_URL=postgres://postgres@127.0.0.1:5432/taizhang_bench .venv/bin/python bench/api_create_bench.py

The database is migrated and seeded with the demo personas; created rows are left in place.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/taizhang_api_bench"
BODY = {"source": "hotline", "title": "12345 热线转办：园区路灯不亮",
        "description": "群众来电反映园区道路路灯长期不亮。"}


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


def post_cases(port: int, token: str, count: int, results: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(BODY).encode()
    for _ in range(count):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": uuid.uuid4().hex}
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/cases/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if response.status != 201:
            errors.append(str(response.status))
        results.append(time.perf_counter() - started)
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def raw_inserts(count: int) -> float:
    """Seconds for `count` single-row INSERTs of a bare case, one transaction each."""
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
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (one per core)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    args = parser.parse_args()

    os.environ.setdefault("TAIZHANG_DATABASE_URL", DEFAULT_DB)
    if not os.environ["TAIZHANG_DATABASE_URL"].startswith("postgres"):
        raise SystemExit("this benchmark runs on PostgreSQL (TAIZHANG_DATABASE_URL=postgres://...)")
    os.environ.setdefault("TAIZHANG_MEDIA_ROOT", "/tmp/taizhang-api-bench-media")
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

    from django.db import transaction

    from taizhang.api.tokens import create_token
    from taizhang.core import workdays
    from taizhang.sla import deadlines
    from taizhang.testing.personas import build_world

    with transaction.atomic():
        world = build_world()
        _token, token = create_token(user=world.supervisor, name="bench")
    workdays.seed_calendar()
    deadlines.seed_default_time_limits()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "taizhang.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(), start_new_session=True)
    try:
        wait_for(port, token, time.monotonic() + 60)
        post_cases(port, token, 20, [], [])  # warm-up: imports, connections
        per_client = args.requests // args.clients
        latencies: list[float] = []
        errors: list[str] = []
        threads = [threading.Thread(target=post_cases, args=(port, token, per_client, latencies, errors))
                   for _ in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        api_seconds = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    done = len(latencies)
    raw_seconds = raw_inserts(done)
    api_rate, raw_rate = done / api_seconds, done / raw_seconds
    latencies.sort()
    print(f"API creations over HTTP: {done} in {api_seconds:.2f} s = {api_rate:.0f}/s "
          f"({args.clients} clients, {args.workers} workers x {args.threads} threads; "
          f"p50 {latencies[done // 2] * 1000:.1f} ms, p95 {latencies[int(done * 0.95)] * 1000:.1f} ms; "
          f"{len(errors)} errors)")
    print(f"raw INSERT baseline:     {done} in {raw_seconds:.2f} s = {raw_rate:.0f}/s")
    print(f"ratio (raw / API):       {raw_rate / api_rate:.1f}x")
    if errors:
        print("errors:", sorted(set(errors))[:10])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
