"""Overdue replies to recommendations climb a ladder like cases do (sla.sweeper, 三级贯通), set-based and
exactly once. Registered with the outbox worker (`core.outbox.register_sweep`), so it runs after every
delivery pass; `sweep_recommendations(now)` may also be called directly.

Steps, on `Recommendation.reply_step` (the highest step applied) while the recommendation awaits its reply:

- 0 reminder: on a working day, the reply deadline falls within `REPLY_POLICY.remind_workdays_before`
  working days and has not passed → the addressed organisation;
- 1 overdue: the deadline has passed → `overdue_at` is set, level 1; the addressed organisation and the
  issuing supervisory body are told;
- 2 leadership: `level2_after_workdays` whole working days have passed since the deadline's day → level 2;
  the addressed organisation's parent (its leadership; itself when it has none) and the issuing body;
- 3 supervisory body: `level3_after_workdays` more → level 3; the issuing body and the body above it.

A batch of due rows is read under row locks (SKIP LOCKED on PostgreSQL; SQLite serialises writers) and
claimed by one conditional UPDATE that moves `reply_step` only where it still stands on the rung below;
the audit events and outbox rows are written in the same transaction. A reply stops the ladder (the state
leaves "issued"). Topics: `recommendation.reminder`, `.overdue`, `.escalated` with payload
{"recommendation": id, "number", "level", "due_at", "target_org_ids": [...]}.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from taizhang.audit.bulk import append_events
from taizhang.audit.services import SYSTEM
from taizhang.core import clock, outbox
from taizhang.sla import ladder
from taizhang.sla.sweeper import enqueue_many
from taizhang.supervision.models import Recommendation

BATCH_SIZE = 500
# A month-long deadline: remind three working days ahead; leadership after 3 working days overdue, the
# supervisory body after 5 more (the case ladder's published thresholds).
REPLY_POLICY = ladder.Policy(remind_workdays_before=3)
TOPICS = {0: "recommendation.reminder", 1: "recommendation.overdue", 2: "recommendation.escalated",
          3: "recommendation.escalated"}
AUDIT_ACTIONS = {0: "recommendation.reminded", 1: "recommendation.overdue", 2: "recommendation.escalated",
                 3: "recommendation.escalated"}


@dataclass(frozen=True)
class Rung:
    level: int
    due: Q  # on reply_due_at
    previous: Q  # on reply_step


def rungs(now: dt.datetime, policy: ladder.Policy = REPLY_POLICY) -> list[Rung]:
    found = []
    horizon = ladder.due_within(now, policy.remind_workdays_before)
    if horizon is not None:
        found.append(Rung(0, Q(reply_due_at__gte=now, reply_due_at__lte=horizon), Q(reply_step__isnull=True)))
    found.append(Rung(1, Q(reply_due_at__lt=now), Q(reply_step__isnull=True) | Q(reply_step=0)))
    found.append(Rung(2, Q(reply_due_at__lt=ladder.overdue_since_before(now, policy.level2_after_workdays)),
                      Q(reply_step=1)))
    level3 = policy.level2_after_workdays + policy.level3_after_workdays
    found.append(Rung(3, Q(reply_due_at__lt=ladder.overdue_since_before(now, level3)), Q(reply_step=2)))
    return found


def _targets(level: int, addressed: int, addressed_parent: int | None, issuing: int,
             issuing_parent: int | None) -> list[int]:
    chosen = {0: [addressed], 1: [addressed, issuing], 2: [addressed_parent or addressed, issuing],
              3: [issuing, *([issuing_parent] if issuing_parent else [])]}[level]
    return list(dict.fromkeys(chosen))


def _claim(rung: Rung, now: dt.datetime, batch_size: int) -> int:
    """Claim and act on one batch of `rung`; returns how many recommendations it moved."""
    with transaction.atomic():
        due = Recommendation.objects.filter(rung.due, rung.previous, state=Recommendation.State.ISSUED)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("reply_due_at", "pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return 0
        changes: dict[str, Any] = {"reply_step": rung.level}
        if rung.level >= 1:
            changes["escalation_level"] = rung.level
        claimed = Recommendation.objects.filter(rung.due, rung.previous, pk__in=ids,
                                                state=Recommendation.State.ISSUED)
        claimed_ids = list(claimed.values_list("pk", flat=True))
        moved = Recommendation.objects.filter(rung.previous, pk__in=claimed_ids).update(**changes)
        if rung.level == 1:
            Recommendation.objects.filter(pk__in=claimed_ids, overdue_at__isnull=True).update(overdue_at=now)
        rows = Recommendation.objects.filter(pk__in=claimed_ids).order_by("pk").values_list(
            "pk", "number", "title", "reply_due_at", "addressed_org_id", "addressed_org__parent_id",
            "issuing_org_id", "issuing_org__parent_id")
        messages, events = [], []
        for pk, number, title, due_at, addressed, addressed_parent, issuing, issuing_parent in rows:
            payload = {"recommendation": pk, "number": number, "level": rung.level,
                       "due_at": timezone.localtime(due_at).isoformat() if due_at else None,
                       "target_org_ids": _targets(rung.level, addressed, addressed_parent, issuing, issuing_parent)}
            messages.append((TOPICS[rung.level], payload))
            events.append({"actor": SYSTEM, "action": AUDIT_ACTIONS[rung.level], "object_type": "recommendation",
                           "object_id": pk, "object_repr": number or title,
                           "after": {k: v for k, v in payload.items() if k != "recommendation"}})
        enqueue_many(messages, now)
        append_events(events)
    return moved


def sweep_recommendations(now: dt.datetime | None = None, *, batch_size: int = BATCH_SIZE) -> int:
    """Apply every due rung, lowest first, until nothing moves; returns how many steps were applied."""
    now = now or clock.now()
    total = 0
    while True:
        acted = 0
        for rung in rungs(now):
            while True:
                moved = _claim(rung, now, batch_size)
                acted += moved
                if moved < batch_size:
                    break
        total += acted
        if not acted:
            return total


def connect() -> None:
    outbox.register_sweep("supervision.recommendations", sweep_recommendations)
