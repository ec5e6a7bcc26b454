"""The scheduler: enqueues the periodic jobs (outbox delivery, e-mail, the SLA sweep) as `django.tasks`.

Safe to run twice (or on every host): each job is a `ScheduledJob` row, and a run is claimed with a
compare-and-swap — `UPDATE … SET next_run_at = <next> WHERE id = … AND next_run_at = <the value read>` —
in the same transaction as the enqueue. Of two schedulers that read the same row, only one UPDATE
matches; the other sees zero rows and moves on. With the database task backend the claim and the task
row commit together; with Celery a crash between the claim and the publish loses at most that one run.
Missed runs are not caught up: after a pause the next run is one interval from now.
"""

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import F
from django.utils.module_loading import import_string

from taizhang.core import clock, outbox
from taizhang.notifications import services
from taizhang.notifications.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task_paths: tuple[str, ...]  # the first importable one is used; none importable: the job is skipped
    interval_seconds: int
    when: Callable[[], bool] | None = None  # enqueue only if this says there is work

    def task(self) -> Any | None:
        for path in self.task_paths:
            try:
                return import_string(path)
            except ImportError:
                continue
        return None


JOBS: Sequence[Job] = (
    Job("outbox.deliver", ("taizhang.core.tasks.deliver_outbox",), 5, outbox.has_pending),
    Job("notifications.email", ("taizhang.notifications.tasks.send_notification_emails",), 30,
        services.emails_pending),
    Job("sla.sweep", ("taizhang.sla.tasks.sweep_clocks", "taizhang.sla.tasks.sweep"), 60),
)


@dataclass(frozen=True)
class Claim:
    job: str
    slot: dt.datetime  # the next_run_at value this scheduler swapped out
    enqueued: bool
    result_id: str | None = None  # the enqueued task's result id


def _row(job: Job, now: dt.datetime) -> ScheduledJob:
    row, _created = ScheduledJob.objects.get_or_create(
        name=job.name, defaults={"interval_seconds": job.interval_seconds, "next_run_at": now})
    return row


def _next_run(slot: dt.datetime, interval: int, now: dt.datetime) -> dt.datetime:
    following = slot + dt.timedelta(seconds=interval)
    return following if following > now else now + dt.timedelta(seconds=interval)


def claim_and_enqueue(job: Job, task: Any, now: dt.datetime) -> Claim | None:
    """Claim the due run of `job` (compare-and-swap) and enqueue its task; None if it is not due or
    another scheduler claimed it first."""
    row = _row(job, now)
    if row.next_run_at > now:
        return None
    with transaction.atomic():
        won = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=_next_run(row.next_run_at, row.interval_seconds, now), last_run_at=now, runs=F("runs") + 1)
        if won != 1:
            return None
        enqueued = job.when is None or job.when()
        result = task.enqueue() if enqueued else None
    return Claim(job.name, row.next_run_at, enqueued, getattr(result, "id", None))


def tick(now: dt.datetime | None = None, jobs: Iterable[Job] = JOBS) -> list[Claim]:
    """One pass over the jobs: claim and enqueue each one that is due. Returns the runs claimed here."""
    now = now or clock.now()
    claims: list[Claim] = []
    for job in jobs:
        task = job.task()
        if task is None:
            continue
        try:
            claim = claim_and_enqueue(job, task, now)
        except Exception:  # e.g. the broker is down: the claim rolled back, the next pass retries
            logger.exception("scheduler could not enqueue %s", job.name)
            continue
        if claim is not None:
            claims.append(claim)
    return claims


def run(stop: threading.Event, poll_seconds: float = 1.0, jobs: Iterable[Job] = JOBS) -> None:
    """Tick every `poll_seconds` until `stop` is set."""
    jobs = list(jobs)
    while not stop.is_set():
        close_old_connections()
        try:
            tick(jobs=jobs)
        except Exception:  # the database is away for a moment: keep going
            logger.exception("scheduler pass failed")
        stop.wait(poll_seconds)
    close_old_connections()
