"""The worker is killed between commit and delivery: after a restart every committed escalation and
notification is delivered exactly once."""

import multiprocessing
import os
import signal
import time

import pytest
import time_machine
from django.db import connection, transaction

from taizhang.cases import services as cases
from taizhang.cases.workflow import State
from taizhang.core import outbox
from taizhang.core.models import OutboxMessage
from taizhang.core.workdays import seed_calendar
from taizhang.notifications.models import Notification
from taizhang.notifications.tests.crashing import hanging_worker
from taizhang.notifications.tests.helpers import deliver, escalation_payload, told
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.testing import matrix


def is_locked(message_id):
    with transaction.atomic():
        return not OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: a second process must hold a row lock while this one looks")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_claiming_a_message_loses_nothing_and_duplicates_nothing(notify_world):
    seed_calendar()
    seed_default_time_limits()
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(notify_world), State.HANDED_OVER)
    deliver()
    # Two committed side effects: a transition and an escalation.
    with time_machine.travel(matrix.MOMENT, tick=False):
        cases.sign_for_case(case.number, actor=notify_world.unit_leader)
    with transaction.atomic():
        outbox.enqueue("case.escalated", escalation_payload(case, 2, [notify_world.district]))
    escalation = OutboxMessage.objects.get(topic="case.escalated")

    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    worker = ctx.Process(target=hanging_worker,
                         args=(matrix.database_url(connection.settings_dict), "case.escalated", events))
    worker.start()
    try:
        seen = {}
        while "claimed" not in seen:
            kind, value = events.get(timeout=120)
            seen[kind] = value
            assert kind != "finished", "the worker never reached the escalation"
        assert seen["claimed"] == escalation.pk
        # It delivered the transition's message and committed; the escalation is claimed, not committed.
        assert told("case.signed_for", case.number) == {"supervisor", "dual_supervisor"}
        assert is_locked(escalation.pk)
        assert deliver() == 0  # another worker skips the locked message rather than delivering it twice
        assert told("case.escalated", case.number) == set()
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()
    assert worker.exitcode == -signal.SIGKILL

    # Restart: the database rolled the dead worker's transaction back as soon as its connection dropped.
    deadline = time.monotonic() + 60
    while is_locked(escalation.pk) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert deliver() == 1
    escalation.refresh_from_db()
    assert escalation.delivered_at is not None
    assert told("case.escalated", case.number) == {"district_leader", "district_viewer"}
    assert told("case.signed_for", case.number) == {"supervisor", "dual_supervisor"}
    # Running delivery again changes nothing: each recipient has each notification once.
    assert deliver() == 0
    pairs = list(Notification.objects.filter(case=case).values_list("outbox_message_id", "recipient_id"))
    assert len(pairs) == len(set(pairs))
    assert Notification.objects.filter(topic="case.escalated").count() == 2
