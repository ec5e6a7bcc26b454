"""Transactional outbox: `enqueue` inside the writer's transaction, delivery after commit."""

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.tasks import Task, TaskResultStatus

from taizhang.core import clock, rows
from taizhang.core.models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
_handlers: dict[str, list[Handler]] = {}
_sweeps: dict[str, Callable[[], object]] = {}


def register_handler(topic_prefix: str, handler: Handler) -> None:
    """Subscribe `handler` to every topic starting with `topic_prefix` ("" for all)."""
    _handlers.setdefault(topic_prefix, []).append(handler)


def register_sweep(name: str, sweep: Callable[[], object]) -> None:
    """Run `sweep` after every delivery pass (e.g. retries of webhook deliveries); once per name."""
    _sweeps[name] = sweep


def run_sweeps() -> None:
    for name, sweep in list(_sweeps.items()):
        try:
            sweep()
        except Exception:  # one failing sweep never stops the others or the delivery pass
            logger.exception("outbox sweep %s failed", name)


def handlers_for(topic: str) -> list[Handler]:
    return [h for prefix, hs in _handlers.items() if topic.startswith(prefix) for h in hs]


def enqueue(topic: str, payload: dict[str, Any]) -> OutboxMessage:
    message = OutboxMessage(topic=topic, payload=payload, available_at=clock.now())
    rows.insert(message)
    transaction.on_commit(_wake_worker)
    return message


def _wake_worker() -> None:
    from taizhang.core.tasks import deliver_outbox

    try:
        if not _already_queued(deliver_outbox):
            deliver_outbox.enqueue()
    except Exception:  # the periodic sweep delivers it later
        logger.exception("could not enqueue outbox delivery")


def _already_queued(task: Task[..., Any]) -> bool:
    """Whether `task` waits unclaimed in the database queue. A delivery waiting there sees this message:
    the message committed before this check, and a worker commits its claim before it runs the task.
    Under load this is one read instead of one more task row per write. Other backends: False."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    # Written out, since building it through the ORM costs many times what it takes to run.
    run_after = DBTaskResult._meta.get_field("run_after").get_db_prep_value(get_date_max(), connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {DBTaskResult._meta.db_table} WHERE status = %s AND backend_name = %s "
                       "AND task_path = %s AND run_after = %s LIMIT 1",
                       [TaskResultStatus.READY.value, backend.alias, task.module_path, run_after])
        return cursor.fetchone() is not None


RETRY_BACKOFF_SECONDS = [10, 60, 300, 1800, 7200]


def has_pending() -> bool:
    """Whether a message is due for delivery (the scheduler enqueues a delivery only then)."""
    return OutboxMessage.objects.filter(delivered_at__isnull=True, available_at__lte=clock.now()).exists()


def deliver_pending(limit: int = 200) -> int:
    """Deliver up to `limit` due messages; each is claimed with a row lock (skip_locked) so
    several workers never deliver the same message twice. Returns how many were delivered."""
    delivered = 0
    now = clock.now()
    while delivered < limit:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(delivered_at__isnull=True, available_at__lte=now)
                .order_by("available_at", "pk")
                .first()
            )
            if message is None:
                break
            try:
                # One savepoint for all handlers: a failing handler undoes the others' writes too, and
                # the message is retried whole (handlers are idempotent per message).
                with transaction.atomic():
                    for handler in handlers_for(message.topic):
                        handler(message)
            except Exception as exc:
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                backoff = RETRY_BACKOFF_SECONDS[min(message.attempts, len(RETRY_BACKOFF_SECONDS)) - 1]
                message.available_at = now + dt.timedelta(seconds=backoff)
                message.save(update_fields=["attempts", "last_error", "available_at"])
                continue
            message.delivered_at = clock.now()
            message.attempts += 1
            message.save(update_fields=["delivered_at", "attempts"])
            delivered += 1
    run_sweeps()
    return delivered
