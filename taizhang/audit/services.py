"""The writers of audit events. Call them inside the transaction of the write they record.

`record_event` appends one event; `bulk.append_events` many. Both build events with `build_event`
and extend the chain under the lock of the single `AuditChainHead` row, so the chain grows one
writer at a time.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from taizhang.audit.chain import json_value, occurred_at_text, seal
from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.core import clock, rows
from taizhang.core.middleware import current_request_id

__all__ = ["SYSTEM", "ActorContext", "build_event", "lock_head", "occurred_at_text", "record_event"]


@dataclass(frozen=True)
class ActorContext:
    """Who acted, with the role and organisation they acted in at that moment."""

    user_id: int | None
    name: str
    role: str = ""
    org_id: int | None = None
    org_name: str = ""


SYSTEM = ActorContext(user_id=None, name="system")


def require_transaction(writer: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{writer} must run inside the transaction of the write it records")


def build_event(*, actor: ActorContext, action: str, object_type: str, object_id: Any, object_repr: str = "",
                before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                request_id: str | None = None, occurred_at: dt.datetime | None = None) -> AuditEvent:
    """An unsaved, unsealed event. `occurred_at` defaults to the clock (bulk writers replaying history
    may pass it); values are normalised to what the database gives back, so the hash survives a
    round trip."""
    moment = (occurred_at or clock.now()).astimezone(dt.UTC)
    return AuditEvent(
        occurred_at=moment, actor_id=actor.user_id, actor_name=actor.name, actor_role=actor.role,
        actor_org=actor.org_name, actor_org_id=actor.org_id, action=action, object_type=object_type,
        object_id=str(object_id), object_repr=object_repr[:200], before=json_value(before),
        after=json_value(after), request_id=request_id if request_id is not None else current_request_id.get(),
    )


# The head is read and moved on every write: written out, since building these through the ORM costs many
# times what they take to run.
HEAD_SQL = f"SELECT {rows.columns(AuditChainHead, 'h')} FROM {AuditChainHead._meta.db_table} h WHERE h.id = 1"
MOVE_HEAD_SQL = f"UPDATE {AuditChainHead._meta.db_table} SET seq = %s, hash = %s WHERE id = %s"


def _locked_head() -> AuditChainHead | None:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite locks the whole database
    with connection.cursor() as cursor:
        cursor.execute(HEAD_SQL + lock)
        row = cursor.fetchone()
    return None if row is None else rows.load(AuditChainHead, row)


def lock_head() -> AuditChainHead:
    """The chain head, locked until the end of the transaction (one query once the head exists)."""
    head = _locked_head()
    if head is None:
        AuditChainHead.objects.get_or_create(id=1)
        head = _locked_head()
        assert head is not None
    return head


def move_head(head: AuditChainHead, last: AuditEvent) -> None:
    head.seq, head.hash = last.seq, last.hash
    with connection.cursor() as cursor:
        cursor.execute(MOVE_HEAD_SQL, [head.seq, head.hash, head.pk])


def _append_event(head: AuditChainHead, event: AuditEvent) -> None:
    """Insert a sealed event and move the locked head to it (one round trip on PostgreSQL, which shortens
    the time every writer holds the head)."""
    rows.insert(event, along=(MOVE_HEAD_SQL, [event.seq, event.hash, head.pk]))
    head.seq, head.hash = event.seq, event.hash


def record_event(*, actor: ActorContext, action: str, object_type: str, object_id: Any, object_repr: str = "",
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 request_id: str | None = None) -> AuditEvent:
    require_transaction("record_event")
    head = lock_head()  # first, so that times follow the chain's order
    event = build_event(actor=actor, action=action, object_type=object_type, object_id=object_id,
                        object_repr=object_repr, before=before, after=after, request_id=request_id)
    seal(event, seq=head.seq + 1, prev_hash=head.hash)
    _append_event(head, event)
    return event
