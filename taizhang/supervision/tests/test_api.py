"""/api/v1/recommendations/, /bulletins/, /meetings/: lifecycle, refusals with stable codes, scope 404."""

import pytest

from taizhang.supervision.models import Bulletin, Meeting, Recommendation
from taizhang.supervision.tests.helpers import draft, footprint, issued
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db

BASE = "/api/v1/recommendations/"


def test_recommendation_lifecycle_over_the_api(client_for, world, case):
    supervisor = client_for(world.supervisor)
    created = supervisor.post(BASE, {
        "issuing_org": world.city.pk, "addressed_org": world.lead_unit.pk, "kind": "combined",
        "title": "加强供电保障", "problems": "供电保障不足", "recommendations": "建立联系机制", "cases": [case.number]},
        format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["cases"] == [case.number]
    issued_ = supervisor.post(f"{BASE}{pk}/issue", {"version": 1}, format="json")
    assert issued_.json()["number"] == "CC建〔2024〕1号"
    again = supervisor.post(f"{BASE}{pk}/issue", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "workflow.illegal_transition"
    denied = supervisor.post(f"{BASE}{pk}/reply", {"reply": "自答"}, format="json")
    assert denied.status_code == 403
    unit = client_for(world.unit_leader)
    replied = unit.post(f"{BASE}{pk}/reply", {"reply": "已整改。", "evidence": [matrix.pdf_upload("机制.pdf")]},
                        format="multipart")
    assert replied.status_code == 200, replied.json()
    assert replied.json()["state"] == "replied"
    stale = supervisor.post(f"{BASE}{pk}/evaluate", {"outcome": "adopted", "evaluation": "采纳", "version": 1},
                            format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict.stale_version"
    bad = supervisor.post(f"{BASE}{pk}/evaluate", {"outcome": "perhaps", "evaluation": "采纳"}, format="json")
    assert bad.status_code == 422
    done = supervisor.post(f"{BASE}{pk}/evaluate", {"outcome": "not_adopted", "evaluation": "措施空泛"},
                           format="json")
    assert done.json()["state"] == "evaluated"
    assert [r["id"] for r in unit.get(BASE).json()["results"]] == [pk]


def test_out_of_scope_is_404_in_the_api(client_for, world, at_moment):
    rec = issued(world)
    clients = [client_for(getattr(world, who)) for who in ("sibling_handler", "outsider", "enterprise_user")]
    before = footprint(rec)  # tokens are audited too: taken once the clients exist
    for api in clients:
        assert api.get(f"{BASE}{rec.pk}/").status_code == 404
        for step, body in (("issue", {}), ("reply", {"reply": "答复"}),
                           ("evaluate", {"outcome": "adopted", "evaluation": "x"})):
            response = api.post(f"{BASE}{rec.pk}/{step}", body, format="json")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        assert api.get(BASE).json()["results"] == []
    assert footprint(rec) == before


def test_a_draft_edit_over_the_api(client_for, world, at_moment):
    rec = draft(world)
    api = client_for(world.supervisor)
    response = api.put(f"{BASE}{rec.pk}/", {"addressed_org": world.district.pk, "kind": "discipline",
                                            "title": "新题", "problems": "问", "recommendations": "建",
                                            "version": rec.version}, format="json")
    assert response.json()["addressed_org"]["id"] == world.district.pk
    unknown = api.put(f"{BASE}{rec.pk}/", {"addressed_org": world.district.pk, "kind": "discipline",
                                           "title": "新题", "problems": "问", "recommendations": "建",
                                           "colour": "red"}, format="json")
    assert unknown.status_code == 422
    assert Recommendation.objects.get(pk=rec.pk).title == "新题"


def test_bulletins_and_meetings_over_the_api(client_for, world, case):
    api = client_for(world.supervisor)
    created = api.post("/api/v1/bulletins/", {"issuing_org": world.city.pk, "period_start": "2024-03-01",
                                               "period_end": "2024-03-31", "units": [world.lead_unit.pk]},
                       format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    edited = api.patch(f"/api/v1/bulletins/{pk}/", {"sections": {"requirements": "限期整改。"}}, format="json")
    assert edited.json()["sections"][-1]["text"] == "限期整改。"
    assert api.post(f"/api/v1/bulletins/{pk}/issue", {}, format="json").json()["number"] == "CC通〔2024〕1号"
    assert api.post(f"/api/v1/bulletins/{pk}/publish", {}, format="json").json()["published_at"]
    assert client_for(world.outsider).get(f"/api/v1/bulletins/{pk}/").status_code == 404
    assert Bulletin.objects.get(pk=pk).public_sections

    meeting = api.post("/api/v1/meetings/", {"convening_org": world.city.pk, "kind": "joint_inspection",
                                             "title": "联合督查", "held_on": "2024-03-12", "topics": "督查供电整改",
                                             "participant_orgs": [world.power_company.pk]}, format="json")
    assert meeting.status_code == 201, meeting.json()
    mid = meeting.json()["id"]
    decision = api.post(f"/api/v1/meetings/{mid}/decisions", {
        "text": "供电公司限期完成切换", "assignee_org": world.power_company.pk, "due_on": "2024-03-29",
        "cases": [case.number]}, format="json")
    assert decision.status_code == 201, decision.json()
    timeline = api.get(f"/api/v1/cases/{case.number}/timeline/").json()
    assert "供电公司限期完成切换" in str(timeline)
    assert client_for(world.sibling_handler).get(f"/api/v1/meetings/{mid}/").status_code == 404
    done = client_for(world.co_leader).post(f"/api/v1/meetings/{mid}/decisions/{decision.json()['id']}/done",
                                            {"note": "已切换"}, format="json")
    assert done.json()["done_at"]
    assert Meeting.objects.get(pk=mid).decisions.get().done_note == "已切换"
