"""The scheduler enqueues each run of each periodic job once, however many schedulers run."""

import datetime as dt
import multiprocessing
import queue
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from taizhang.notifications import scheduler
from taizhang.notifications.models import ScheduledJob
from taizhang.notifications.tests.scheduling import scheduler_worker
from taizhang.testing import matrix

T0 = matrix.MOMENT
DELIVER = "taizhang.core.tasks.deliver_outbox"
JOB = scheduler.Job("test.deliver", (DELIVER,), 60)


def enqueued(path=DELIVER):
    return DBTaskResult.objects.filter(task_path=path).count()


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_per_interval():
    assert [c.job for c in scheduler.tick(T0, [JOB])] == ["test.deliver"]
    assert enqueued() == 1
    assert scheduler.tick(T0, [JOB]) == []
    assert scheduler.tick(T0 + dt.timedelta(seconds=59), [JOB]) == []
    assert len(scheduler.tick(T0 + dt.timedelta(seconds=60), [JOB])) == 1
    assert enqueued() == 2
    row = ScheduledJob.objects.get(name="test.deliver")
    assert row.runs == 2
    assert row.next_run_at == T0 + dt.timedelta(seconds=120)


@pytest.mark.django_db
def test_missed_runs_are_not_caught_up():
    scheduler.tick(T0, [JOB])
    later = T0 + dt.timedelta(hours=5)
    assert len(scheduler.tick(later, [JOB])) == 1
    assert scheduler.tick(later + dt.timedelta(seconds=30), [JOB]) == []
    assert ScheduledJob.objects.get(name="test.deliver").next_run_at == later + dt.timedelta(seconds=60)


@pytest.mark.django_db
def test_a_scheduler_that_read_a_stale_row_loses_the_compare_and_swap(monkeypatch):
    scheduler.tick(T0, [JOB])
    now = T0 + dt.timedelta(seconds=60)
    stale = ScheduledJob.objects.get(name="test.deliver")  # both schedulers read this row
    assert scheduler.claim_and_enqueue(JOB, JOB.task(), now) is not None
    monkeypatch.setattr(scheduler, "_row", lambda job, now: stale)
    assert scheduler.claim_and_enqueue(JOB, JOB.task(), now) is None
    assert enqueued() == 2


@pytest.mark.django_db
def test_nothing_to_do_claims_the_run_without_enqueueing():
    idle = scheduler.Job("test.idle", (DELIVER,), 5, when=lambda: False)
    claims = scheduler.tick(T0, [idle])
    assert [(c.job, c.enqueued) for c in claims] == [("test.idle", False)]
    assert enqueued() == 0


@pytest.mark.django_db
def test_a_failed_enqueue_gives_the_run_back(monkeypatch):
    class Broken:
        def enqueue(self):
            raise ConnectionError("broker away")

    monkeypatch.setattr(scheduler.Job, "task", lambda self: Broken())
    assert scheduler.tick(T0, [JOB]) == []
    assert ScheduledJob.objects.get(name="test.deliver").next_run_at == T0  # still due: the next pass retries
    monkeypatch.undo()
    assert len(scheduler.tick(T0, [JOB])) == 1


@pytest.mark.django_db
def test_jobs_whose_task_does_not_exist_are_skipped():
    ghost = scheduler.Job("test.ghost", ("taizhang.nowhere.tasks.run", "taizhang.core.tasks.nothing"), 60)
    assert scheduler.tick(T0, [ghost]) == []
    assert not ScheduledJob.objects.filter(name="test.ghost").exists()


@pytest.mark.django_db
def test_the_default_jobs_and_the_command():
    names = {job.name for job in scheduler.JOBS}
    assert names == {"outbox.deliver", "notifications.email", "sla.sweep"}
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert ScheduledJob.objects.filter(name__in=names).count() == sum(job.task() is not None for job in scheduler.JOBS)
    # Nothing pending: the delivery and e-mail runs are claimed but not enqueued.
    assert enqueued() == 0
    assert "outbox.deliver" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_in_parallel_enqueue_each_run_once():
    instants = [T0 + dt.timedelta(seconds=30 * i) for i in range(12)]  # a run due every other instant
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    url = matrix.database_url(connection.settings_dict)
    workers = [ctx.Process(target=scheduler_worker, args=(url, instants, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    claims, done = [], 0
    try:
        while done < 2:
            try:
                item = results.get(timeout=5)
            except queue.Empty:
                if not any(w.is_alive() for w in workers):
                    pytest.fail("the schedulers stopped early")
                continue
            if item[0] == "done":
                done += 1
            else:
                claims.append(item)
    finally:
        for worker in workers:
            worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    slots = [(job, slot) for job, slot, _pid in claims]
    assert len(slots) == len(set(slots)), "a run was claimed twice"
    assert len(slots) == 2 * 6  # two jobs, one run per minute over six minutes
    assert enqueued(DELIVER) == 6
    assert enqueued("taizhang.notifications.tasks.send_notification_emails") == 6


@pytest.mark.django_db
def test_administrators_may_change_a_jobs_interval_and_nobody_else_sees_the_schedule(client, world, settings):
    from django.urls import reverse

    from taizhang.audit.models import AuditEvent

    settings.SECURE_SSL_REDIRECT = False
    scheduler.tick(T0, [JOB])
    row = ScheduledJob.objects.get(name="test.deliver")
    url = reverse("admin:notifications_scheduledjob_change", args=[row.pk])
    client.force_login(world.supervisor)
    assert client.get(reverse("admin:notifications_scheduledjob_changelist")).status_code in (302, 403)
    client.force_login(world.admin)
    assert client.get(reverse("admin:notifications_scheduledjob_changelist")).status_code == 200
    assert client.post(url, {"interval_seconds": "120"}).status_code == 302
    row.refresh_from_db()
    assert row.interval_seconds == 120
    assert AuditEvent.objects.filter(action="notifications.scheduledjob.changed").exists()
    assert client.get(reverse("admin:notifications_scheduledjob_add")).status_code == 403


@pytest.mark.django_db
def test_the_loop_ticks_until_asked_to_stop(monkeypatch):
    import threading

    stop = threading.Event()
    passes = []

    def counting_tick(now=None, jobs=()):
        passes.append(now)
        if len(passes) == 3:
            stop.set()
        if len(passes) == 2:
            raise ConnectionError("database away for a moment")  # logged, the loop goes on
        return []

    monkeypatch.setattr(scheduler, "tick", counting_tick)
    scheduler.run(stop, poll_seconds=0)
    assert len(passes) == 3
