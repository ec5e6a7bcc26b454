"""督办 in the workspace: the supervision panel, escalating by hand, answering orders and level-2 responses."""

import pytest
from django.urls import reverse

from taizhang.accounts.roles import Role
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.services import escalate_case
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cast):
    return matrix.drive(cast, State.RECTIFYING)


def escalate_url(case):
    return reverse("web:case_escalate", args=[case.number])


def panel_url(case):
    return reverse("web:case_supervision", args=[case.number])


@pytest.mark.parametrize("who", ["supervisor", "liaison"])
def test_supervisor_and_portfolio_liaison_escalate(login, world, case, who):
    client = login(getattr(world, who))
    form = client.get(escalate_url(case))
    assert form.status_code == 200
    assert 'name="version"' in form.content.decode()
    response = client.post(escalate_url(case), {"version": case.version, "level": "2", "reason": "进展缓慢"})
    assert response.status_code == 302
    assert response["Location"].endswith("#supervision")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.escalation_level == 2
    assert Escalation.objects.get(case=case).escalated_by == getattr(world, who)


@pytest.mark.parametrize(("who", "status"), [("handler", 403), ("unit_leader", 403), ("approver", 403),
                                             ("sibling_handler", 404), ("outsider", 404)])
def test_others_may_not_escalate(login, world, case, who, status):
    client = login(getattr(world, who))
    assert client.get(escalate_url(case)).status_code == status
    response = client.post(escalate_url(case), {"version": case.version, "level": "3", "reason": "理由"})
    assert response.status_code == status
    assert not Escalation.objects.exists()
    assert Case.objects.get(pk=case.pk).escalation_level == 0


def test_reason_and_level_are_required(login, world, case):
    client = login(world.supervisor)
    response = client.post(escalate_url(case), {"version": case.version, "level": "2", "reason": "   "})
    assert response.status_code == 422
    assert response.context["form"].errors["reason"]
    response = client.post(escalate_url(case), {"version": case.version, "level": "1", "reason": "理由"})
    assert response.status_code == 422
    assert response.context["form"].errors["level"]
    assert not Escalation.objects.exists()


def test_a_stale_version_shows_the_conflict_and_keeps_the_input(login, world, case):
    client = login(world.supervisor)
    escalate_case(case.number, actor=world.liaison, level=2, reason="企业反映")
    response = client.post(escalate_url(case), {"version": case.version, "level": "3", "reason": "久拖不决"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="conflict"' in html
    assert "久拖不决" in html
    assert response.context["form"]["version"].value() == str(case.version + 1)
    assert not SupervisionOrder.objects.exists()
    # Submitting again with the fresh version goes through.
    again = client.post(escalate_url(case), {"version": case.version + 1, "level": "3", "reason": "久拖不决"})
    assert again.status_code == 302
    assert SupervisionOrder.objects.count() == 1


def test_escalating_to_the_same_level_again_is_refused(login, world, case):
    escalate_case(case.number, actor=world.liaison, level=2, reason="企业反映")
    response = login(world.supervisor).post(escalate_url(case), {"version": case.version + 1, "level": "2",
                                                                  "reason": "理由"})
    assert response.status_code == 422
    assert Escalation.objects.count() == 1


def test_a_case_not_being_handled_is_not_escalated(login, world, cast):
    registered = matrix.drive(cast, State.REGISTERED)
    response = login(world.supervisor).post(escalate_url(registered), {"version": registered.version, "level": "2",
                                                                        "reason": "理由"})
    assert response.status_code == 409
    assert not Escalation.objects.exists()


def test_the_case_page_loads_the_panel_which_shows_level_history_and_orders(login, world, case):
    escalate_case(case.number, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    page = login(world.unit_leader).get(reverse("web:case", args=[case.number]))
    assert page.status_code == 200
    assert f'hx-get="{panel_url(case)}"' in page.content.decode()
    panel = login(world.unit_leader).get(panel_url(case), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "<html" not in html  # a fragment for htmx
    assert 'id="escalation-level">3<' in html
    assert "久拖不决" in html
    assert order.number in html
    assert reverse("web:order_reply", args=[case.number, order.pk]) in html
    assert 'id="escalate-link"' not in html  # a unit leader does not escalate
    supervisor = login(world.supervisor).get(panel_url(case))
    assert "<html" in supervisor.content.decode()  # without htmx, a page of its own
    assert reverse("web:order_reply", args=[case.number, order.pk]) not in supervisor.content.decode()


def test_the_escalate_button_is_offered_to_those_allowed(login, world, case):
    assert 'id="escalate-link"' in login(world.supervisor).get(panel_url(case)).content.decode()
    assert 'id="escalate-link"' in login(world.liaison).get(panel_url(case)).content.decode()
    assert 'id="escalate-link"' not in login(world.handler).get(panel_url(case)).content.decode()
    assert login(world.outsider).get(panel_url(case)).status_code == 404


def test_the_lead_units_leader_replies_and_the_order_closes(login, world, case):
    escalate_case(case.number, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    url = reverse("web:order_reply", args=[case.number, order.pk])
    client = login(world.unit_leader)
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": "  "}).status_code == 422
    response = client.post(url, {"text": "已制定专项方案"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.replied_at is not None
    assert order.reply == "已制定专项方案"
    panel = client.get(panel_url(case)).content.decode()
    assert 'id="open-orders"' not in panel
    assert "已制定专项方案" in panel
    assert client.post(url, {"text": "再次"}).status_code == 409


@pytest.mark.parametrize(("who", "status"), [("handler", 403), ("supervisor", 403), ("outsider", 404),
                                             ("sibling_handler", 404)])
def test_others_may_not_reply(login, world, case, who, status):
    escalate_case(case.number, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    url = reverse("web:order_reply", args=[case.number, order.pk])
    assert login(getattr(world, who)).post(url, {"text": "答复"}).status_code == status
    assert SupervisionOrder.objects.get().replied_at is None


def test_an_order_under_another_case_number_is_404(login, world, case, cast):
    other = matrix.drive(cast, State.RECTIFYING, title="另一件")
    escalate_case(case.number, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    url = reverse("web:order_reply", args=[other.number, order.pk])
    assert login(world.unit_leader).get(url).status_code == 404


def test_the_parent_leadership_responds_to_a_level_2_escalation(login, world, case):
    from taizhang.testing.personas import person

    leader = person("district_leader", "区领导", (world.district, Role.UNIT_LEADER))
    escalation = escalate_case(case.number, actor=world.supervisor, level=2, reason="久拖不决")
    url = reverse("web:escalation_respond", args=[case.number, escalation.pk])
    assert url in login(leader).get(panel_url(case)).content.decode()
    assert login(world.handler).post(url, {"text": "答复"}).status_code == 403
    response = login(leader).post(url, {"text": "已召开专题会"})
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.response == "已召开专题会"
    assert "已召开专题会" in login(leader).get(panel_url(case)).content.decode()
