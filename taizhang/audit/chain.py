"""Hash chain over audit events: hash = SHA-256(prev_hash ‖ canonical JSON of the event's fields).

This module is the one place that knows which fields are hashed and how. Writers (`services`,
`bulk`) seal events with `seal`; the verifier recomputes with `content_hash`. Pure Python, no ORM.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
# Names of the AuditEvent attributes covered by the hash (the row's id, prev_hash and hash are not).
HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_role", "actor_org", "actor_org_id", "action",
    "object_type", "object_id", "object_repr", "before", "after", "request_id",
)


def canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def occurred_at_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def json_value(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """`data` as the database will give it back: plain JSON types, non-JSON values as text."""
    value: dict[str, Any] = json.loads(canonical(data or {}))
    return value


def hashed_content(values: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields taken from `values` (a row as a dict, or `vars()` of an event)."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["occurred_at"] = occurred_at_text(content["occurred_at"])
    return content


def content_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    return event_hash(prev_hash, hashed_content(values))


def seal(event: Any, *, seq: int, prev_hash: str) -> str:
    """Give an unsaved event its place in the chain; returns its hash."""
    event.seq = seq
    event.prev_hash = prev_hash
    event.hash = content_hash(prev_hash, vars(event))
    return str(event.hash)
