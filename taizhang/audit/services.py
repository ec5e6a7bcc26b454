"""The one writer of audit events. Call it inside the transaction of the write it records."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from taizhang.audit.chain import HASHED_FIELDS, event_hash
from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.core import clock
from taizhang.core.middleware import current_request_id


@dataclass(frozen=True)
class ActorContext:
    """Who acted, with the role and organisation they acted in at that moment."""

    user_id: int | None
    name: str
    role: str = ""
    org_id: int | None = None
    org_name: str = ""


SYSTEM = ActorContext(user_id=None, name="system")


def occurred_at_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def record_event(*, actor: ActorContext, action: str, object_type: str, object_id: Any, object_repr: str = "",
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 request_id: str | None = None) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the write it records")
    # Lock the head row: the chain grows one event at a time.
    AuditChainHead.objects.get_or_create(id=1)
    AuditChainHead.objects.filter(id=1).update(seq=F("seq") + 1)
    head = AuditChainHead.objects.get(id=1)
    moment = clock.now().astimezone(dt.UTC)
    fields: dict[str, Any] = {
        "seq": head.seq,
        "occurred_at": occurred_at_text(moment),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "actor_org": actor.org_name,
        "actor_org_id": actor.org_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_repr": object_repr[:200],
        "before": before or {},
        "after": after or {},
        "request_id": request_id if request_id is not None else current_request_id.get(),
    }
    assert set(fields) == set(HASHED_FIELDS)
    digest = event_hash(head.hash, fields)
    event = AuditEvent.objects.create(
        seq=head.seq, occurred_at=moment, actor_id=actor.user_id, actor_name=actor.name, actor_role=actor.role,
        actor_org=actor.org_name, actor_org_id=actor.org_id, action=action, object_type=object_type,
        object_id=fields["object_id"], object_repr=fields["object_repr"], before=fields["before"],
        after=fields["after"], request_id=fields["request_id"], prev_hash=head.hash, hash=digest,
    )
    AuditChainHead.objects.filter(id=1).update(hash=digest)
    return event
