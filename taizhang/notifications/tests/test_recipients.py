"""Who is told about each event: the right people by role and organisation, nobody out of scope."""

import pytest
import time_machine
from django.db import transaction
from django.utils import translation

from taizhang.cases.workflow import State
from taizhang.core import outbox
from taizhang.notifications.models import Notification
from taizhang.notifications.tests.helpers import deliver, escalation_payload, told
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db
SUPERVISORS = {"supervisor", "dual_supervisor"}  # the city's supervisors (one also handles in the lead unit)


@pytest.fixture
def cast(notify_world):
    return matrix.Cast.own(notify_world)


def drive(cast, state):
    with time_machine.travel(matrix.MOMENT, tick=False):
        return matrix.drive(cast, state)


def test_handover_tells_the_unit_leaders_of_the_lead_and_co_units(notify_world, cast):
    case = drive(cast, State.HANDED_OVER)
    deliver()
    assert told("case.handed_over", case.number) == {"unit_leader", "co_leader"}
    assert told("case.handover_proposed", case.number) == {"approver"}
    # The inspector registered the case; the supervisors of the supervising body hear of it.
    assert told("case.created", case.number) == SUPERVISORS


def test_the_actor_is_not_told_about_their_own_action(notify_world):
    cast = matrix.Cast.own(notify_world)
    cast.registrar, cast.inspection_round = notify_world.supervisor, None
    case = drive(cast, State.REGISTERED)
    deliver()
    assert told("case.created", case.number) == {"dual_supervisor"}


def test_sign_for_and_submission_tell_the_supervisors_and_closure_tells_the_enterprise(notify_world, cast):
    case = drive(cast, State.CLOSED)
    deliver()
    assert told("case.signed_for", case.number) == SUPERVISORS
    assert told("case.submitted_for_acceptance", case.number) == SUPERVISORS
    assert told("case.accepted", case.number) == {"unit_leader"}
    # Only the users of the case's own enterprise: not the liaison, not another enterprise.
    assert told("case.closed", case.number) == {"enterprise"}
    closed = Notification.objects.get(topic="case.closed", case__number=case.number)
    assert closed.url == f"/cases/{case.number}/"
    assert "internal" not in closed.body.lower()
    assert case.internal_note == "" or case.internal_note not in closed.body


def test_no_notification_names_out_of_scope_people(notify_world, cast):
    drive(cast, State.CLOSED)
    deliver()
    never = {"outsider", "foreign_leader", "foreign_approver", "other_enterprise", "sibling_handler",
             "sibling_leader", "admin", "auditor"}
    assert set(Notification.objects.values_list("recipient__username", flat=True)) & never == set()


def test_reminder_and_overdue_reach_the_lead_unit(notify_world, cast):
    case = drive(cast, State.RECTIFYING)
    with transaction.atomic():
        outbox.enqueue("case.reminder", escalation_payload(case, 0, [notify_world.lead_unit]))
        outbox.enqueue("case.overdue", escalation_payload(case, 1, [notify_world.lead_unit]))
    deliver()
    # dual_supervisor is also a handler of the lead unit.
    assert told("case.reminder", case.number) == {"unit_leader", "handler", "dual_supervisor"}
    assert told("case.overdue", case.number) == {"unit_leader"}


def test_level_two_reaches_the_parent_leadership(notify_world, cast):
    case = drive(cast, State.RECTIFYING)
    outbox.enqueue("case.escalated", escalation_payload(case, 2, [notify_world.district],
                                                        response_due_at="2024-04-09T18:00:00+08:00"))
    deliver()
    assert told("case.escalated", case.number) == {"district_leader", "district_viewer"}
    note = Notification.objects.get(topic="case.escalated", recipient__username="district_leader")
    with translation.override("en"):
        assert note.email_wanted  # escalations go by e-mail by default (the user has an address)
    assert not Notification.objects.get(topic="case.escalated", recipient__username="district_viewer").email_wanted


def test_level_three_supervision_order_reaches_supervisors_and_unit_leaders(notify_world, cast):
    case = drive(cast, State.RECTIFYING)
    outbox.enqueue("supervision_order.issued", escalation_payload(
        case, 3, [notify_world.lead_unit, notify_world.district], order="CC督〔2024〕1号", order_id=1,
        issuing_org_id=notify_world.city.pk, reply_due_at="2024-04-16T18:00:00+08:00"))
    deliver()
    assert told("supervision_order.issued", case.number) == SUPERVISORS | {"unit_leader", "district_leader"}
    body = Notification.objects.filter(topic="supervision_order.issued").earliest("pk").body
    assert "CC督〔2024〕1号" in body


def test_recipients_who_may_not_see_the_case_are_filtered_out(notify_world, cast):
    """A payload naming a foreign unit (wrong data, or the unit lost the case) tells nobody there."""
    case = drive(cast, State.RECTIFYING)
    outbox.enqueue("case.overdue", escalation_payload(case, 1, [notify_world.extras.foreign_unit,
                                                                notify_world.lead_unit]))
    deliver()
    assert told("case.overdue", case.number) == {"unit_leader"}


def test_unknown_topics_and_unknown_cases_tell_nobody(notify_world, cast):
    case = drive(cast, State.RECTIFYING)
    deliver()
    before = Notification.objects.count()
    outbox.enqueue("case.something_new", {"case": case.number})
    outbox.enqueue("case.overdue", {"case": "CC-1999-9999", "level": 1})
    outbox.enqueue("case.overdue", {"case": None})
    deliver()
    assert Notification.objects.count() == before
