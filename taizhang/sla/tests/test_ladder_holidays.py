"""The ladder across 春节 and 国庆 2026 with their 调休 days: each step fires once, on the right day,
for the right organisation."""

import datetime as dt

import pytest
from django.utils.timezone import localdate

from taizhang.audit.models import AuditEvent
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.tests.helpers import at, fired, handed_over, rectifying, sweep_at, sweep_days, sweep_messages

D = dt.date
pytestmark = pytest.mark.django_db


def test_completion_and_progress_ladders_across_spring_festival(world):
    # Signed for on Mon 2 Feb 2026; completion agreed for Sat 14 Feb, a 调休 working day before 春节
    # (15–23 Feb off, Sat 28 Feb worked).
    case = rectifying(world, at(D(2026, 2, 2)), deadline=D(2026, 2, 14))
    assert case.completion_due_at.date() == D(2026, 2, 14)
    assert case.next_report_due_at.date() == D(2026, 2, 9)  # five working days after 2 Feb
    sweep_days(D(2026, 2, 2), D(2026, 3, 10))

    assert fired(case.number, "completion") == {
        0: D(2026, 2, 13),  # reminder one working day before (Fri; the Saturday is the working day due)
        1: D(2026, 2, 15),  # overdue at the deadline: the unit leader is told
        2: D(2026, 2, 27),  # three whole working days (24–26 Feb) after the holiday, then the leadership
        3: D(2026, 3, 5),   # five more (27, 28 调休, 2, 3, 4 Mar): the 督办单
    }
    assert fired(case.number, "progress_report") == {
        0: D(2026, 2, 6), 1: D(2026, 2, 10), 2: D(2026, 2, 13),
        3: D(2026, 2, 27),  # 16, 17, … 23 Feb are holidays; 14 Feb (调休) counts
    }
    messages = {(m.topic, m.payload["clock"]): m.payload for m in sweep_messages(case.number)}
    lead, district = world.lead_unit.pk, world.district.pk
    assert messages[("case.reminder", "completion")]["target_org_ids"] == [lead]
    assert messages[("case.overdue", "completion")]["target_org_ids"] == [lead]
    escalated = messages[("case.escalated", "completion")]
    assert escalated["target_org_ids"] == [district]
    assert escalated["response_due_at"].startswith("2026-03-03T23:59")  # 28 Feb (调休), 2 and 3 Mar
    issued = messages[("supervision_order.issued", "progress_report")]
    assert issued["order"] == "CC督〔2026〕1号"
    assert issued["issuing_org_id"] == world.city.pk
    assert issued["target_org_ids"] == [lead, district]
    assert messages[("supervision_order.issued", "completion")]["order"] == "CC督〔2026〕2号"
    # The first order (issued 27 Feb, reply within five working days: 28 Feb 调休, 2–5 Mar) went unanswered.
    first = SupervisionOrder.objects.get(number="CC督〔2026〕1号")
    assert localdate(first.reply_due_at) == D(2026, 3, 5)
    assert first.overdue_at is not None
    assert localdate(first.overdue_at) == D(2026, 3, 6)
    assert [m.payload["order"] for m in sweep_messages(case.number) if m.topic == "supervision_order.overdue"] \
        == ["CC督〔2026〕1号"]

    case.refresh_from_db()
    assert case.escalation_level == 3
    assert Escalation.objects.filter(case=case).count() == 8
    steps = AuditEvent.objects.filter(object_id=case.number, actor_id__isnull=True).values_list("action", flat=True)
    assert sorted(steps) == sorted(["case.reminded", "case.overdue", "case.escalated", "supervision_order.issued"] * 2
                                   + ["supervision_order.overdue"])


def test_sign_for_ladder_across_national_day(world):
    # Approved on Wed 30 Sep 2026: one working day to sign for falls on Thu 8 Oct (1–7 Oct off).
    case = handed_over(world, at(D(2026, 9, 30), 16))
    assert case.sign_for_due_at.date() == D(2026, 10, 8)
    sweep_days(D(2026, 9, 30), D(2026, 10, 22))
    assert fired(case.number, "sign_for") == {
        0: D(2026, 10, 8),   # the morning of the day it is due
        1: D(2026, 10, 9),
        2: D(2026, 10, 13),  # 9, 10 (Saturday 调休) and 12 Oct passed
        3: D(2026, 10, 20),
    }
    sign_for = [m for m in sweep_messages(case.number) if m.payload["clock"] == "sign_for"]
    assert {tuple(m.payload["target_org_ids"]) for m in sign_for if m.payload["level"] < 2} == {(world.lead_unit.pk,)}


def test_nothing_fires_on_a_holiday_before_its_time(world):
    case = rectifying(world, at(D(2026, 2, 2)), deadline=D(2026, 2, 24))
    result = sweep_at(at(D(2026, 2, 20), 10))  # a holiday: the reminder for Tue 24 Feb waits
    assert result.by_clock.get("completion", 0) == 0
    sweep_at(at(D(2026, 2, 23), 10))  # still a holiday (Mon 23 Feb)
    assert 0 not in fired(case.number, "completion")
    # 14 Feb, the 调休 Saturday, was the last working day before 24 Feb: a sweep then reminds.
    case2 = rectifying(world, at(D(2026, 2, 3)), deadline=D(2026, 2, 24), title="另一件")
    sweep_at(at(D(2026, 2, 14), 8))
    assert fired(case2.number, "completion") == {0: D(2026, 2, 14)}
    sweep_at(at(D(2026, 2, 14), 8))  # the same moment again: nothing more
    assert fired(case2.number, "completion") == {0: D(2026, 2, 14)}
