"""Processes racing conflicting transitions on the same cases (PostgreSQL only: SQLite serialises writers).

Each request either commits or is refused with a stable code; nothing is lost, each case's version is
1 + its committed transitions, its state is the replay of its audit trail, and the chain stays valid.
"""

import collections
import multiprocessing
import queue

import pytest
import time_machine
from django.db import connection

from taizhang.audit.verify import verify_chain
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.testing import matrix

PROCESSES = 4
LOSING_CODES = {"conflict.stale_version", "workflow.illegal_transition"}

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: SQLite serialises writers, so nothing would race"),
]


@pytest.fixture
def purge_audit_trail():
    """Transactional tests end with a flush, which the append-only audit table refuses while it holds rows.
    Empty it first, with triggers off for this session (the test database's superuser may)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent")
        cursor.execute("SET session_replication_role = DEFAULT")


def run_race(jobs_per_process):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(len(jobs_per_process))
    results = ctx.Queue()
    url = matrix.database_url(connection.settings_dict)
    workers = [ctx.Process(target=matrix.race_worker, args=(url, jobs, start, results)) for jobs in jobs_per_process]
    for worker in workers:
        worker.start()
    expected = sum(len(jobs) for jobs in jobs_per_process)
    outcomes: dict[str, tuple[str, int | None, str | None]] = {}
    try:
        while len(outcomes) < expected:
            try:
                key, outcome, version, state = results.get(timeout=5)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    pytest.fail(f"the workers stopped after {len(outcomes)} of {expected} answers")
                continue
            outcomes[key] = (outcome, version, state)
    finally:
        for worker in workers:
            worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_conflicting_transitions_race_without_lost_updates(world, purge_audit_trail):
    cast = matrix.Cast.own(world)
    with time_machine.travel(matrix.MOMENT, tick=False):
        cases = {
            "approve-reject": matrix.drive(cast, State.AWAITING_APPROVAL),
            "sign-decline": matrix.drive(cast, State.HANDED_OVER),
            "sign-decline-unversioned": matrix.drive(cast, State.HANDED_OVER),
            "accept-rework": matrix.drive(cast, State.AWAITING_ACCEPTANCE),
            "report-same-version": matrix.drive(cast, State.RECTIFYING),
            "report-unversioned": matrix.drive(cast, State.RECTIFYING),
        }
    # The workers run on the real clock: keep the return window open for them.
    Case.objects.filter(state=State.HANDED_OVER).update(decline_due_at=None)
    start_versions = {name: case.version for name, case in cases.items()}
    reports_before = {name: case.progress_reports.count() for name, case in cases.items()}

    def job(name, action, username, n, versioned=True, **inputs):
        case = cases[name]
        return matrix.Job(key=f"{name}/{action}/{n}", number=case.number, action=action, username=username,
                          version=case.version if versioned else None, inputs=inputs)

    accept = {"checklist": matrix.passed_checklist(cases["accept-rework"]), "opinion": "验收通过"}
    contested = [
        *[job("approve-reject", "approve", "approver", n) for n in range(2)],
        *[job("approve-reject", "reject", "approver", n, reason="单位不准") for n in range(2)],
        *[job("sign-decline", "sign_for", "unit_leader", n) for n in range(2)],
        *[job("sign-decline", "decline", "unit_leader", n, reason="非本单位职责") for n in range(2)],
        *[job("sign-decline-unversioned", "sign_for", "unit_leader", n, versioned=False) for n in range(2)],
        *[job("sign-decline-unversioned", "decline", "unit_leader", n, versioned=False, reason="非本单位")
          for n in range(2)],
        *[job("accept-rework", "accept", "supervisor", n, **accept) for n in range(2)],
        *[job("accept-rework", "return_for_rework", "supervisor", n, reason="材料不足") for n in range(2)],
        *[job("report-same-version", "report_progress", who, n, text=f"进展{n}")
          for n, who in enumerate(["handler", "unit_leader", "co_leader", "handler"] * 2)],
        *[job("report-unversioned", "report_progress", who, n, versioned=False, text=f"进展{n}")
          for n, who in enumerate(["handler", "unit_leader", "co_leader", "handler"] * 2)],
    ]
    # Round-robin: the n-th job of every process hits the same case at the same moment.
    outcomes = run_race([contested[i::PROCESSES] for i in range(PROCESSES)])

    assert len(outcomes) == len(contested)
    unexpected = {k: v for k, v in outcomes.items() if v[0] != "ok" and v[0] not in LOSING_CODES | {"not_found"}}
    assert unexpected == {}
    committed = collections.Counter(k.split("/")[0] for k, v in outcomes.items() if v[0] == "ok")
    # "Not found" only answers a unit whose case was just declined away from it (out of its scope again).
    for key, (outcome, _version, _state) in outcomes.items():
        if outcome == "not_found":
            assert key.startswith("sign-decline"), key
            assert Case.objects.get(number=cases[key.split("/")[0]].number).state == State.ASSESSING

    for name in ("approve-reject", "sign-decline", "sign-decline-unversioned", "accept-rework",
                 "report-same-version"):
        assert committed[name] == 1, (name, {k: v for k, v in outcomes.items() if k.startswith(name + "/")})
    assert committed["report-unversioned"] == 8

    for name, case in cases.items():
        case.refresh_from_db()
        state, transitions = matrix.replay_states(case.number)
        assert case.state == state, name
        assert case.version == 1 + transitions, name
        assert case.version == start_versions[name] + committed[name], name
        winners = [v for k, v in outcomes.items() if k.startswith(name + "/") and v[0] == "ok"]
        assert sorted(v[1] for v in winners) == list(range(start_versions[name] + 1, case.version + 1)), name
        if name.startswith("report"):
            assert case.progress_reports.count() == reports_before[name] + committed[name], name

    result = verify_chain()
    assert result.ok, result.problem
    assert result.checked > len(contested)
