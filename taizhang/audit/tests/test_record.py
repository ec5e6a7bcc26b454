import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from taizhang.audit.bulk import append_events
from taizhang.audit.chain import GENESIS, HASHED_FIELDS, event_hash, occurred_at_text
from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.audit.services import SYSTEM, record_event
from taizhang.audit.tests.conftest import ACTOR, record
from taizhang.audit.verify import verify_chain


def recompute(event: AuditEvent) -> str:
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["occurred_at"] = occurred_at_text(event.occurred_at)
    return event_hash(event.prev_hash, fields)


def test_record_event_builds_a_valid_chain(db):
    record(5)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert all(recompute(e) == e.hash for e in events)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (5, events[-1].hash)
    result = verify_chain()
    assert result.ok
    assert result.checked == 5


def test_hash_survives_the_database_round_trip_of_non_json_values(db, world):
    with transaction.atomic():
        record_event(actor=ACTOR, action="case.extended", object_type="case", object_id=7, object_repr="x" * 300,
                     before={"deadline_on": dt.date(2023, 1, 15), "amount": Decimal("12.50")},
                     after={"deadline_on": "2023-02-15", "nested": {"b": [1, 2], "a": None}, "名称": "供电"},
                     request_id="req-1")
    event = AuditEvent.objects.get()
    assert event.before == {"deadline_on": "2023-01-15", "amount": "12.50"}
    assert event.object_id == "7"
    assert len(event.object_repr) == 200
    assert recompute(event) == event.hash
    assert verify_chain().ok


def test_record_event_refuses_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(actor=SYSTEM, action="case.registered", object_type="case", object_id="CC-1")
    assert not AuditEvent.objects.exists()


def test_append_events_continues_the_chain_and_locks_the_head_once(db):
    record(2)
    rows = ({"actor": SYSTEM, "action": "case.generated", "object_type": "case", "object_id": f"SYN-{i}",
             "after": {"i": i}} for i in range(4500))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        appended = append_events(rows, batch_size=2000)
    assert appended == 4500
    head_queries = [q for q in queries.captured_queries if "audit_auditchainhead" in q["sql"]]
    assert len(head_queries) == 2  # lock (the head exists), move
    with transaction.atomic():
        last = record_event(actor=SYSTEM, action="case.registered", object_type="case", object_id="CC-9")
    assert last.seq == 4503
    assert list(AuditEvent.objects.filter(seq__gte=4500).values_list("object_id", flat=True)) == [
        "SYN-4497", "SYN-4498", "SYN-4499", "CC-9"]
    result = verify_chain(chunk_size=700)
    assert result.ok
    assert result.checked == 4503


def test_append_events_keeps_replayed_times_and_refuses_outside_a_transaction(purge_after):
    moment = dt.datetime(2022, 11, 7, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        append_events([{"actor": SYSTEM, "action": "case.generated", "object_type": "case", "object_id": "1"}])
    with transaction.atomic():
        assert append_events([]) == 0
    assert not AuditEvent.objects.exists()
    with transaction.atomic():
        append_events([{"actor": SYSTEM, "action": "case.generated", "object_type": "case", "object_id": "1",
                        "occurred_at": moment}])
    assert AuditEvent.objects.get().occurred_at == moment
    assert verify_chain().ok


def test_append_events_rejects_unknown_fields(db):
    with transaction.atomic(), pytest.raises(TypeError):
        append_events([{"actor": SYSTEM, "action": "a", "object_type": "case", "object_id": "1", "colour": "red"}])
    assert not AuditEvent.objects.exists()
