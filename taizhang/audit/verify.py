"""Check the audit chain end to end and name the first event that breaks it.

Rows are streamed in `seq` order with bounded memory. For each row the verifier checks, in order:
its place in the sequence (no gap), its link to the previous row (`prev_hash`), its own content
(`hash` recomputed), and that it was stored in chain order (ids grow with seq: a row written later
and slipped in between shows up as out of order). Finally the chain head must name the last row.

The head is read before the rows: every row up to `head.seq` was committed with that head, so a
writer appending meanwhile never causes a false alarm.
"""

import enum
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from taizhang.audit.chain import GENESIS, HASHED_FIELDS, content_hash
from taizhang.audit.models import AuditChainHead, AuditEvent

CHUNK_SIZE = 2000
ROW_FIELDS = ("id", "prev_hash", "hash", *HASHED_FIELDS)


class Reason(enum.StrEnum):
    SEQ_GAP = "seq_gap"
    PREV_HASH_MISMATCH = "prev_hash_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    OUT_OF_ORDER = "out_of_order"
    HEAD_MISMATCH = "head_mismatch"
    HEAD_MISSING = "head_missing"


def reason_text(reason: Reason) -> str:
    texts = {
        Reason.SEQ_GAP: _("events are missing before this one (removed rows)"),
        Reason.PREV_HASH_MISMATCH: _("does not link to the event before it (removed, inserted or reordered rows)"),
        Reason.HASH_MISMATCH: _("its content does not match its stored hash (edited or forged row)"),
        Reason.OUT_OF_ORDER: _("stored after events that follow it in the chain (inserted row)"),
        Reason.HEAD_MISMATCH: _("the chain head does not match the last event (truncated or extended tail)"),
        Reason.HEAD_MISSING: _("the chain head row is missing"),
    }
    return texts[reason]


@dataclass(frozen=True)
class Problem:
    """Where the chain first breaks. `event_id` is None when the position holds no row."""

    reason: Reason
    seq: int | None
    event_id: int | None
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    detail: str = ""

    @property
    def explanation(self) -> str:
        text = reason_text(self.reason)
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    head_seq: int | None
    head_hash: str | None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _problem(reason: Reason, row: dict[str, Any], detail: str = "") -> Problem:
    return Problem(reason=reason, seq=row["seq"], event_id=row["id"], action=row["action"],
                   object_type=row["object_type"], object_id=row["object_id"], detail=detail)


def _rows(up_to_seq: int | None, chunk_size: int) -> Iterator[dict[str, Any]]:
    events = AuditEvent.objects.order_by("seq")
    if up_to_seq is not None:
        events = events.filter(seq__lte=up_to_seq)
    rows: Iterator[dict[str, Any]] = events.values(*ROW_FIELDS).iterator(chunk_size=chunk_size)
    return rows


def _reading() -> AbstractContextManager[Any]:
    # In a transaction PostgreSQL streams the server-side cursor instead of materialising it first.
    return transaction.atomic() if connection.vendor == "postgresql" else nullcontext()


def _check_rows(rows: Iterator[dict[str, Any]]) -> tuple[int, dict[str, Any] | None, Problem | None]:
    """Walk the rows; returns how many passed, the last one, and the first problem."""
    checked = 0
    prev: dict[str, Any] | None = None
    prev_prev_id: int | None = None
    for row in rows:
        expected_seq = prev["seq"] + 1 if prev else 1
        misplaced = prev is not None and row["id"] < prev["id"]
        if prev is not None and misplaced and (prev_prev_id is None or row["id"] > prev_prev_id):
            detail = _("its id %(id)d is newer than id %(next_id)d of the next event #%(next)d") % {
                "id": prev["id"], "next": row["seq"], "next_id": row["id"]}
            return checked - 1, prev, _problem(Reason.OUT_OF_ORDER, prev, detail)
        if row["seq"] != expected_seq:
            detail = _("expected #%(expected)d, found #%(found)d") % {"expected": expected_seq, "found": row["seq"]}
            return checked, prev, _problem(Reason.SEQ_GAP, row, detail)
        if row["prev_hash"] != (prev["hash"] if prev else GENESIS):
            return checked, prev, _problem(Reason.PREV_HASH_MISMATCH, row)
        if content_hash(row["prev_hash"], row) != row["hash"]:
            return checked, prev, _problem(Reason.HASH_MISMATCH, row)
        if misplaced:
            return checked, prev, _problem(Reason.OUT_OF_ORDER, row)
        checked += 1
        prev_prev_id = prev["id"] if prev else None
        prev = row
    return checked, prev, None


def _check_head(head: AuditChainHead | None, last: dict[str, Any] | None) -> Problem | None:
    last_seq, last_hash = (last["seq"], last["hash"]) if last else (0, GENESIS)
    if head is None:
        return None if last is None else Problem(Reason.HEAD_MISSING, seq=None, event_id=None)
    if (head.seq, head.hash) == (last_seq, last_hash):
        return None
    detail = _("the head records #%(head)d, the last event is #%(last)d") % {"head": head.seq, "last": last_seq}
    if head.seq == last_seq:
        assert last is not None
        return _problem(Reason.HEAD_MISMATCH, last, detail)
    return Problem(Reason.HEAD_MISMATCH, seq=head.seq, event_id=None, detail=detail)


def _check_beyond_head(head: AuditChainHead) -> Problem | None:
    """Rows past the head that no committed head covers were written around the chain's writer."""
    highest = AuditEvent.objects.aggregate(highest=Max("seq"))["highest"]
    current = AuditChainHead.objects.filter(id=1).first()
    covered = current.seq if current else head.seq
    if highest is None or highest <= covered:
        return None
    row = AuditEvent.objects.filter(seq__gt=covered).order_by("seq").values(*ROW_FIELDS).first()
    if row is None:  # removed since we looked
        return None
    detail = _("the head records #%(head)d, events go up to #%(last)d") % {"head": covered, "last": highest}
    return _problem(Reason.HEAD_MISMATCH, row, detail)


def describe(problem: Problem) -> str:
    """One line naming where the chain breaks and why."""
    if problem.seq is None:
        where = _("the chain head")
    elif problem.event_id is None:
        where = _("event #%(seq)d (no such row)") % {"seq": problem.seq}
    else:
        where = _("event #%(seq)d (id %(id)d)") % {"seq": problem.seq, "id": problem.event_id}
    subject = f" {problem.action} {problem.object_type}:{problem.object_id}" if problem.action else ""
    return _("FAILED at %(where)s%(subject)s [%(reason)s]: %(explanation)s") % {
        "where": where, "subject": subject, "reason": problem.reason.value, "explanation": problem.explanation}


def verify_chain(*, chunk_size: int = CHUNK_SIZE) -> VerifyResult:
    """Recompute every hash in seq order; report the first event that breaks the chain."""
    with _reading():
        head = AuditChainHead.objects.filter(id=1).first()
        checked, last, problem = _check_rows(_rows(head.seq if head else None, chunk_size))
        if problem is None:
            problem = _check_head(head, last)
        if problem is None and head is not None:
            problem = _check_beyond_head(head)
    return VerifyResult(checked=checked, head_seq=head.seq if head else None,
                        head_hash=head.hash if head else None, problem=problem)
