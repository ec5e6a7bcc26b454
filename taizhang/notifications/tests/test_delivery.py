"""Exactly once: a committed transition gives one notification per recipient, a rolled-back one none,
a message delivered twice adds nothing, a delivery that fails half-way leaves nothing and is retried."""

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from taizhang.cases import services as cases
from taizhang.cases.workflow import State
from taizhang.core import outbox
from taizhang.core.models import OutboxMessage
from taizhang.notifications import services
from taizhang.notifications.models import Notification
from taizhang.notifications.tests.helpers import deliver, escalation_payload, told
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_over(notify_world):
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(notify_world), State.HANDED_OVER)
    deliver()
    return case


def sign_for(case, world):
    with time_machine.travel(matrix.MOMENT, tick=False):
        return cases.sign_for_case(case.number, actor=world.unit_leader)


def test_a_transition_gives_one_notification_per_recipient(notify_world, handed_over):
    sign_for(handed_over, notify_world)
    assert deliver() == 1
    rows = Notification.objects.filter(topic="case.signed_for", case=handed_over)
    assert sorted(rows.values_list("recipient__username", flat=True)) == ["dual_supervisor", "supervisor"]


def test_a_rolled_back_transition_gives_none(notify_world, handed_over):
    messages = OutboxMessage.objects.count()
    def failing_request():
        with transaction.atomic():
            sign_for(handed_over, notify_world)
            raise RuntimeError("the request failed after the transition")

    with pytest.raises(RuntimeError):
        failing_request()
    assert OutboxMessage.objects.count() == messages
    assert deliver() == 0
    assert told("case.signed_for", handed_over.number) == set()


def test_delivering_the_same_message_twice_creates_nothing_new(notify_world, handed_over):
    sign_for(handed_over, notify_world)
    deliver()
    message = OutboxMessage.objects.get(topic="case.signed_for")
    count = Notification.objects.count()
    services.notify(message)  # a second worker, or a retry after a lost acknowledgement
    OutboxMessage.objects.filter(pk=message.pk).update(delivered_at=None)
    assert deliver() == 1
    assert Notification.objects.count() == count


def test_a_delivery_failing_half_way_leaves_nothing_and_is_retried(notify_world, handed_over, monkeypatch):
    """The notifications are written, then a later handler fails: its savepoint undoes them all, the
    message stays pending with a back-off, and the retry delivers exactly once."""
    sign_for(handed_over, notify_world)

    def broken(message):
        raise ConnectionError("the webhook store is away")

    outbox.register_handler("case.signed_for", broken)
    try:
        assert deliver() == 0
    finally:
        outbox._handlers["case.signed_for"].remove(broken)
    message = OutboxMessage.objects.get(topic="case.signed_for")
    assert message.delivered_at is None
    assert message.attempts == 1
    assert "ConnectionError" in message.last_error
    assert told("case.signed_for", handed_over.number) == set()
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=message.created_at)
    assert deliver() == 1
    assert told("case.signed_for", handed_over.number) == {"supervisor", "dual_supervisor"}
    assert Notification.objects.filter(topic="case.signed_for").count() == 2


# --- e-mail and preferences ------------------------------------------------------------------------

def test_escalations_go_by_email_by_default_and_are_sent_once(notify_world, handed_over):
    outbox.enqueue("case.overdue", escalation_payload(handed_over, 1, [notify_world.lead_unit]))
    outbox.enqueue("case.escalated", escalation_payload(handed_over, 2, [notify_world.district]))
    deliver()
    mail.outbox.clear()
    assert services.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [["district_leader@example.gov.cn"]]
    assert handed_over.number in mail.outbox[0].subject
    assert f"/cases/{handed_over.number}/" in mail.outbox[0].body
    assert services.send_pending_emails() == 0
    assert len(mail.outbox) == 1
    assert not services.emails_pending()


def test_preferences_choose_what_comes_by_email(notify_world, handed_over):
    leader = notify_world.unit_leader
    services.set_email_preferences({"case.overdue": True}, actor=leader)
    services.set_email_preferences({"case.escalated": False}, actor=notify_world.district_leader)
    assert services.email_preferences(leader)["case.overdue"] is True
    assert services.email_preferences(leader)["case.escalated"] is True  # the default stays
    outbox.enqueue("case.overdue", escalation_payload(handed_over, 1, [notify_world.lead_unit]))
    outbox.enqueue("case.escalated", escalation_payload(handed_over, 2, [notify_world.district]))
    deliver()
    mail.outbox.clear()
    services.send_pending_emails()
    assert [m.to for m in mail.outbox] == [["unit_leader@example.gov.cn"]]
    # The inbox still has both.
    assert told("case.escalated", handed_over.number) == {"district_leader", "district_viewer"}


def test_unknown_topics_in_preferences_are_refused_and_nothing_is_stored(notify_world):
    from taizhang.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        services.set_email_preferences({"case.overdue": True, "case.nonsense": True}, actor=notify_world.handler)
    assert caught.value.code == "validation.invalid_choice"
    assert notify_world.handler.notification_preferences.count() == 0


def test_a_failing_mail_server_is_retried_then_given_up(notify_world, handed_over, monkeypatch):
    outbox.enqueue("case.escalated", escalation_payload(handed_over, 2, [notify_world.district]))
    deliver()

    def refuse(self, *args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    for _attempt in range(services.EMAIL_MAX_ATTEMPTS + 2):
        assert services.send_pending_emails() == 0
    note = Notification.objects.get(topic="case.escalated", recipient__username="district_leader")
    assert note.emailed_at is None
    assert note.email_attempts == services.EMAIL_MAX_ATTEMPTS
    assert "connection refused" in note.email_error
    assert not services.emails_pending()
