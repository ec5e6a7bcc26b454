"""Writers racing on PostgreSQL still extend one unbroken chain (the head row lock serialises them)."""

import threading

import pytest
from django.db import connection, connections, transaction

from taizhang.audit.bulk import append_events
from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.audit.services import ActorContext, record_event
from taizhang.audit.verify import verify_chain

THREADS = 6
EVENTS_PER_THREAD = 15
BULK_EVERY, BULK_SIZE = 5, 3


def run_in_threads(work) -> list[BaseException]:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
def test_concurrent_writers_yield_one_unbroken_chain(purge_after):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers, so there is no race to test")

    def work(n: int) -> None:
        actor = ActorContext(user_id=None, name=f"writer {n}")
        for i in range(EVENTS_PER_THREAD):
            with transaction.atomic():
                record_event(actor=actor, action="case.progress_reported", object_type="case",
                             object_id=f"T{n}-{i}", after={"i": i})
            if i % BULK_EVERY == BULK_EVERY - 1:
                with transaction.atomic():
                    append_events({"actor": actor, "action": "case.generated", "object_type": "case",
                                   "object_id": f"T{n}-{i}-{k}"} for k in range(BULK_SIZE))

    assert run_in_threads(work) == []
    total = THREADS * (EVENTS_PER_THREAD + EVENTS_PER_THREAD // BULK_EVERY * BULK_SIZE)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert AuditChainHead.objects.get().seq == total
    result = verify_chain()
    assert result.ok, result.problem
    assert result.checked == total
