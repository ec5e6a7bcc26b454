import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from taizhang.sla.models import EscalationPolicy
from taizhang.sla.services import escalate_case
from taizhang.sla.tests.helpers import at, rectifying

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def order_case(world):
    case = rectifying(world, at(dt.date(2026, 3, 2)))
    with time_machine.travel(at(dt.date(2026, 3, 10)), tick=False):
        escalate_case(case, actor=world.supervisor, level=3, reason="久拖不决")
    return case


def test_supervision_orders_are_listed_in_scope_only(client, world, order_case):
    url = reverse("admin:sla_supervisionorder_changelist")
    client.force_login(world.supervisor)
    page = client.get(url)
    assert page.status_code == 200
    assert "CC督〔2026〕1号" in page.content.decode()
    client.force_login(world.outsider)
    page = client.get(url)
    assert page.status_code == 200
    assert "CC督〔2026〕1号" not in page.content.decode()
    client.force_login(world.admin)  # separation of duties: no case content for administrators
    assert client.get(url).status_code == 403


def test_administrators_edit_the_ladder_thresholds(client, world):
    client.force_login(world.admin)
    page = client.post(reverse("admin:sla_escalationpolicy_add"), {
        "clock": "completion", "remind_workdays_before": 2, "level2_after_workdays": 2, "level3_after_workdays": 4,
        "response_workdays": 3, "order_reply_workdays": 5, "basis": "区级督办办法"})
    assert page.status_code == 302
    assert EscalationPolicy.objects.get(clock="completion").level2_after_workdays == 2
    client.force_login(world.supervisor)
    assert client.get(reverse("admin:sla_escalationpolicy_changelist")).status_code == 403
