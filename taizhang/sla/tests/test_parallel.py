"""Sweepers running at the same moment in parallel on PostgreSQL never act twice."""

import collections
import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections

from taizhang.audit.models import AuditEvent
from taizhang.audit.verify import verify_chain
from taizhang.core.models import OutboxMessage
from taizhang.core.workdays import seed_calendar
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.sweeper import SweepResult, sweep
from taizhang.sla.tests.helpers import STEP_TOPICS, at, rectifying

D = dt.date
SWEEPERS = 4
CASES = 8

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: SQLite serialises writers, so sweepers could not overlap"),
]


def _run_parallel(moment: dt.datetime, batch_size: int) -> list[SweepResult | BaseException]:
    start = threading.Barrier(SWEEPERS)
    results: list[SweepResult | BaseException] = [RuntimeError("did not run")] * SWEEPERS

    def work(index: int) -> None:
        try:
            start.wait(timeout=30)
            results[index] = sweep(moment, batch_size=batch_size)
        except BaseException as exc:  # reported by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(SWEEPERS)]
    with time_machine.travel(moment, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_sweepers_produce_no_duplicates(world):
    seed_calendar(2025, 2026)
    seed_default_time_limits()
    cases = [rectifying(world, at(D(2026, 3, 2)), title=f"并发{i}") for i in range(CASES)]
    results = _run_parallel(at(D(2026, 5, 6), 10), batch_size=2)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    # Every case: overdue, leadership and order for both clocks, once in all.
    expected = CASES * 2 * 3
    assert sum(r.acted for r in results if isinstance(r, SweepResult)) == expected
    assert Escalation.objects.count() == expected
    messages = collections.Counter(
        (m.payload["case"], m.payload["clock"], m.payload["level"])
        for m in OutboxMessage.objects.filter(topic__in=STEP_TOPICS))
    assert len(messages) == expected
    assert set(messages.values()) == {1}
    events = collections.Counter(AuditEvent.objects.filter(actor_id__isnull=True).values_list("object_id", "action"))
    assert set(events.values()) == {2}  # per case and step: one per clock
    assert len(events) == CASES * 3
    numbers = list(SupervisionOrder.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == CASES * 2
    assert {c.number for c in cases} == {m[0] for m in messages}
    check = verify_chain()
    assert check.ok, check.problem

    # And a second parallel round at a later moment finds nothing left but the unanswered orders.
    later = _run_parallel(at(D(2026, 6, 30), 10), batch_size=2)
    assert not [r for r in later if isinstance(r, BaseException)]
    assert sum(r.orders_overdue for r in later if isinstance(r, SweepResult)) == CASES * 2
    assert sum(r.acted for r in later if isinstance(r, SweepResult)) == CASES * 2
    assert OutboxMessage.objects.filter(topic="supervision_order.overdue").count() == CASES * 2
