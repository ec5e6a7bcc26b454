"""Closing the loop through the API: checklist, acceptance with a team, follow-up, waiver, closure, the
closing record and the signed follow-up link."""

import pytest
import time_machine
from django.test import Client

from taizhang.cases.checklists import FALLBACK_ITEMS
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _moment():
    with time_machine.travel(matrix.MOMENT, tick=False):
        yield


def act(client, case, action, **data):
    return client.post(f"/api/v1/cases/{case.number}/actions/{action}", data, format="json")


def test_accept_with_checklist_and_team_then_follow_up_and_close(world, cast, client_for):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    api = client_for(world.supervisor)
    checklist = api.get(f"/api/v1/cases/{case.number}/acceptance-checklist/")
    assert checklist.status_code == 200
    assert checklist.json() == {"category": None, "items": list(FALLBACK_ITEMS)}

    partial = act(api, case, "accept", checklist={FALLBACK_ITEMS[0]: True}, opinion="通过")
    assert (partial.status_code, partial.json()["error"]["code"]) == (422, "validation.checklist_incomplete")
    handling = act(api, case, "accept", checklist=dict.fromkeys(FALLBACK_ITEMS, True), opinion="通过",
                   team=[world.handler.pk])
    assert (handling.status_code, handling.json()["error"]["code"]) == (422, "workflow.acceptor_from_handling_unit")
    assert Case.objects.get(pk=case.pk).state == State.AWAITING_ACCEPTANCE

    accepted = act(api, case, "accept", checklist=dict.fromkeys(FALLBACK_ITEMS, True), opinion="通过",
                   team=[world.inspector.pk])
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "awaiting_followup"

    for _attempt in range(3):
        assert act(api, case, "record_followup", solved="unreachable", channel="phone").status_code == 200
    waived = act(api, case, "waive_followup", reason="三次联系未果")
    assert (waived.status_code, waived.json()["state"]) == (200, "awaiting_closure")
    closed = act(api, case, "close", opinion="同意销号")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")

    record = api.get(f"/api/v1/cases/{case.number}/closing/").json()
    assert [a["verdict"] for a in record["acceptances"]] == ["passed"]
    assert set(record["acceptances"][0]["team"]) == {str(world.supervisor), str(world.inspector)}
    assert [f["solved"] for f in record["followups"]] == ["unreachable"] * 3
    assert (record["followup_waived_reason"], record["closure_opinion"], record["closed_by"]) == (
        "三次联系未果", "同意销号", str(world.supervisor))

    enterprise = client_for(world.enterprise_user).get(f"/api/v1/cases/{case.number}/closing/").json()
    assert enterprise["closed_by"] is None
    assert enterprise["acceptances"][0]["team"] is None
    assert client_for(world.outsider).get(f"/api/v1/cases/{case.number}/closing/").status_code == 404


def test_a_liaison_cannot_override_through_the_api(world, cast, client_for):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    liaison = client_for(world.liaison)
    before = matrix.footprint(case.number)
    response = act(liaison, case, "record_followup", solved="not_solved", satisfaction=1,
                   channel="visit", override_reason="已解释")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "workflow.override_not_allowed")
    assert matrix.footprint(case.number) == before


def test_the_followup_link_through_the_api(world, cast, client_for):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    refused = client_for(world.liaison).post(f"/api/v1/cases/{case.number}/followup-link", {}, format="json")
    assert refused.status_code == 403
    unknown = client_for(world.supervisor).post(f"/api/v1/cases/{case.number}/followup-link", {"x": 1},
                                                 format="json")
    assert unknown.status_code == 422
    issued = client_for(world.supervisor).post(f"/api/v1/cases/{case.number}/followup-link",
                                               {"enterprise": world.enterprise.pk}, format="json")
    assert issued.status_code == 201
    body = issued.json()
    assert body["enterprise"] == {"id": world.enterprise.pk, "name": world.enterprise.name}
    page = Client().post(body["url"], {"solved": "solved", "satisfaction": "5"})
    assert page.status_code == 200
    assert Case.objects.get(pk=case.pk).state == State.AWAITING_CLOSURE
