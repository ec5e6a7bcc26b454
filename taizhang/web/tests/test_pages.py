"""Workspace pages through the Django test client: scope 404s, forms, stale versions, evidence headers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from taizhang.cases import services
from taizhang.cases.workflow import State
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


def case_url(case, *rest):
    return reverse("web:case", args=[case.number]) if not rest else reverse(rest[0], args=[case.number, *rest[1:]])


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_login_page_is_chinese_by_default_and_signs_in(client, world):
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    response = client.post(reverse("web:login"), {"username": "supervisor", "password": "taizhang-demo"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_home_counts_what_waits_for_the_user(login, world, cast):
    matrix.drive(cast, State.AWAITING_APPROVAL)
    matrix.drive(cast, State.HANDED_OVER)
    response = login(world.approver).get(reverse("web:home"))
    assert response.status_code == 200
    tiles = {t.key: t.count for t in response.context["tiles"]}
    assert tiles["approve"] == 1
    assert "sign_for" not in tiles  # an approver signs for nothing
    leader = login(world.unit_leader).get(reverse("web:home"))
    tiles = {t.key: t.count for t in leader.context["tiles"]}
    assert tiles["sign_for"] == 1
    assert "approve" not in tiles
    assert leader.context["activity"], "recent activity of visible cases"


def test_case_page_shows_state_actions_and_timeline(login, world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    response = login(world.unit_leader).get(case_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    actions = [t.action for t in response.context["page"].actions]
    assert actions == ["sign_for", "decline"]
    assert "区建设发展局" in html


def test_case_page_of_another_unit_is_404(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    client = login(world.sibling_handler)
    assert client.get(case_url(case)).status_code == 404
    assert client.get(case_url(case, "web:case_action", "report_progress")).status_code == 404
    evidence = case.evidence.first()
    assert client.get(case_url(case, "web:evidence", evidence.pk)).status_code == 404
    assert login(world.outsider).get(case_url(case)).status_code == 404


def test_internal_note_and_anonymous_reporter_are_hidden_from_units(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(anonymous=True))
    html = login(world.unit_leader).get(case_url(case)).content.decode()
    assert "举报人" not in html or "asked for anonymity" not in html
    page = login(world.unit_leader).get(case_url(case)).context["page"]
    assert page.sees_reporter is False


def test_evidence_is_served_inline_for_pdf_with_safe_headers(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    evidence = case.evidence.first()
    response = login(world.handler).get(case_url(case, "web:evidence", evidence.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_non_previewable_evidence_is_an_attachment(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    upload = SimpleUploadedFile("说明.txt", "整改说明：已完成线路改造。".encode(), content_type="text/plain")
    evidence = services.attach_evidence(case.number, upload, actor=world.handler)
    response = login(world.handler).get(case_url(case, "web:evidence", evidence.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_action_form_asks_exactly_the_transition_inputs(login, world, cast):
    case = matrix.drive(cast, State.ASSESSING)
    response = login(world.supervisor).get(case_url(case, "web:case_action", "propose_handover"))
    assert response.status_code == 200
    fields = set(response.context["form"].fields)
    assert fields == {"version", "responsible_org", "lead_org", "co_orgs", "mode", "deadline", "responsible_leader",
                      "responsible_person", "goal", "note"}


def test_action_not_available_redirects_with_a_message(login, world, cast):
    case = matrix.drive(cast, State.ASSESSING)
    response = login(world.unit_leader).get(case_url(case, "web:case_action", "approve"))
    assert response.status_code == 404  # the unit may not even see a case before handover


def test_form_validation_errors_are_shown_on_their_field(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_APPROVAL)
    client = login(world.approver)
    with translation.override("en"):
        response = client.post(case_url(case, "web:case_action", "reject"), {"version": case.version, "reason": ""},
                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.context["form"].errors["reason"]
    case.refresh_from_db()
    assert case.state == State.AWAITING_APPROVAL


def test_service_validation_error_lands_on_the_field(login, world, cast):
    case = matrix.drive(cast, State.ASSESSING)
    client = login(world.supervisor)
    response = client.post(case_url(case, "web:case_action", "propose_handover"), {
        "version": case.version, "responsible_org": world.district.pk, "lead_org": world.lead_unit.pk,
        "co_orgs": [world.lead_unit.pk], "mode": "deadline",
    })
    assert response.status_code == 422
    assert "co_orgs" in response.context["form"].errors


def test_stale_version_keeps_the_input_and_shows_the_fresh_state(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_APPROVAL)
    stale = case.version
    # Someone else rejects and the case is proposed again: same state, newer version.
    case = services.reject_handover(case, actor=world.approver, reason="材料不全")
    case = services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                                     lead_org=world.lead_unit, mode="deadline")
    client = login(world.approver)
    response = client.post(case_url(case, "web:case_action", "approve"), {"version": stale, "note": "同意交办"})
    assert response.status_code == 409
    assert response.context["conflict"] is True
    html = response.content.decode()
    assert "同意交办" in html  # the user's input is kept
    assert response.context["form"]["version"].value() == str(case.version)
    case.refresh_from_db()
    assert case.state == State.AWAITING_APPROVAL
    # Submitting again with the fresh version goes through.
    again = client.post(case_url(case, "web:case_action", "approve"), {"version": case.version, "note": "同意交办"})
    assert again.status_code == 302
    case.refresh_from_db()
    assert case.state == State.HANDED_OVER


def test_action_no_longer_possible_is_reported_as_a_conflict(login, world, cast):
    case = matrix.drive(cast, State.AWAITING_APPROVAL)
    version = case.version
    services.approve_handover(case, actor=world.approver)
    response = login(world.approver).post(case_url(case, "web:case_action", "reject"),
                                          {"version": version, "reason": "再议"})
    assert response.status_code == 409
    assert response.context["stale_action"] is True
    assert "再议" in response.content.decode()


def test_report_progress_with_evidence_through_the_form(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(evidence=False))
    client = login(world.handler)
    response = client.post(case_url(case, "web:case_action", "report_progress"), {
        "version": case.version, "text": "新建外部线路已完工", "evidence": [matrix.pdf_upload()],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.evidence.count() == 1
    assert case.progress_summary == "新建外部线路已完工"


def test_disguised_upload_is_refused_with_a_message(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(evidence=False))
    bad = SimpleUploadedFile("报告.pdf", matrix.EXE_BYTES, content_type="application/pdf")
    response = login(world.handler).post(case_url(case, "web:case_action", "report_progress"), {
        "version": case.version, "text": "进展", "evidence": [bad]})
    assert response.status_code == 422
    assert response.context["form"].errors
    assert case.evidence.count() == 0


def test_ledger_lists_visible_cases_with_filters_and_cursor(login, world, cast, django_assert_max_num_queries):
    for _ in range(3):
        matrix.drive(cast, State.RECTIFYING)
    matrix.drive(cast, State.ASSESSING)
    client = login(world.supervisor)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("web:ledger"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 4
    links = [row["cells"][0] for row in response.context["rows"]]
    assert all(cell["href"] == reverse("web:case", args=[cell["text"]]) for cell in links)
    narrowed = client.get(reverse("web:ledger"), {"state": "rectifying"})
    assert len(narrowed.context["rows"]) == 3
    # The unit sees only the handed-over cases.
    unit = login(world.unit_leader).get(reverse("web:ledger"))
    assert len(unit.context["rows"]) == 3
    assert login(world.sibling_handler).get(reverse("web:ledger")).context["rows"] == []


def test_ledger_pages_by_cursor(login, world, cast, monkeypatch):
    from taizhang.web import ledger

    monkeypatch.setattr(ledger, "PAGE_SIZE", 2)
    numbers = [matrix.drive(cast, State.REGISTERED).number for _ in range(3)]
    client = login(world.supervisor)
    first = client.get(reverse("web:ledger"))
    assert first.context["next_url"]
    second = client.get(reverse("web:ledger") + first.context["next_url"])
    shown = [r["cells"][0]["text"] for r in first.context["rows"] + second.context["rows"]]
    assert sorted(shown) == sorted(numbers)
    assert not second.context["next_url"]


def test_ledger_bad_filter_is_a_clear_error(login, world):
    response = login(world.supervisor).get(reverse("web:ledger"), {"state": "nonsense"})
    assert response.status_code == 422
    assert response.context["errors"]


def test_ledger_htmx_request_gets_only_the_results(login, world, cast):
    matrix.drive(cast, State.REGISTERED)
    response = login(world.supervisor).get(reverse("web:ledger"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "ledger-table" in html
    assert "<html" not in html


def test_saved_filters_and_columns_are_per_user(login, world, cast):
    client = login(world.supervisor)
    client.post(reverse("web:ledger_save_filter"), {"name": "整改中", "query": "state=rectifying"})
    client.post(reverse("web:ledger_columns"), {"columns": ["number", "title", "state"]})
    page = client.get(reverse("web:ledger"))
    assert [f.name for f in page.context["saved"]] == ["整改中"]
    assert [key for key, _label in page.context["columns"]] == ["number", "title", "state"]
    other = login(world.approver).get(reverse("web:ledger"))
    assert other.context["saved"] == []
    assert len(other.context["columns"]) > 3
    saved = page.context["saved"][0]
    assert login(world.approver).post(reverse("web:ledger_delete_filter", args=[saved.pk])).status_code == 404


@pytest.mark.parametrize(("name", "message"), [("", "请为筛选条件填写名称。"), ("长" * 61, "不超过 60 字符")])
def test_a_filter_that_cannot_be_saved_says_why_and_saves_nothing(login, world, name, message):
    client = login(world.supervisor)
    response = client.post(reverse("web:ledger_save_filter"), {"name": name, "query": "state=rectifying"},
                           follow=True)
    assert message in response.content.decode()
    assert response.context["saved"] == []
    assert response.request["QUERY_STRING"] == "state=rectifying"


def test_case_page_query_count_is_bounded(login, world, cast, django_assert_max_num_queries):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    client = login(world.supervisor)
    with django_assert_max_num_queries(25):
        response = client.get(case_url(case))
    assert response.status_code == 200


def test_all_ledger_columns_render(login, world, cast):
    from taizhang.web.ledger import COLUMNS

    matrix.drive(cast, State.CLOSED)
    client = login(world.supervisor)
    client.post(reverse("web:ledger_columns"), {"columns": [key for key, _label in COLUMNS]})
    response = client.get(reverse("web:ledger"))
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert len(row["cells"]) == len(COLUMNS)
    cells = {c["key"]: c["text"] for c in row["cells"]}
    assert cells["evidence"]
    assert cells["acceptance"]
    assert cells["closure"]
    assert cells["followup"]


def _queries(client, url, **params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_ledger_query_count_does_not_grow_with_the_rows(login, world, cast, django_assert_max_num_queries):
    client = login(world.supervisor)
    from taizhang.web.ledger import COLUMNS

    client.post(reverse("web:ledger_columns"), {"columns": [key for key, _label in COLUMNS]})
    matrix.drive(cast, State.CLOSED)
    few = _queries(client, reverse("web:ledger"))
    for state in (State.RECTIFYING, State.AWAITING_FOLLOWUP, State.CLOSED, State.REGISTERED):
        matrix.drive(cast, state)
    with django_assert_max_num_queries(few):
        client.get(reverse("web:ledger"))


def test_case_page_query_count_does_not_grow_with_reports(login, world, cast, django_assert_max_num_queries):
    case = matrix.drive(cast, State.RECTIFYING)
    client = login(world.supervisor)
    before = _queries(client, case_url(case))
    for n in range(4):
        case = services.report_progress(case, actor=world.handler, text=f"进展{n}", evidence=[matrix.pdf_upload()])
    with django_assert_max_num_queries(before):
        client.get(case_url(case))


@pytest.mark.parametrize("persona", ["supervisor", "approver", "unit_leader", "handler", "inspector"])
def test_each_home_count_equals_the_list_behind_it(login, world, cast, persona):
    for state in (State.REGISTERED, State.ASSESSING, State.AWAITING_APPROVAL, State.HANDED_OVER, State.RECTIFYING,
                  State.AWAITING_ACCEPTANCE, State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE):
        matrix.drive(cast, state)
    client = login(getattr(world, persona))
    tiles = client.get(reverse("web:home")).context["tiles"]
    assert tiles
    for tile in tiles:
        rows = client.get(reverse("web:ledger") + "?" + tile.query).context["rows"]
        assert len(rows) == tile.count, (persona, tile.key)


def test_action_the_user_may_not_take_sends_them_back_with_a_message(login, world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    client = login(world.approver)
    response = client.get(case_url(case, "web:case_action", "sign_for"))
    assert response.status_code == 302
    assert response["Location"] == case_url(case)
    refused = client.post(case_url(case, "web:case_action", "sign_for"), {"version": case.version})
    assert refused.status_code == 302
    case.refresh_from_db()
    assert case.state == State.HANDED_OVER


def test_unknown_action_is_404(login, world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    assert login(world.unit_leader).post(case_url(case, "web:case_action", "explode"), {}).status_code == 404


def test_enterprise_user_sees_no_internal_note_nor_people(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    page = login(world.enterprise_user).get(case_url(case))
    assert page.status_code == 200
    assert page.context["page"].sees_internal is False
    html = page.content.decode()
    assert "刘局长" not in html  # the unit leader's name stays internal


def test_evidence_upload_from_the_case_page(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(evidence=False))
    url = reverse("web:evidence_upload", args=[case.number])
    response = login(world.handler).post(url, {"file": [matrix.pdf_upload("线路图.pdf")]})
    assert response.status_code == 302
    assert list(case.evidence.values_list("original_name", flat=True)) == ["线路图.pdf"]
    bad = SimpleUploadedFile("图片.png", matrix.EXE_BYTES, content_type="image/png")
    refused = login(world.handler).post(url, {"file": [bad]}, follow=True)
    assert refused.status_code == 200
    assert case.evidence.count() == 1
    assert any(m.level_tag == "error" for m in refused.context["messages"])
    assert login(world.sibling_handler).post(url, {"file": [matrix.pdf_upload()]}).status_code == 404
    assert case.evidence.count() == 1
