"""Bulk appending for generators and imports: one head lock, hashes computed in Python, rows
inserted in batches. Each row holds the keyword arguments of `record_event` (plus, optionally,
`occurred_at` for replayed history)."""

from collections.abc import Iterable, Mapping
from itertools import batched
from typing import Any

from taizhang.audit.chain import seal
from taizhang.audit.models import AuditEvent
from taizhang.audit.services import build_event, lock_head, move_head, require_transaction

BATCH_SIZE = 2000


def append_events(rows: Iterable[Mapping[str, Any]], *, batch_size: int = BATCH_SIZE) -> int:
    """Append one event per row, in order, inside the caller's transaction. Returns how many."""
    require_transaction("append_events")
    head = lock_head()
    seq, prev_hash = head.seq, head.hash
    last: AuditEvent | None = None
    for chunk in batched(rows, batch_size):
        events = []
        for row in chunk:
            event = build_event(**row)
            seq += 1
            prev_hash = seal(event, seq=seq, prev_hash=prev_hash)
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=batch_size)
        last = events[-1]
    if last is None:
        return 0
    appended = last.seq - head.seq
    move_head(head, last)
    return appended
