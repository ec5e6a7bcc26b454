"""Hash chain over audit events: hash = SHA-256(prev_hash ‖ canonical JSON of the event's fields)."""

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_role", "actor_org", "actor_org_id", "action",
    "object_type", "object_id", "object_repr", "before", "after", "request_id",
)


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()
