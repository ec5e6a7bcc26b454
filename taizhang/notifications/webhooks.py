"""Webhooks: signed HTTP callbacks for case events, delivered from the transactional outbox.

The path of an event:

1. A service writes an outbox row in the transaction of the change (`taizhang.core.outbox.enqueue`).
2. After commit, the outbox worker runs `fan_out` for the row: one `WebhookDelivery` per active
   endpoint subscribed to the event (at most one per endpoint and row, even if the worker retries).
3. `deliver_due` (the `deliver_webhooks` task, also run by every outbox delivery pass) claims due
   deliveries with compare-and-swap, POSTs them with a short timeout, and records the outcome; a
   failure is retried with exponential back-off until `max_attempts()`, then marked failed.

Nothing here runs in the request that caused the event. Payloads carry the case number, the event,
the state, the version and timestamps — never personal data or reporter details.

Signature: `X-Taizhang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
endpoint's secret>`; receivers recompute it (see `verify_signature`) and reject old timestamps.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import task

from taizhang.cases.workflow import TRANSITIONS
from taizhang.core import clock, outbox
from taizhang.core.models import OutboxMessage
from taizhang.notifications.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Taizhang-Signature"
EVENT_HEADER = "X-Taizhang-Event"
DELIVERY_HEADER = "X-Taizhang-Delivery"
USER_AGENT = "Taizhang-Webhooks/1"
SIGNATURE_TOLERANCE_SECONDS = 300
RESPONSE_EXCERPT_CHARS = 500
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600

# Events an endpoint may subscribe to: registration, every workflow event, and the deadline engine's.
EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys([
    "case.created",
    *(t.event for t in TRANSITIONS),
    "case.evidence_added",
    "case.reminder",
    "case.overdue",
    "case.escalated",
    "supervision_order.issued",
    "supervision_order.overdue",
    "supervision_order.replied",
]))
# Only these keys of an outbox payload reach the outside world: no actor, no reporter, no organisation
# ids and no free text (reasons, replies).
PAYLOAD_KEYS = ("case", "action", "outcome", "state", "version", "level", "clock", "due_at", "response_due_at",
                "order", "reply_due_at", "late")


def max_attempts() -> int:
    return int(getattr(settings, "TAIZHANG_WEBHOOK_MAX_ATTEMPTS", 8))


def timeout_seconds() -> float:
    return float(getattr(settings, "TAIZHANG_WEBHOOK_TIMEOUT_SECONDS", 5))


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … capped at 6 h."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


# --- signing ---------------------------------------------------------------------------------------

def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, now: dt.datetime | None = None,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: parse `t=…,v1=…`, recompute, compare in constant time, refuse stale stamps."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    moment = now or clock.now()
    if abs(moment.timestamp() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))


# --- fan-out (outbox handler) ----------------------------------------------------------------------

def build_payload(message: OutboxMessage) -> dict[str, Any]:
    data = message.payload if isinstance(message.payload, dict) else {}
    case = {key: data[key] for key in PAYLOAD_KEYS if key in data}
    return {
        "event": message.topic,
        "occurred_at": message.created_at.isoformat(),
        "data": case,
    }


def fan_out(message: OutboxMessage) -> None:
    """Outbox handler: one delivery per subscribed endpoint. Runs in the worker's transaction."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.subscribes_to(message.topic)]
    if not endpoints:
        return
    payload = build_payload(message)
    now = clock.now()
    created = 0
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                _, made = WebhookDelivery.objects.get_or_create(
                    endpoint=endpoint, outbox_message=message,
                    defaults={"event": message.topic, "payload": payload, "next_attempt_at": now, "created_at": now},
                )
        except IntegrityError:  # a concurrent worker created it first
            made = False
        created += int(made)
    if created:
        transaction.on_commit(_wake_deliverer)


def _wake_deliverer(run_after: dt.datetime | None = None) -> None:
    try:
        if run_after is None:
            deliver_webhooks.enqueue()
        else:
            deliver_webhooks.using(run_after=run_after).enqueue()
    except Exception:  # the next outbox pass delivers them
        logger.exception("could not enqueue webhook delivery")


# --- delivery --------------------------------------------------------------------------------------

def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def request_headers(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.delivery_id),
        SIGNATURE_HEADER: signature_header(delivery.endpoint.secret, timestamp, body),
    }


def _claim(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Take the delivery for one attempt: compare-and-swap on (status, next_attempt_at, attempts).
    The lease pushes next_attempt_at forward, so a worker that dies mid-attempt loses only the lease."""
    lease = dt.timedelta(seconds=timeout_seconds() * 3 + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at=delivery.next_attempt_at,
        attempts=delivery.attempts,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease, last_attempt_at=now)
    if claimed:
        delivery.attempts += 1
    return bool(claimed)


def attempt(delivery: WebhookDelivery) -> bool:
    """One attempt at `delivery`, if it is due and no one else holds it. True when delivered."""
    now = clock.now()
    if delivery.status != WebhookDelivery.Status.PENDING or delivery.next_attempt_at is None \
            or delivery.next_attempt_at > now or not _claim(delivery, now):
        return False
    endpoint = delivery.endpoint
    response_status: int | None = None
    excerpt = error = ""
    if not endpoint.is_active:
        error = "endpoint deactivated"
    else:
        body = encode(delivery.payload)
        try:
            response = requests.post(endpoint.url, data=body, headers=request_headers(delivery, body,
                                                                                      int(now.timestamp())),
                                     timeout=timeout_seconds(), allow_redirects=False)
            response_status = response.status_code
            excerpt = response.text[:RESPONSE_EXCERPT_CHARS]
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
    ok = not error
    finished = clock.now()
    changes: dict[str, Any] = {"response_status": response_status, "response_body": excerpt, "error": error}
    if ok:
        changes.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=finished, next_attempt_at=None)
    elif not endpoint.is_active or delivery.attempts >= max_attempts():
        changes.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        changes.update(next_attempt_at=finished + retry_delay(delivery.attempts))
    # Only the holder of this attempt writes its outcome.
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts,
                                   status=WebhookDelivery.Status.PENDING).update(**changes)
    for name, value in changes.items():
        setattr(delivery, name, value)
    logger.info("webhook %s %s to %s: attempt %s, %s", delivery.delivery_id, delivery.event, endpoint.name,
                delivery.attempts, "delivered" if ok else f"{delivery.status} ({error})")
    return ok


def deliver_due(limit: int = 100) -> int:
    """Attempt up to `limit` due deliveries; schedule the next pass for the earliest retry.
    Returns how many were delivered."""
    now = clock.now()
    due = list(
        WebhookDelivery.objects.select_related("endpoint")
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:limit]
    )
    delivered = sum(attempt(delivery) for delivery in due)
    if due:
        following = (WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
                     .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())
        if following is not None:
            _wake_deliverer(run_after=max(following, clock.now()))
    return delivered


@task()
def deliver_webhooks() -> int:
    return deliver_due()


def connect() -> None:
    """Subscribe the fan-out to every outbox topic, and delivery to every outbox pass (once)."""
    if fan_out not in outbox.handlers_for(""):
        outbox.register_handler("", fan_out)
    outbox.register_sweep("webhooks", deliver_due)
