"""The task suite, run by the embedded database worker and — in .ci/run's Celery step — by a real
Redis-backed Celery worker (`pytest -m celery` with TAIZHANG_TASK_BACKEND=celery): the same scenarios,
the same assertions. Tasks run in the worker, so these tests commit (transaction=True)."""

import time

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus, task_backends

from taizhang.cases import services as cases
from taizhang.cases.workflow import State
from taizhang.core import outbox
from taizhang.core.models import OutboxMessage
from taizhang.core.tasks import deliver_outbox
from taizhang.core.workdays import seed_calendar
from taizhang.notifications import scheduler
from taizhang.notifications.models import Notification
from taizhang.notifications.tests.helpers import escalation_payload, told
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.testing import matrix

DATABASE = "django_tasks_db.DatabaseBackend"
CELERY = "django_tasks_celery.CeleryBackend"
WAIT_SECONDS = 60


class Engine:
    """Runs what was enqueued, and waits until `done()` holds (the Celery worker runs on its own)."""

    def __init__(self, name):
        self.name = name

    def settle(self, done):
        if self.name == "database":
            call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload",
                         verbosity=0)
            return done()
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.2)
        return done()

    def drain(self):
        """Wait until the Celery worker is idle and its queue empty, so the test database can be flushed."""
        if self.name != "celery":
            return
        from taizhang.config.celery import app

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with app.connection_for_read() as conn:
                try:
                    waiting = conn.default_channel.queue_declare(queue=app.conf.task_default_queue,
                                                                 passive=True).message_count
                except conn.channel_errors:  # Redis drops an empty queue's key: nothing waits
                    waiting = 0
            inspect = app.control.inspect(timeout=1)
            busy = any((inspect.active() or {}).values()) or any((inspect.reserved() or {}).values())
            if not waiting and not busy:
                return
            time.sleep(0.2)


@pytest.fixture(params=["database", pytest.param("celery", marks=pytest.mark.celery)])
def engine(request):
    backend = settings.TASKS["default"]["BACKEND"]
    if request.param == "celery" and backend != CELERY:
        pytest.skip("needs a running Celery worker: set TAIZHANG_TASK_BACKEND=celery and start "
                    "`celery -A taizhang.config.celery worker` on the test database (.ci/run's Celery step does)")
    if request.param == "database" and backend != DATABASE:
        pytest.skip("the embedded database worker runs only with TAIZHANG_TASK_BACKEND=database")
    if request.param == "celery":
        from taizhang.config.celery import app

        if not app.control.ping(timeout=2):
            pytest.fail(f"no Celery worker answers on {app.conf.broker_url}: start "
                        "`celery -A taizhang.config.celery worker` with the test database")
    engine = Engine(request.param)
    yield engine
    engine.drain()


@pytest.fixture
def handed_over(notify_world, engine):
    seed_calendar()
    seed_default_time_limits()
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(notify_world), State.HANDED_OVER)
    assert engine.settle(lambda: not OutboxMessage.objects.filter(delivered_at=None).exists())
    return case


def delivered(topic):
    return lambda: OutboxMessage.objects.filter(topic=topic).exclude(delivered_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_transition_is_delivered_by_the_worker_exactly_once(notify_world, engine, handed_over):
    with time_machine.travel(matrix.MOMENT, tick=False):
        cases.sign_for_case(handed_over.number, actor=notify_world.unit_leader)  # commits; wakes the worker
    assert engine.settle(delivered("case.signed_for"))
    assert told("case.signed_for", handed_over.number) == {"supervisor", "dual_supervisor"}
    deliver_outbox.enqueue()  # a second delivery run finds nothing to do
    OutboxMessage.objects.filter(topic="case.signed_for").update(delivered_at=None)  # and a redelivery
    assert engine.settle(delivered("case.signed_for"))
    assert Notification.objects.filter(topic="case.signed_for").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transition_is_never_delivered(notify_world, engine, handed_over):
    def failing_request():
        with transaction.atomic():
            cases.sign_for_case(handed_over.number, actor=notify_world.unit_leader)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        failing_request()
    deliver_outbox.enqueue()
    engine.settle(lambda: True)
    assert not OutboxMessage.objects.filter(topic="case.signed_for").exists()
    assert told("case.signed_for", handed_over.number) == set()


@pytest.mark.django_db(transaction=True)
def test_an_escalation_is_delivered_and_emailed_once(notify_world, engine, handed_over):
    with transaction.atomic():
        outbox.enqueue("case.escalated", escalation_payload(handed_over, 2, [notify_world.district]))
    leader_note = Notification.objects.filter(topic="case.escalated", recipient__username="district_leader")
    assert engine.settle(lambda: leader_note.exclude(emailed_at=None).exists())
    assert told("case.escalated", handed_over.number) == {"district_leader", "district_viewer"}
    assert leader_note.get().email_attempts == 1


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_enqueues_delivery_through_the_backend(notify_world, engine, handed_over):
    OutboxMessage.objects.create(topic="case.overdue", available_at=handed_over.created_at,
                                 payload=escalation_payload(handed_over, 1, [notify_world.lead_unit]))
    claims = scheduler.tick(jobs=[job for job in scheduler.JOBS if job.name == "outbox.deliver"])
    assert [(c.job, c.enqueued) for c in claims] == [("outbox.deliver", True)]
    assert engine.settle(delivered("case.overdue"))
    assert told("case.overdue", handed_over.number) == {"unit_leader"}


@pytest.mark.django_db(transaction=True)
def test_task_results_are_readable(engine, db):
    result = deliver_outbox.enqueue()

    def finished():
        result.refresh()
        return result.is_finished

    assert engine.settle(finished)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 0


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_sla_sweep_runs_in_the_worker_and_its_escalations_are_delivered(notify_world, engine,
                                                                                         handed_over):
    """The case's deadlines lie in 2024; the worker sweeps on the real clock, so they are long past."""
    sweep_job = next(job for job in scheduler.JOBS if job.name == "sla.sweep")
    sweep_task = sweep_job.task()
    if sweep_task is None:
        pytest.skip("taizhang.sla.tasks has no sweep task yet")
    claims = scheduler.tick(jobs=[sweep_job])
    assert [c.job for c in claims] == ["sla.sweep"]
    assert claims[0].result_id

    result_id = claims[0].result_id
    assert result_id is not None
    backend = task_backends["default"]  # by id: a result not yet stored by Celery names no task

    def swept_and_delivered():
        result = backend.get_result(result_id)
        return result.is_finished and not OutboxMessage.objects.filter(delivered_at=None).exists()

    assert engine.settle(swept_and_delivered)
    assert backend.get_result(result_id).status == TaskResultStatus.SUCCESSFUL
    pairs = list(Notification.objects.values_list("outbox_message_id", "recipient_id"))
    assert len(pairs) == len(set(pairs))
    # Deadlines two years gone: at least the overdue step (level 1) has fired and reached the lead unit.
    assert "unit_leader" in told("case.overdue", handed_over.number)
    for message in OutboxMessage.objects.filter(topic__in=["case.overdue", "case.escalated",
                                                          "supervision_order.issued"]):
        assert Notification.objects.filter(outbox_message_id=message.pk).exists(), message.topic
