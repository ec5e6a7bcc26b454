import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from taizhang.accounts.models import Membership, User
from taizhang.api.models import ApiToken, IdempotencyRecord
from taizhang.api.tokens import authenticate_token, create_token, revoke_token
from taizhang.audit.models import AuditEvent
from taizhang.cases import policies
from taizhang.cases.models import Case, Evidence
from taizhang.core.credit_code import make_credit_code
from taizhang.core.models import OutboxMessage
from taizhang.orgs.models import Organisation
from taizhang.testing.matrix import PDF_BYTES, drive
from taizhang.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db

NEW_CASE = {"source": "hotline", "title": "路灯不亮", "description": "园区道路路灯长期不亮。"}


def error_code(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert "message" in body["error"]
    return body["error"]["code"]


# --- authentication ------------------------------------------------------------------------------

def test_no_credentials_is_401_in_the_error_shape():
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_code(response) == "auth.not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer tzk_unknown", "Bearer", "Token a b", "Bearer nottzk"])
def test_bad_tokens_are_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_code(response).startswith("auth.")


def test_token_keyword_and_bearer_both_work(world):
    _token, raw = create_token(user=world.supervisor, name="x")
    for keyword in ("Bearer", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
        assert client.get("/api/v1/cases/").status_code == 200


def test_token_is_stored_hashed_and_audited(world):
    token, raw = create_token(user=world.supervisor, name="hotline bridge")
    assert raw.startswith("tzk_")
    assert token.key_prefix == raw[:8]
    assert raw not in token.key_hash
    assert len(token.key_hash) == 64
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert AuditEvent.objects.filter(action="api_token.created", object_id=str(token.pk)).count() == 1


def test_revoked_token_is_401(world, client_for):
    token, raw = create_token(user=world.supervisor, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/cases/").status_code == 200
    revoke_token(token, actor=world.supervisor)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_code(response) == "auth.invalid_token"
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_expired_token_is_401(world, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    _token, raw = create_token(user=world.supervisor, name="x",
                               expires_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    assert authenticate_token(raw) == world.supervisor
    time_machine.move_to(dt.datetime(2026, 3, 4, tzinfo=dt.UTC))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/cases/").status_code == 401


def test_last_used_is_updated_at_most_once_a_minute(world, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False)
    token, raw = create_token(user=world.supervisor, name="x")
    authenticate_token(raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC), tick=False)
    authenticate_token(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 1, 30, tzinfo=dt.UTC), tick=False)
    authenticate_token(raw)
    later = ApiToken.objects.get(pk=token.pk).last_used_at
    assert later is not None
    assert later > first


def test_revoking_a_membership_takes_effect_on_the_next_request(world, cast, client_for):
    case = drive(cast, "registered")
    client = client_for(world.supervisor)
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 200
    Membership.objects.filter(user=world.supervisor).delete()
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 404
    assert client.get("/api/v1/cases/").json()["results"] == []


def test_a_token_brings_its_users_seats_as_the_seats_query_reads_them(world, django_assert_num_queries):
    user, nobody = world.supervisor, User.objects.create_user(username="no-seat", password=PASSWORD)
    Membership.objects.create(user=user, org=world.inspection_group, role="viewer")
    Membership.objects.create(user=user, org=world.inspection_office, role="viewer")
    Organisation.objects.filter(pk=world.inspection_office.pk).update(is_active=False)
    for member, seated in ((user, 2), (nobody, 0)):
        _token, raw = create_token(user=member, name="x")
        authenticate_token(raw)  # its last-used time
        expected = policies.seats(User.objects.get(pk=member.pk))  # through the seats query
        assert len(expected) == seated
        with django_assert_num_queries(1):
            found = authenticate_token(raw)
            assert found is not None
            assert policies.seats(found) == expected


def test_inactive_user_token_is_401(world):
    _token, raw = create_token(user=world.supervisor, name="x")
    world.supervisor.is_active = False
    world.supervisor.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/cases/").status_code == 401


def test_create_token_command_prints_the_token_once(world, capsys):
    from django.core.management import call_command

    call_command("create_token", "supervisor", "--name", "bridge", "--expires-days", "30")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("tzk_")
    assert authenticate_token(raw) == world.supervisor
    token = ApiToken.objects.get(name="bridge")
    assert token.expires_at is not None


def test_token_json_endpoints(world, client_for):
    client = client_for(world.handler)
    created = client.post("/api/v1/tokens/", {"name": "script", "expires_days": 7}, format="json")
    assert created.status_code == 201
    raw = created.json()["token"]
    listing = client.get("/api/v1/tokens/").json()
    assert {t["name"] for t in listing} == {"tests", "script"}
    assert all("token" not in t for t in listing)
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}/").status_code == 204
    assert authenticate_token(raw) is None
    other, _ = create_token(user=world.supervisor, name="theirs")
    assert client.delete(f"/api/v1/tokens/{other.pk}/").status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


def test_token_pages_create_show_once_and_revoke(world):
    client = Client()
    assert client.login(username="handler", password=PASSWORD)
    page = client.post("/api/tokens/", {"name": "my script", "expires_days": "10"})
    assert page.status_code == 201
    token = ApiToken.objects.get(name="my script")
    assert token.key_prefix in page.content.decode()
    again = client.get("/api/tokens/").content.decode()
    assert "my script" in again
    assert 'id="new-token"' not in again
    bad = client.post("/api/tokens/", {"name": "", "expires_days": "x"})
    assert bad.status_code == 422
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    theirs, _ = create_token(user=world.supervisor, name="theirs")
    assert client.post(f"/api/tokens/{theirs.pk}/revoke/").status_code == 404


def test_token_pages_need_sign_in():
    assert Client().get("/api/tokens/").status_code == 302


def test_session_authentication_works_for_reads(world, cast):
    case = drive(cast, "registered")
    client = Client()
    client.login(username="supervisor", password=PASSWORD)
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 200


# --- cases ---------------------------------------------------------------------------------------

def test_create_case_and_read_it_back_with_etag(world, client_for):
    client = client_for(world.supervisor)
    response = client.post("/api/v1/cases/", {**NEW_CASE, "category": world.category.pk,
                                              "enterprises": [world.enterprise.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "registered"
    assert body["source"] == "hotline"
    assert body["version"] == 1
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"/api/v1/cases/{body['number']}/"
    detail = client.get(f"/api/v1/cases/{body['number']}/")
    assert detail.status_code == 200
    assert detail["ETag"] == '"1"'
    assert AuditEvent.objects.filter(action="case.registered", object_id=body["number"]).count() == 1
    assert OutboxMessage.objects.filter(topic="case.created").count() == 1


@pytest.mark.parametrize(("payload", "code"), [
    ({**NEW_CASE, "source": "pigeon"}, "validation.invalid"),
    ({"source": "hotline"}, "validation.invalid"),
    ({**NEW_CASE, "category": 999999}, "validation.unknown_category"),
    ({**NEW_CASE, "enterprises": [999999]}, "validation.unknown_enterprise"),
    ({**NEW_CASE, "title": "  "}, "validation.invalid"),
    ({**NEW_CASE, "unexpected": 1, "found_on": "not a date"}, "validation.invalid"),
])
def test_create_case_bad_input_is_422(world, client_for, payload, code):
    response = client_for(world.supervisor).post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 422
    assert error_code(response) == code
    assert not Case.objects.exists()


def test_malformed_json_is_400_without_a_trace(world, client_for):
    response = client_for(world.supervisor).post("/api/v1/cases/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "validation.malformed_body"
    assert response.json()["error"]["message"] == "请求体格式有误，无法读取。"  # not the parser's English
    assert "Traceback" not in response.content.decode()


def test_json_nested_too_deep_for_the_parser_is_400_not_a_server_error(world, client_for):
    deep = "[" * 100_000 + "]" * 100_000
    response = client_for(world.supervisor).post("/api/v1/cases/", deep, content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "validation.malformed_body"
    assert not Case.objects.exists()


def test_an_oversize_body_is_413_and_creates_nothing(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20
    body = {**NEW_CASE, "description": "长" * (2**20)}  # 3 MB of UTF-8
    response = client_for(world.supervisor).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 413
    assert error_code(response) == "http.payload_too_large"
    assert response.json()["error"]["message"] == "请求体超过了允许的 2 MB。"
    assert not Case.objects.exists()


def test_a_form_with_too_many_fields_is_400_and_creates_nothing(world, client_for):
    form = "&".join(f"field{i}=1" for i in range(1001))
    response = client_for(world.supervisor).post("/api/v1/cases/", form,
                                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert error_code(response) == "validation.malformed_body"
    assert not Case.objects.exists()


def test_handler_may_not_register(world, client_for):
    response = client_for(world.handler).post("/api/v1/cases/", NEW_CASE, format="json")
    assert response.status_code == 403
    assert error_code(response) == "workflow.action_not_allowed"


def test_list_filters_and_cursor(world, cast, client_for):
    numbers = {drive(cast, "registered", title=f"问题{i}").number for i in range(5)}
    client = client_for(world.supervisor)
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/cases/", params).json()
        seen += [row["number"] for row in page["results"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert set(seen) == numbers
    assert len(seen) == 5
    assert client.get("/api/v1/cases/", {"state": "closed"}).json()["results"] == []
    assert len(client.get("/api/v1/cases/", {"state": "registered,closed"}).json()["results"]) == 5
    by_number = client.get("/api/v1/cases/", {"order": "number"}).json()["results"]
    assert [row["number"] for row in by_number] == sorted(numbers)
    for bad in ({"limit": "0"}, {"limit": "x"}, {"order": "colour"}, {"state": "flying"},
                {"cursor": "forged"}, {"q": "x" * 101}, {"registered_from": "2026-13-01"}):
        response = client.get("/api/v1/cases/", bad)
        assert response.status_code == 422, bad
        assert error_code(response).startswith("validation."), bad


def test_list_search_uses_the_ledger_search(world, cast, client_for):
    wanted = drive(cast, "registered", title="供电线路频繁跳闸")
    drive(cast, "registered", title="道路积水")
    client = client_for(world.supervisor)
    found = [row["number"] for row in client.get("/api/v1/cases/", {"q": "跳闸"}).json()["results"]]
    assert found == [wanted.number]
    assert client_for(world.outsider).get("/api/v1/cases/", {"q": "跳闸"}).json()["results"] == []


def test_actions_list_and_perform(world, cast, client_for):
    case = drive(cast, "registered")
    client = client_for(world.supervisor)
    actions = {a["action"] for a in client.get(f"/api/v1/cases/{case.number}/actions/").json()}
    assert {"assess", "dismiss", "merge"} <= actions
    response = client.post(f"/api/v1/cases/{case.number}/actions/assess", {"note": "研判"}, format="json",
                           HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "assessing"
    assert response["ETag"] == '"2"'
    assert client_for(world.handler).get(f"/api/v1/cases/{case.number}/actions/").status_code == 404


def test_stale_if_match_is_409_with_current_state(world, cast, client_for):
    case = drive(cast, "registered")
    client = client_for(world.supervisor)
    client.post(f"/api/v1/cases/{case.number}/actions/assess", {}, format="json")
    response = client.post(f"/api/v1/cases/{case.number}/actions/dismiss", {"reason": "重复"}, format="json",
                           HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "conflict.stale_version"
    assert body["state"] == "assessing"
    assert body["version"] == 2
    assert Case.objects.get(pk=case.pk).state == "assessing"


def test_bad_if_match_is_422(world, cast, client_for):
    case = drive(cast, "registered")
    response = client_for(world.supervisor).post(f"/api/v1/cases/{case.number}/actions/assess", {},
                                                 format="json", HTTP_IF_MATCH="yesterday")
    assert response.status_code == 422
    assert error_code(response) == "validation.invalid_if_match"


def test_illegal_and_forbidden_actions(world, cast, client_for):
    case = drive(cast, "registered")
    closing = client_for(world.supervisor).post(f"/api/v1/cases/{case.number}/actions/close",
                                                {"opinion": "x"}, format="json")
    assert closing.status_code == 409
    assert error_code(closing) == "workflow.illegal_transition"
    viewer = client_for(world.viewer).post(f"/api/v1/cases/{case.number}/actions/dismiss", {"reason": "x"},
                                           format="json")
    assert viewer.status_code == 403
    assert error_code(viewer) == "workflow.action_not_allowed"
    unknown = client_for(world.supervisor).post(f"/api/v1/cases/{case.number}/actions/fly", {}, format="json")
    assert unknown.status_code == 404


def test_action_input_shape_checked(world, cast, client_for):
    case = drive(cast, "registered")
    client = client_for(world.supervisor)
    wrong_type = client.post(f"/api/v1/cases/{case.number}/actions/assess", {"category": "abc"}, format="json")
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["field"] == "category"
    unknown = client.post(f"/api/v1/cases/{case.number}/actions/assess", {"colour": "red"}, format="json")
    assert unknown.status_code == 422
    other_action = client.post(f"/api/v1/cases/{case.number}/actions/assess", {"reason": "x"}, format="json")
    assert other_action.status_code == 422
    assert error_code(other_action) == "validation.unexpected_input"
    missing = client.post(f"/api/v1/cases/{case.number}/actions/dismiss", {}, format="json")
    assert missing.status_code == 422
    assert error_code(missing) == "validation.required"
    assert Case.objects.get(pk=case.pk).version == 1


def test_timeline_assignments_progress_and_evidence(world, cast, client_for):
    case = drive(cast, "rectifying")
    handler = client_for(world.handler)
    timeline = handler.get(f"/api/v1/cases/{case.number}/timeline/").json()
    assert next(e["action"] for e in timeline) == "case.registered"
    assignments = handler.get(f"/api/v1/cases/{case.number}/assignments/").json()
    assert {a["role"] for a in assignments} == {"lead", "co"}
    report = handler.post(f"/api/v1/cases/{case.number}/progress-reports/",
                          {"text": "完成一半", "evidence": [SimpleUploadedFile("进度.pdf", PDF_BYTES)]},
                          format="multipart")
    assert report.status_code == 201, report.json()
    reports = handler.get(f"/api/v1/cases/{case.number}/progress-reports/").json()
    assert reports[-1]["text"] == "完成一半"
    assert reports[-1]["evidence"][0]["original_name"] == "进度.pdf"
    upload = handler.post(f"/api/v1/cases/{case.number}/evidence/",
                          {"file": SimpleUploadedFile("整改 照片.pdf", PDF_BYTES), "purpose": "other"},
                          format="multipart")
    assert upload.status_code == 201, upload.json()
    evidence_id = upload.json()["id"]
    download = handler.get(f"/api/v1/cases/{case.number}/evidence/{evidence_id}/download/")
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=utf-8''" in disposition
    assert b"".join(download.streaming_content) == PDF_BYTES
    bad = handler.post(f"/api/v1/cases/{case.number}/evidence/",
                       {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")}, format="multipart")
    assert bad.status_code == 422
    assert Evidence.objects.filter(case=case).count() == 3


# --- scope: out of scope is 404 everywhere ---------------------------------------------------------

CASE_READS = ["/api/v1/cases/{n}/", "/api/v1/cases/{n}/actions/", "/api/v1/cases/{n}/timeline/",
              "/api/v1/cases/{n}/assignments/", "/api/v1/cases/{n}/progress-reports/",
              "/api/v1/cases/{n}/evidence/", "/api/v1/cases/{n}/evidence/{e}/download/"]
CASE_WRITES = ["/api/v1/cases/{n}/actions/assess", "/api/v1/cases/{n}/actions/report_progress",
               "/api/v1/cases/{n}/progress-reports/", "/api/v1/cases/{n}/evidence/"]


@pytest.mark.parametrize("persona", ["outsider", "sibling_handler", "enterprise_user", "auditor", "admin",
                                     "handler", "unit_leader"])
def test_out_of_scope_is_404_on_every_case_endpoint(world, cast, client_for, persona):
    # A registered case is not yet visible to units; the outsider (another city) never sees it.
    from taizhang.cases import services

    case = services.register_case(actor=world.supervisor, source="supervision", title="内部线索",
                                  description="未涉及企业")
    evidence_case = drive(cast, "rectifying")
    evidence = Evidence.objects.filter(case=evidence_case).get()
    client = client_for(getattr(world, persona))
    visible = client.get(f"/api/v1/cases/{evidence_case.number}/").status_code == 200
    for template in CASE_READS:
        response = client.get(template.format(n=case.number, e=evidence.pk))
        assert response.status_code == 404, (persona, template)
        assert error_code(response) == "not_found"
        if not visible:
            assert client.get(template.format(n=evidence_case.number, e=evidence.pk)).status_code == 404
    for template in CASE_WRITES:
        response = client.post(template.format(n=case.number), {"text": "x"}, format="json")
        assert response.status_code == 404, (persona, template)
    assert case.number not in {row["number"] for row in client.get("/api/v1/cases/").json()["results"]}


def test_evidence_of_another_case_is_404(world, cast, client_for):
    one, two = drive(cast, "rectifying"), drive(cast, "rectifying", title="另一个")
    evidence = Evidence.objects.filter(case=two).get()
    response = client_for(world.handler).get(f"/api/v1/cases/{one.number}/evidence/{evidence.pk}/download/")
    assert response.status_code == 404


def test_enterprise_user_sees_own_enterprise_only(world, client_for):
    from taizhang.orgs.services import create_enterprise

    other = create_enterprise(actor=world.supervisor, name="别家公司",
                              credit_code=make_credit_code("91", "220101", "MA17Q8X9"))
    client = client_for(world.enterprise_user)
    assert [e["id"] for e in client.get("/api/v1/enterprises/").json()] == [world.enterprise.pk]
    assert client.get(f"/api/v1/enterprises/{other.pk}/").status_code == 404
    assert client_for(world.supervisor).get(f"/api/v1/enterprises/{other.pk}/").status_code == 200


# --- reference data ------------------------------------------------------------------------------

def test_enterprise_create_validates_the_credit_code(world, client_for):
    client = client_for(world.supervisor)
    bad = client.post("/api/v1/enterprises/", {"name": "坏代码公司", "credit_code": "91220101MA17Q8X3X0"},
                      format="json")
    assert bad.status_code == 422
    assert error_code(bad) == "validation.credit_code_invalid"
    assert bad.json()["error"]["field"] == "credit_code"
    code = make_credit_code("91", "220101", "MA17Q8Y1")
    good = client.post("/api/v1/enterprises/", {"name": "新公司", "credit_code": code.lower()}, format="json")
    assert good.status_code == 201, good.json()
    assert good.json()["credit_code"] == code
    taken = client.post("/api/v1/enterprises/", {"name": "重复", "credit_code": code}, format="json")
    assert taken.status_code == 422
    assert error_code(taken) == "validation.duplicate_credit_code"
    assert AuditEvent.objects.filter(action="enterprise.created").count() == 1
    refused = client_for(world.handler).post("/api/v1/enterprises/", {"name": "x", "credit_code": code},
                                             format="json")
    assert refused.status_code == 403


def test_reference_reads(world, client_for):
    client = client_for(world.handler)
    assert any(o["name"] == world.lead_unit.name for o in client.get("/api/v1/organisations/").json())
    assert client.get(f"/api/v1/organisations/{world.city.pk}/").json()["code"] == "CC"
    assert client.get("/api/v1/organisations/999999/").status_code == 404
    assert any(c["id"] == world.category.pk for c in client.get("/api/v1/categories/").json())
    assert client.get("/api/v1/time-limits/").status_code == 200


# --- idempotency ---------------------------------------------------------------------------------

def test_idempotent_create_replays_and_creates_nothing_new(world, client_for):
    client = client_for(world.supervisor)
    first = client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    events = AuditEvent.objects.count()
    again = client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert Case.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert OutboxMessage.objects.filter(topic="case.created").count() == 1
    reused = client.post("/api/v1/cases/", {**NEW_CASE, "title": "别的"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 422
    assert error_code(reused) == "idempotency.key_reused"
    # Keys belong to their user: another user's identical key is a different request.
    other = client_for(world.inspector).post("/api/v1/cases/", NEW_CASE, format="json",
                                             HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 201
    assert Case.objects.count() == 2


def test_failed_request_does_not_keep_the_key(world, client_for):
    client = client_for(world.supervisor)
    failed = client.post("/api/v1/cases/", {"source": "hotline"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert failed.status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201


def test_idempotent_action(world, cast, client_for):
    case = drive(cast, "registered")
    client = client_for(world.supervisor)
    url = f"/api/v1/cases/{case.number}/actions/assess"
    first = client.post(url, {"note": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="act-1")
    again = client.post(url, {"note": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="act-1")
    assert first.status_code == again.status_code == 200
    assert Case.objects.get(pk=case.pk).version == 2
    assert AuditEvent.objects.filter(action="case.assessment_started").count() == 1


def test_bad_idempotency_key_is_422(world, client_for):
    response = client_for(world.supervisor).post("/api/v1/cases/", NEW_CASE, format="json",
                                                 HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 422
    assert error_code(response) == "idempotency.key_invalid"


# --- errors --------------------------------------------------------------------------------------

def test_unexpected_errors_are_500_without_details(world, client_for, monkeypatch):

    def boom(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM table")

    monkeypatch.setattr("taizhang.api.selectors.case_for", boom)
    client = client_for(world.supervisor)
    client.raise_request_exception = False
    response = client.get("/api/v1/cases/CC-2022-0001/", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 500
    body = response.json()["error"]
    assert body["code"] == "server_error"
    assert body["request_id"] == "req-123"
    assert "SELECT" not in response.content.decode()


def test_docs_are_served_offline(world):
    for url in ("/api/docs/", "/api/redoc/"):
        page = Client().get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn." not in html
        assert "unpkg" not in html
        assert "jsdelivr" not in html
