"""督办 through the API: escalate with If-Match and Idempotency-Key, the history, order replies, responses."""

import pytest

from taizhang.accounts.roles import Role
from taizhang.audit.models import AuditEvent
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.services import escalate_case
from taizhang.sla.sweeper import AUDIT_ACTIONS
from taizhang.testing.matrix import drive

pytestmark = pytest.mark.django_db


def error_code(response):
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]["code"]


@pytest.fixture
def case(cast):
    return drive(cast, State.RECTIFYING)


def url(case):
    return f"/api/v1/cases/{case.number}/escalate"


@pytest.mark.parametrize("who", ["supervisor", "liaison"])
def test_supervisor_and_portfolio_liaison_escalate(world, case, client_for, who):
    response = client_for(getattr(world, who)).post(url(case), {"level": 2, "reason": "进展缓慢"}, format="json",
                                                    HTTP_IF_MATCH=f'"{case.version}"')
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["level"] == 2
    assert body["clock"] == "manual"
    assert body["reason"] == "进展缓慢"
    assert body["target_org"]["id"] == world.district.pk
    assert body["supervision_order"] is None
    assert response["ETag"] == f'"{case.version + 1}"'
    assert Case.objects.get(pk=case.pk).escalation_level == 2


def test_level_3_issues_an_order_listed_in_the_history(world, case, client_for):
    client = client_for(world.supervisor)
    response = client.post(url(case), {"level": "3", "reason": "久拖不决"}, format="json")
    assert response.status_code == 201
    order = SupervisionOrder.objects.get()
    assert response.json()["supervision_order"]["number"] == order.number
    history = client.get(f"/api/v1/cases/{case.number}/escalations/")
    assert history.status_code == 200
    assert [(e["level"], e["reason"]) for e in history.json()] == [(3, "久拖不决")]
    assert history.json()[0]["supervision_order"]["id"] == order.pk
    # Everybody who sees the case sees its history; nobody else does.
    assert client_for(world.handler).get(f"/api/v1/cases/{case.number}/escalations/").status_code == 200
    outsider = client_for(world.outsider).get(f"/api/v1/cases/{case.number}/escalations/")
    assert outsider.status_code == 404
    assert error_code(outsider) == "not_found"


@pytest.mark.parametrize(("who", "status", "code"), [
    ("handler", 403, "escalation.not_allowed"), ("unit_leader", 403, "escalation.not_allowed"),
    ("sibling_handler", 404, "not_found"), ("outsider", 404, "not_found"),
])
def test_others_may_not_escalate(world, case, client_for, who, status, code):
    response = client_for(getattr(world, who)).post(url(case), {"level": 2, "reason": "理由"}, format="json")
    assert response.status_code == status
    assert error_code(response) == code
    assert not Escalation.objects.exists()


def test_out_of_scope_is_404_before_the_input_is_looked_at(world, case, client_for):
    response = client_for(world.outsider).post(url(case), {"colour": "red"}, format="json", HTTP_IF_MATCH="junk")
    assert response.status_code == 404
    assert client_for(world.supervisor).post("/api/v1/cases/NOPE-1/escalate", {}, format="json").status_code == 404


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"level": 2, "reason": "  "}, 422, "validation.required"),
    ({"level": 2}, None, None),
    ({"level": 1, "reason": "理由"}, None, None),
    ({"level": 2, "reason": "理由", "colour": "red"}, None, None),
])
def test_malformed_input_is_refused(world, case, client_for, payload, status, code):
    response = client_for(world.supervisor).post(url(case), payload, format="json")
    assert 400 <= response.status_code < 500
    if status:
        assert response.status_code == status
        assert error_code(response) == code
    else:
        error_code(response)
    assert not Escalation.objects.exists()


def test_stale_if_match_is_409_and_a_bad_one_422(world, case, client_for):
    escalate_case(case.number, actor=world.liaison, level=2, reason="企业反映")
    client = client_for(world.supervisor)
    stale = client.post(url(case), {"level": 3, "reason": "理由"}, format="json", HTTP_IF_MATCH=f'"{case.version}"')
    assert stale.status_code == 409
    assert error_code(stale) == "conflict.stale_version"
    assert stale.json()["error"]["version"] == case.version + 1
    bad = client.post(url(case), {"level": 3, "reason": "理由"}, format="json", HTTP_IF_MATCH="yesterday")
    assert bad.status_code == 422
    assert error_code(bad) == "validation.invalid_if_match"
    assert Escalation.objects.count() == 1
    same = client.post(url(case), {"level": 2, "reason": "理由"}, format="json")
    assert same.status_code == 422
    assert error_code(same) == "escalation.already_at_level"


def test_a_retry_with_the_same_idempotency_key_escalates_once(world, case, client_for):
    client = client_for(world.supervisor)
    first = client.post(url(case), {"level": 3, "reason": "久拖不决"}, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    again = client.post(url(case), {"level": 3, "reason": "久拖不决"}, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert SupervisionOrder.objects.count() == 1
    assert AuditEvent.objects.filter(object_id=case.number, action=AUDIT_ACTIONS[3]).count() == 1
    other = client.post(url(case), {"level": 2, "reason": "别的"}, format="json", HTTP_IDEMPOTENCY_KEY="esc-1")
    assert other.status_code == 422
    assert error_code(other) == "idempotency.key_reused"


def _order(world, case):
    escalate_case(case.number, actor=world.supervisor, level=3, reason="久拖不决")
    return SupervisionOrder.objects.get()


def test_the_lead_units_leader_replies_and_the_order_closes(world, case, client_for):
    order = _order(world, case)
    client = client_for(world.unit_leader)
    reply_url = f"/api/v1/supervision-orders/{order.pk}/reply"
    blank = client.post(reply_url, {"text": " "}, format="json")
    assert blank.status_code == 422
    assert error_code(blank) == "validation.required"
    response = client.post(reply_url, {"text": "已制定专项方案"}, format="json")
    assert response.status_code == 200
    assert response.json()["reply"] == "已制定专项方案"
    assert response.json()["replied_at"] is not None
    order.refresh_from_db()
    assert order.replied_by == world.unit_leader
    again = client.post(reply_url, {"text": "再次"}, format="json")
    assert again.status_code == 409
    assert error_code(again) == "supervision_order.already_replied"


@pytest.mark.parametrize(("who", "status"), [("handler", 403), ("supervisor", 403), ("outsider", 404),
                                             ("sibling_handler", 404)])
def test_others_may_not_reply(world, case, client_for, who, status):
    order = _order(world, case)
    response = client_for(getattr(world, who)).post(f"/api/v1/supervision-orders/{order.pk}/reply",
                                                    {"text": "答复"}, format="json")
    assert response.status_code == status
    assert SupervisionOrder.objects.get().replied_at is None


def test_unknown_orders_are_404(world, client_for):
    client = client_for(world.unit_leader)
    assert client.post("/api/v1/supervision-orders/999999/reply", {"text": "x"}, format="json").status_code == 404
    assert client.post("/api/v1/supervision-orders/abc/reply", {"text": "x"}, format="json").status_code == 404


def test_the_parent_leadership_responds(world, case, client_for):
    from taizhang.testing.personas import person

    leader = person("district_leader", "区领导", (world.district, Role.UNIT_LEADER))
    escalation = escalate_case(case.number, actor=world.supervisor, level=2, reason="久拖不决")
    respond_url = f"/api/v1/escalations/{escalation.pk}/respond"
    refused = client_for(world.unit_leader).post(respond_url, {"text": "答复"}, format="json")
    assert refused.status_code == 403
    assert client_for(world.outsider).post(respond_url, {"text": "答复"}, format="json").status_code == 404
    response = client_for(leader).post(respond_url, {"text": "已召开专题会"}, format="json")
    assert response.status_code == 200
    assert response.json()["response"] == "已召开专题会"
    assert Escalation.objects.get(pk=escalation.pk).responded_by == leader
