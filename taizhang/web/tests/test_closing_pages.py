"""Closing the loop on the workspace: the acceptance form asks the case's checklist and team, follow-up
forms fit the person, the signed link page works without signing in, and the case page shows it all."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from taizhang.cases import followup_links, services
from taizhang.cases.checklists import FALLBACK_ITEMS
from taizhang.cases.models import AcceptanceChecklistItem, Case
from taizhang.cases.workflow import State
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def extras_world(world):
    return matrix.build_extras(world)


def action_url(case, action):
    return reverse("web:case_action", args=[case.number, action])


def test_the_accept_form_asks_exactly_the_checklist_and_every_item(login, world, cast, extras_world):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    AcceptanceChecklistItem.objects.create(category=world.category.parent, label="供电恢复稳定", position=0)
    AcceptanceChecklistItem.objects.create(category=world.category.parent, label="企业确认", position=1)
    Case.objects.filter(pk=case.pk).update(category=world.category)
    client = login(world.supervisor)
    page = client.get(action_url(case, "accept"))
    assert page.status_code == 200
    form = page.context["form"]
    assert [f.label for name, f in form.fields.items() if name.startswith("checklist_")] == ["供电恢复稳定", "企业确认"]
    team = dict(form.fields["team"].choices)
    assert str(world.inspector.pk) in team
    assert str(world.approver.pk) in team
    assert str(extras_world.dual_supervisor.pk) not in team  # handles the case
    assert str(world.supervisor.pk) not in team  # the actor is on the team anyway

    answered = {"version": case.version, "opinion": "同意", "checklist_0": "true"}
    refused = client.post(action_url(case, "accept"), answered)
    assert refused.status_code == 422
    assert "checklist_1" in refused.context["form"].errors
    assert Case.objects.get(pk=case.pk).state == State.AWAITING_ACCEPTANCE

    done = client.post(action_url(case, "accept"), {**answered, "checklist_1": "true", "team": [world.inspector.pk]})
    assert done.status_code == 302
    accepted = Case.objects.get(pk=case.pk)
    assert accepted.state == State.AWAITING_FOLLOWUP
    acceptance = accepted.acceptances.get()
    assert acceptance.checklist == {"供电恢复稳定": True, "企业确认": True}
    assert set(acceptance.team.all()) == {world.supervisor, world.inspector}


def test_an_unmet_item_on_the_accept_form_says_to_return_for_rework(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    data = {"version": case.version, "opinion": "同意"}
    data.update({f"checklist_{i}": "true" for i in range(len(FALLBACK_ITEMS))})
    data["checklist_0"] = "false"
    response = login(world.supervisor).post(action_url(case, "accept"), data)
    assert response.status_code == 422
    assert FALLBACK_ITEMS[0] in str(response.context["form"].non_field_errors())


def test_return_for_rework_and_its_count_on_the_page(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    client = login(world.supervisor)
    response = client.post(action_url(case, "return_for_rework"), {"version": case.version, "reason": "材料不全"})
    assert response.status_code == 302
    page = client.get(reverse("web:case", args=[case.number]))
    assert 'id="rework-count"' in page.content.decode()
    assert Case.objects.get(pk=case.pk).rework_count == 1


def test_the_followup_form_fits_the_person(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    staff = login(world.supervisor).get(action_url(case, "record_followup")).context["form"]
    assert {"channel", "override_reason", "solved", "satisfaction"} <= set(staff.fields)
    liaison = login(world.liaison).get(action_url(case, "record_followup")).context["form"]
    assert "override_reason" not in liaison.fields
    assert "channel" in liaison.fields
    enterprise = login(world.enterprise_user).get(action_url(case, "record_followup")).context["form"]
    assert not {"channel", "override_reason"} & set(enterprise.fields)
    assert "unreachable" not in dict(enterprise.fields["solved"].choices)


def test_the_enterprise_answers_on_its_own_followup_page(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    client = login(world.enterprise_user)
    page = client.get(reverse("web:my_followups"))
    assert page.status_code == 200
    assert [c.number for c, _form in page.context["items"]] == [case.number]
    assert f'action="{action_url(case, "record_followup")}"' in page.content.decode()
    response = client.post(action_url(case, "record_followup"),
                           {"version": case.version, "solved": "solved", "satisfaction": "5", "note": "满意"})
    assert response.status_code == 302
    answered = Case.objects.get(pk=case.pk)
    assert (answered.state, answered.followups.get().channel) == (State.AWAITING_CLOSURE, "portal")
    assert client.get(reverse("web:my_followups")).context["items"] == []
    assert login(world.supervisor).get(reverse("web:my_followups")).context["items"] == []


def test_a_supervisor_issues_a_link_and_the_enterprise_answers_without_signing_in(login, world, cast, client):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    Case.objects.filter(pk=case.pk).update(internal_note="内部研判：企业诉求较多")
    staff = login(world.supervisor)
    page = staff.get(reverse("web:case", args=[case.number]))
    assert 'id="issue-followup-link"' in page.content.decode()
    issued = staff.post(reverse("web:followup_link", args=[case.number]))
    assert issued.status_code == 200
    url = issued.context["url"]
    assert url.startswith("http://testserver/followup-answer/")
    staff.logout()

    answer = client.get(url)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert case.title in html
    assert "内部研判" not in html
    assert "吴总" not in html  # no reporter identity
    incomplete = client.post(url, {"solved": "solved"})
    assert incomplete.status_code == 422
    assert Case.objects.get(pk=case.pk).state == State.AWAITING_FOLLOWUP
    thanks = client.post(url, {"solved": "solved", "satisfaction": "4", "note": "已无停电"})
    assert thanks.status_code == 200
    assert Case.objects.get(pk=case.pk).state == State.AWAITING_CLOSURE
    used = client.get(url)
    assert used.status_code == 410
    assert 'data-code="followup.link_used"' in used.content.decode()
    again = client.post(url, {"solved": "not_solved", "satisfaction": "1"})
    assert again.status_code == 410
    assert Case.objects.get(pk=case.pk).followups.count() == 1


def test_broken_links_get_a_clear_page_and_change_nothing(login, world, cast, client, extras_world):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    link = services.issue_followup_link(case, actor=world.supervisor)
    before = matrix.footprint(case.number)
    tampered = client.get(reverse("web:followup_answer", args=[link.token + "x"]))
    assert tampered.status_code == 404
    assert 'data-code="followup.link_invalid"' in tampered.content.decode()
    foreign = login(extras_world.other_enterprise_user).post(link.url, {"solved": "solved", "satisfaction": "5"})
    assert foreign.status_code == 404
    client.logout()
    with time_machine.travel(matrix.MOMENT + dt.timedelta(days=followup_links.LINK_VALID_DAYS + 1), tick=False):
        expired = client.post(link.url, {"solved": "solved", "satisfaction": "5"})
    assert expired.status_code == 410
    assert 'data-code="followup.link_expired"' in expired.content.decode()
    assert matrix.footprint(case.number) == before


def test_a_link_cannot_be_issued_by_the_units(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    response = login(world.unit_leader).post(reverse("web:followup_link", args=[case.number]))
    assert response.status_code == 302
    assert not services.unreachable_attempts(case)
    assert login(world.outsider).post(reverse("web:followup_link", args=[case.number])).status_code == 404


def test_the_closed_case_page_shows_checklist_followup_and_closure(login, world, cast):
    case = matrix.drive(cast, State.CLOSED)
    html = login(world.supervisor).get(reverse("web:case", args=[case.number])).content.decode()
    for item in FALLBACK_ITEMS:
        assert item in html
    assert 'id="closure"' in html
    assert "同意销号" in html
    assert str(world.supervisor) in html
    enterprise_view = login(world.enterprise_user).get(reverse("web:case", args=[case.number])).content.decode()
    closure = enterprise_view.split('id="closure"')[1].split("</li>")[0]
    assert "同意销号" in closure
    assert str(world.supervisor) not in closure
