"""The supervision pages: lists, forms, detail with timeline, reply and evaluation, scope 404s."""

import datetime as dt

import pytest
from django.urls import reverse

from taizhang.documents.models import IssuedDocument
from taizhang.supervision import selectors, services
from taizhang.supervision.models import Meeting, Recommendation
from taizhang.supervision.tests.helpers import draft, footprint, issued
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


def detail(rec):
    return reverse("supervision:recommendation", args=[rec.pk])


def test_supervisor_drafts_and_issues_through_the_pages(login, world, case):
    client = login(world.supervisor)
    assert client.get(reverse("supervision:recommendations")).status_code == 200
    form = client.get(reverse("supervision:recommendation_create"))
    assert 'name="problems"' in form.content.decode()
    bad = client.post(reverse("supervision:recommendation_create"), {
        "issuing_org": world.city.pk, "addressed_org": world.lead_unit.pk, "kind": "supervision", "title": "题",
        "problems": "问题", "recommendations": "建议", "cases": "CC-2024-9999"})
    assert bad.status_code == 422
    assert not Recommendation.objects.exists()
    response = client.post(reverse("supervision:recommendation_create"), {
        "issuing_org": world.city.pk, "addressed_org": world.lead_unit.pk, "kind": "supervision",
        "title": "加强供电保障", "problems": "供电保障不足", "recommendations": "建立联系机制", "cases": case.number})
    rec = Recommendation.objects.get()
    assert response["Location"] == detail(rec)
    page = client.get(detail(rec)).content.decode()
    assert "recommendation-actions" in page
    assert client.post(reverse("supervision:recommendation_issue", args=[rec.pk]),
                       {"version": rec.version}).status_code == 302
    rec.refresh_from_db()
    assert rec.state == "issued"
    page = client.get(detail(rec)).content.decode()
    assert rec.number in page
    assert "timeline" in page
    # issuing again is refused with a message and changes nothing
    before = footprint(rec)
    assert client.post(reverse("supervision:recommendation_issue", args=[rec.pk])).status_code == 303
    assert footprint(rec) == before
    # issued once and kept: the second download returns the same bytes, and the timeline records it
    first = client.get(reverse("supervision:recommendation_document", args=[rec.pk, "docx"]))
    assert first["Content-Type"].endswith("wordprocessingml.document")
    second = client.get(reverse("supervision:recommendation_document", args=[rec.pk, "docx"]))
    assert b"".join(first.streaming_content) == b"".join(second.streaming_content)
    assert IssuedDocument.objects.get().number == rec.number
    assert "document.issued" in [e.action for e in selectors.recommendation_page(world.supervisor, rec.pk).timeline]


def test_unit_replies_and_supervisor_evaluates(login, world, at_moment):
    rec = issued(world)
    assert login(world.supervisor).get(reverse("supervision:recommendation_reply", args=[rec.pk])).status_code == 403
    client = login(world.unit_leader)
    assert client.get(reverse("supervision:recommendation_reply", args=[rec.pk])).status_code == 200
    refused = client.post(reverse("supervision:recommendation_evaluate", args=[rec.pk]),
                          {"version": rec.version, "outcome": "adopted", "evaluation": "自评"})
    assert refused.status_code == 403
    assert Recommendation.objects.get(pk=rec.pk).state == "issued"
    response = client.post(reverse("supervision:recommendation_reply", args=[rec.pk]), {
        "version": rec.version, "reply": "已建立联系机制。", "evidence": [matrix.pdf_upload("机制.pdf")]})
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.state == "replied"
    evidence = rec.evidence.get()
    assert client.get(reverse("supervision:recommendation_evidence", args=[rec.pk, evidence.pk])).status_code == 200
    refused = client.post(reverse("supervision:recommendation_evaluate", args=[rec.pk]),
                          {"version": rec.version, "outcome": "adopted", "evaluation": "自评"})
    assert refused.status_code == 403
    client = login(world.supervisor)
    response = client.post(reverse("supervision:recommendation_evaluate", args=[rec.pk]),
                           {"version": rec.version, "outcome": "partly", "evaluation": "部分采纳。"})
    assert response.status_code == 302
    assert Recommendation.objects.get(pk=rec.pk).outcome == "partly"


def test_out_of_scope_is_404_on_every_page(login, world, at_moment):
    rec = services.reply_to_recommendation(issued(world).pk, actor=world.handler, reply="已整改。",
                                           evidence=[matrix.pdf_upload()])
    urls = [detail(rec), reverse("supervision:recommendation_reply", args=[rec.pk]),
            reverse("supervision:recommendation_evaluate", args=[rec.pk]),
            reverse("supervision:recommendation_document", args=[rec.pk, "docx"]),
            reverse("supervision:recommendation_evidence", args=[rec.pk, rec.evidence.get().pk])]
    before = footprint(rec)
    for who in ("sibling_handler", "outsider", "co_leader", "enterprise_user"):
        client = login(getattr(world, who))
        for url in urls:
            assert client.get(url).status_code == 404, (who, url)
        assert client.post(reverse("supervision:recommendation_evaluate", args=[rec.pk]),
                           {"version": rec.version, "outcome": "adopted", "evaluation": "x"}).status_code == 404
        assert rec.title not in client.get(reverse("supervision:recommendations")).content.decode()
    assert footprint(rec) == before


def test_a_draft_is_not_found_by_the_addressed_unit(login, world, at_moment):
    rec = draft(world)
    assert login(world.unit_leader).get(detail(rec)).status_code == 404


def test_meeting_pages_and_a_decision_on_the_case_page(login, world, case):
    client = login(world.supervisor)
    response = client.post(reverse("supervision:meeting_create"), {
        "convening_org": world.city.pk, "kind": "consultation", "title": "供电问题会商", "held_on": "2024-03-12",
        "topics": "研究整改措施", "participant_orgs": [world.power_company.pk, world.lead_unit.pk]})
    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("supervision:meeting", args=[meeting.pk])
    response = client.post(reverse("supervision:meeting", args=[meeting.pk]), {
        "version": meeting.version, "text": "月底前完成外线切换", "assignee_org": world.lead_unit.pk,
        "due_on": "2024-03-29", "cases": case.number})
    assert response.status_code == 302
    case_page = client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "月底前完成外线切换" in case_page
    handler = login(world.handler)
    decision = meeting.decisions.get()
    response = handler.post(reverse("supervision:decision_done", args=[meeting.pk, decision.pk]),
                            {"note": "已完成"})
    assert response.status_code == 302
    assert meeting.decisions.get().done_at is not None
    assert login(world.sibling_handler).get(reverse("supervision:meeting", args=[meeting.pk])).status_code == 404


def test_bulletin_editor_preview_issue_and_public_page(login, world, case, client):
    bulletin = services.generate_bulletin(actor=world.supervisor, issuing_org=world.city,
                                          units=[world.lead_unit], period_start=dt.date(2024, 3, 1),
                                          period_end=dt.date(2024, 3, 31))
    supervisor = login(world.supervisor)
    page = supervisor.get(reverse("supervision:bulletin", args=[bulletin.pk])).content.decode()
    assert 'name="section_overview"' in page
    data = {"version": bulletin.version, "title": bulletin.title, "distribution": [world.lead_unit.pk],
            **{f"section_{s['key']}": s["text"] for s in bulletin.sections}}
    preview = supervisor.post(reverse("supervision:bulletin_preview", args=[bulletin.pk]),
                              {**data, "section_requirements": "预览中的新要求"})
    assert "预览中的新要求" in preview.content.decode()
    assert "预览中的新要求" not in str(services.get_bulletin_for(world.supervisor, bulletin.pk).sections)
    assert supervisor.post(reverse("supervision:bulletin", args=[bulletin.pk]),
                           {**data, "section_requirements": "张三须限期整改"}).status_code == 302
    assert supervisor.post(reverse("supervision:bulletin_issue", args=[bulletin.pk])).status_code == 302
    public_url = reverse("supervision:bulletin_public", args=[bulletin.pk])
    supervisor.logout()
    assert client.get(public_url).status_code == 404  # not published yet
    supervisor = login(world.supervisor)
    assert supervisor.post(reverse("supervision:bulletin_publish", args=[bulletin.pk])).status_code == 302
    supervisor.logout()
    public = client.get(public_url)
    assert public.status_code == 200
    assert "须限期整改" in public.content.decode()
    assert "张三" not in public.content.decode()
