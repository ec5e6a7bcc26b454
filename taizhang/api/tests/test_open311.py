import datetime as dt
import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import time_machine

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.api.open311 import services as open311_services
from taizhang.api.tokens import create_token, revoke_token
from taizhang.cases import services
from taizhang.cases.models import Case, Category
from taizhang.cases.workflow import State
from taizhang.core.models import OutboxMessage
from taizhang.testing import matrix

BASE = "/open311/v2"
MOMENT = matrix.MOMENT


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def hotline_account(world) -> User:
    """The 12345 hotline integration account: a supervisor seat at the city body."""
    user = User.objects.create(username="hotline12345", display_name="12345 热线对接")
    Membership.objects.create(user=user, org=world.city, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def key(world) -> str:
    return create_token(user=hotline_account(world), name="12345")[1]


@pytest.fixture
def outsider_key(world) -> str:
    return create_token(user=world.outsider, name="外市")[1]


def errors_of(response) -> list[dict[str, Any]]:
    if response["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [{"code": int(e.findtext("code") or 0), "description": e.findtext("description")} for e in root]
    errors: list[dict[str, Any]] = json.loads(response.content)
    return errors


def post_request(client, key, *, headers=None, **fields):
    data = {"api_key": key, "service_code": str(Category.objects.get(name="供电").pk),
            "description": "开发区路口路灯整晚不亮，已持续一周。", **fields}
    return client.post(f"{BASE}/requests.json", data, headers=headers)


def xml_requests(response) -> list[dict[str, Any]]:
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    return [{child.tag: child.text for child in item} for item in root.findall("request")]


# --- services --------------------------------------------------------------------------------------

def test_services_json_lists_active_categories(world, client):
    Category.objects.create(name="已停用", is_active=False)
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    services_ = {s["service_name"]: s for s in response.json()}
    assert "已停用" not in services_
    power = services_["供电"]
    assert power == {"service_code": str(world.category.pk), "service_name": "供电",
                     "description": "营商环境 › 要素保障 › 供电", "metadata": False, "type": "realtime",
                     "keywords": "营商环境,要素保障,供电", "group": "要素保障"}


def test_services_xml(world, client):
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    power = next(s for s in root.findall("service") if s.findtext("service_name") == "供电")
    assert power.findtext("service_code") == str(world.category.pk)
    assert power.findtext("metadata") == "false"
    assert power.findtext("group") == "要素保障"


def test_service_definition_and_unknown_service(world, client):
    response = client.get(f"{BASE}/services/{world.category.pk}.json")
    assert response.json() == {"service_code": str(world.category.pk), "attributes": []}
    xml = ET.fromstring(client.get(f"{BASE}/services/{world.category.pk}.xml").content)
    assert xml.tag == "service_definition"
    assert xml.findtext("service_code") == str(world.category.pk)
    missing = client.get(f"{BASE}/services/999999.xml")
    assert missing.status_code == 404
    assert errors_of(missing)[0]["code"] == 404


def test_unknown_format_is_not_routed(world, client):
    assert client.get(f"{BASE}/services.csv").status_code == 404


# --- POST requests ---------------------------------------------------------------------------------

def test_post_creates_a_registered_hotline_case(world, client, key):
    with time_machine.travel(MOMENT, tick=False):
        response = post_request(client, key, first_name="三", last_name="张", phone="13900000000",
                                email="zhang@example.com", address_string="净月大街 1 号", lat="43.80", long="125.40",
                                media_url="https://example.com/p.jpg")
    assert response.status_code == 201, response.content
    [body] = response.json()
    assert set(body) == {"service_request_id", "token", "service_notice", "account_id"}
    assert body["account_id"] is None
    case = Case.objects.get(number=body["service_request_id"])
    assert body["service_request_id"].startswith("CC-2024-")
    assert case.registered_by is not None
    assert (case.state, case.source, case.category, case.registered_by.username) == (
        "registered", "hotline", world.category, "hotline12345")
    assert case.title == "开发区路口路灯整晚不亮，已持续一周。"
    assert (case.reporter_name, case.reporter_contact) == ("张 三", "13900000000 / zhang@example.com")
    location = case.service_request_location
    assert (location.address, str(location.latitude), str(location.longitude), location.media_url) == (
        "净月大街 1 号", "43.800000", "125.400000", "https://example.com/p.jpg")
    assert case.internal_note == ""
    [record] = client.get(f"{BASE}/requests/{case.number}.json", {"api_key": key}).json()
    assert (record["address"], record["lat"], record["long"], record["media_url"]) == (
        "净月大街 1 号", 43.8, 125.4, "https://example.com/p.jpg")
    assert OutboxMessage.objects.filter(topic="case.created", payload__case=case.number).count() == 1
    # The reporter's contact is never echoed back.
    for private in ("13900000000", "zhang@example.com", "张"):
        assert private not in response.content.decode()


def test_post_xml_and_online_report_source(world, client, key):
    data = {"api_key": key, "service_code": str(world.category.pk), "description": "网上举报：企业用电受限",
            "source": "online_report"}
    response = client.post(f"{BASE}/requests.xml", data)
    assert response.status_code == 201
    [record] = xml_requests(response)
    assert record["account_id"] is None
    assert Case.objects.get(number=record["service_request_id"]).source == "online_report"


def test_post_accepts_a_json_body(world, client, key):
    response = client.post(f"{BASE}/requests.json", json.dumps(
        {"api_key": key, "service_code": world.category.pk, "description": "JSON 提交"}),
        content_type="application/json")
    assert response.status_code == 201
    assert Case.objects.filter(description="JSON 提交").exists()


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"service_code": ""}, "service_code"),
    ({"description": "  "}, "description"),
    ({"service_code": "abc"}, "service_code"),
    ({"service_code": "999999"}, "service_code"),
    ({"source": "inspection"}, "source"),
    ({"lat": "43.8"}, "lat"),
    ({"lat": "91", "long": "125"}, "lat"),
    ({"lat": "nan", "long": "125"}, "lat"),
    ({"description": "x" * 4001}, "description"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"phone": "1" * 31}, "phone"),
])
def test_post_refuses_malformed_requests_with_400(world, client, key, fields, fragment):
    before = Case.objects.count()
    # Descriptions are translated (zh-Hans by default); the English ones name the parameter.
    response = post_request(client, key, headers={"Accept-Language": "en"}, **fields)
    assert response.status_code == 400, response.content
    [error] = response.json()
    assert error["code"] == 400
    assert fragment in error["description"]
    assert Case.objects.count() == before


@pytest.mark.parametrize("body", ["{not json", "\xff", "[" * 100_000 + "]" * 100_000, "[1, 2]"])
def test_a_json_body_that_is_not_an_object_is_400(world, client, key, body):
    before = Case.objects.count()
    response = client.post(f"{BASE}/requests.json?api_key={key}", body.encode("latin-1"),
                           content_type="application/json")
    assert response.status_code == 400
    assert errors_of(response)[0]["code"] == 400
    assert Case.objects.count() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bodies_django_will_not_read_are_refused_in_the_spec_shape(world, client, key, settings, fmt):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    before = Case.objects.count()
    oversize = client.post(f"{BASE}/requests.{fmt}", {"api_key": key, "service_code": str(world.category.pk),
                                                      "description": "x" * (2 * 2**20)})
    assert oversize.status_code == 413
    assert errors_of(oversize) == [{"code": 413, "description": "请求体超过了允许的 1 MB。"}]
    fields = "&".join(f"f{i}=1" for i in range(1001))
    crowded = client.post(f"{BASE}/requests.{fmt}?api_key={key}", fields,
                          content_type="application/x-www-form-urlencoded")
    assert crowded.status_code == 400
    assert errors_of(crowded)[0]["code"] == 400
    assert Case.objects.count() == before


@pytest.mark.parametrize(("method", "address", "allowed"), [
    ("put", "requests.json", "GET, POST"), ("delete", "services.xml", "GET"), ("post", "tokens/x.json", "GET")])
def test_a_method_not_allowed_is_405_in_the_spec_shape(world, client, method, address, allowed):
    response = getattr(client, method)(f"{BASE}/{address}")
    assert response.status_code == 405
    assert response["Allow"] == allowed
    [error] = errors_of(response)
    assert error["code"] == 405
    assert allowed in error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_invalid_api_key_is_403(world, client, fmt):
    for params in ({}, {"api_key": "tzk_not-a-real-key"}, {"api_key": "garbage"}):
        response = client.post(f"{BASE}/requests.{fmt}", {"service_code": world.category.pk,
                                                          "description": "x", **params})
        assert response.status_code == 403
        assert errors_of(response)[0]["code"] == 403
        response = client.get(f"{BASE}/requests.{fmt}", params)
        assert response.status_code == 403
    assert not Case.objects.exists()


def test_a_revoked_key_is_403(world, client):
    token, raw = create_token(user=world.supervisor, name="old")
    assert client.get(f"{BASE}/requests.json", {"api_key": raw}).status_code == 200
    revoke_token(token, actor=world.supervisor)
    assert client.get(f"{BASE}/requests.json", {"api_key": raw}).status_code == 403


def test_an_account_that_may_not_register_gets_403(world, client):
    raw = create_token(user=world.handler, name="handler")[1]
    response = post_request(client, raw)
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    assert not Case.objects.exists()


def test_the_key_also_works_as_a_bearer_header(world, client, key):
    response = client.get(f"{BASE}/requests.json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


# --- GET requests ----------------------------------------------------------------------------------

def _created(client, key, **fields) -> str:
    response = post_request(client, key, **fields)
    assert response.status_code == 201, response.content
    return str(response.json()[0]["service_request_id"])


def test_request_detail_json_and_xml(world, client, key):
    with time_machine.travel(MOMENT, tick=False):
        number = _created(client, key, phone="13900000000", first_name="三", last_name="张")
        detail = client.get(f"{BASE}/requests/{number}.json", {"api_key": key})
    assert detail.status_code == 200
    [record] = detail.json()
    assert record["service_request_id"] == number
    assert record["status"] == "open"
    assert record["service_code"] == str(world.category.pk)
    assert record["service_name"] == "供电"
    assert record["agency_responsible"] == "长春市纪委监委"
    assert record["requested_datetime"] == "2024-03-12T10:00:00+08:00"
    assert record["updated_datetime"] == "2024-03-12T10:00:00+08:00"
    assert record["expected_datetime"] is None
    assert record["status_notes"] == ""
    assert "13900000000" not in detail.content.decode()
    xml = client.get(f"{BASE}/requests/{number}.xml", {"api_key": key})
    [xml_record] = xml_requests(xml)
    assert xml_record["service_request_id"] == number
    assert xml_record["status"] == "open"
    assert xml_record["expected_datetime"] is None


def test_handed_over_case_shows_agency_and_expected_datetime(world, client):
    raw = create_token(user=world.supervisor, name="s")[1]
    with time_machine.travel(MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.RECTIFYING)
        services.report_progress(case, actor=world.handler, text="新建外部线路已开工")
        response = client.get(f"{BASE}/requests/{case.number}.json", {"api_key": raw})
    case.refresh_from_db()
    [record] = response.json()
    assert record["agency_responsible"] == "净月区党工委"
    assert case.completion_due_at is not None
    expected = case.completion_due_at.astimezone(matrix.SHANGHAI)
    assert record["expected_datetime"] == expected.isoformat(timespec="seconds")
    assert record["status_notes"] == "新建外部线路已开工"
    assert record["status"] == "open"


def test_closed_statuses_and_notes(world, client):
    raw = create_token(user=world.supervisor, name="s")[1]
    with time_machine.travel(MOMENT, tick=False):
        cast = matrix.Cast.own(world)
        dismissed = matrix.drive(cast, State.DISMISSED)
        merged = matrix.drive(cast, State.MERGED)
        closed = matrix.drive(cast, State.CLOSED)
        open_case = matrix.drive(cast, State.REGISTERED)
        listing = client.get(f"{BASE}/requests.json", {"api_key": raw})
        only_closed = client.get(f"{BASE}/requests.json", {"api_key": raw, "status": "closed"})
        only_open = client.get(f"{BASE}/requests.json", {"api_key": raw, "status": "open"})
    records = {r["service_request_id"]: r for r in listing.json()}
    assert records[dismissed.number]["status"] == "closed"
    assert records[dismissed.number]["status_notes"] == "不属于受理范围"
    assert records[merged.number]["status"] == "closed"
    assert merged.merged_into is not None
    assert merged.merged_into.number in records[merged.number]["status_notes"]
    assert records[closed.number]["status"] == "closed"
    assert records[open_case.number]["status"] == "open"
    closed_numbers = {r["service_request_id"] for r in only_closed.json()}
    open_numbers = {r["service_request_id"] for r in only_open.json()}
    assert {dismissed.number, merged.number, closed.number} <= closed_numbers
    assert open_case.number in open_numbers
    assert not closed_numbers & open_numbers


def test_list_filters(world, client, key):
    other = Category.objects.create(name="融资", parent=world.category.parent)
    with time_machine.travel(MOMENT, tick=False) as traveller:
        first = _created(client, key)
        traveller.shift(dt.timedelta(days=10))
        second = _created(client, key, service_code=str(other.pk))
        traveller.shift(dt.timedelta(days=100))
        third = _created(client, key)

        def numbers(**params):
            response = client.get(f"{BASE}/requests.json", {"api_key": key, **params})
            assert response.status_code == 200, response.content
            return [r["service_request_id"] for r in response.json()]

        assert numbers() == [third]  # the default window is the last 90 days
        assert numbers(service_request_id=f"{first},{second}, nonsense") == [second, first]
        assert numbers(start_date="2024-03-01T00:00:00+08:00", end_date="2024-05-01T00:00:00Z") == [second, first]
        assert numbers(start_date="2024-03-01T00:00:00+08:00", end_date="2024-05-01T00:00:00Z",
                       service_code=str(other.pk)) == [second]
        assert numbers(start_date="2024-03-15T00:00:00Z") == [second]  # start alone: 90 days from it
        assert numbers(service_code=str(other.pk)) == []


@pytest.mark.parametrize("params", [
    {"start_date": "yesterday"},
    {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"},  # > 90 days
    {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-02-01T00:00:00Z"},
    {"status": "pending"},
    {"service_code": "1,x"},
])
def test_list_refuses_bad_filters(world, client, key, params):
    response = client.get(f"{BASE}/requests.xml", {"api_key": key, **params})
    assert response.status_code == 400
    assert errors_of(response)[0]["code"] == 400


def test_outsider_key_cannot_read_our_requests(world, client, key, outsider_key):
    number = _created(client, key)
    token = open311_services.token_for(number)
    for path in (f"requests/{number}.json", f"requests/{number}.xml", f"tokens/{token}.json"):
        response = client.get(f"{BASE}/{path}", {"api_key": outsider_key})
        assert response.status_code == 404, path
        assert errors_of(response) == [{"code": 404, "description": errors_of(response)[0]["description"]}]
    listing = client.get(f"{BASE}/requests.json", {"api_key": outsider_key, "service_request_id": number})
    assert listing.json() == []
    assert client.get(f"{BASE}/requests/{number}.json", {"api_key": key}).status_code == 200


def test_enterprise_key_sees_only_its_own_requests(world, client, key):
    raw = create_token(user=world.enterprise_user, name="企业")[1]
    number = _created(client, key)
    assert client.get(f"{BASE}/requests/{number}.json", {"api_key": raw}).status_code == 404
    mine = services.register_case(actor=world.enterprise_user, source="enterprise", title="用电", description="停电")
    [record] = client.get(f"{BASE}/requests/{mine.number}.json", {"api_key": raw}).json()
    assert record["service_request_id"] == mine.number


# --- tokens ----------------------------------------------------------------------------------------

def test_token_maps_to_the_request(world, client, key):
    response = post_request(client, key)
    [body] = response.json()
    for fmt in ("json", "xml"):
        answer = client.get(f"{BASE}/tokens/{body['token']}.{fmt}", {"api_key": key})
        assert answer.status_code == 200
        records = answer.json() if fmt == "json" else xml_requests(answer)
        assert records == [{"service_request_id": body["service_request_id"], "token": body["token"]}]
    forged = body["token"][:-2] + ("aa" if not body["token"].endswith("aa") else "bb")
    assert client.get(f"{BASE}/tokens/{forged}.json", {"api_key": key}).status_code == 404


def test_wrong_methods(world, client, key):
    assert client.post(f"{BASE}/services.json").status_code == 405
    assert client.delete(f"{BASE}/requests.json").status_code == 405


# --- a third-party client against a live server ----------------------------------------------------

# The live server speaks plain HTTP while the production settings redirect to HTTPS (its middleware is
# built once per session, before a test can change settings): requests say that a TLS proxy is in
# front, as it is in production (SECURE_PROXY_SSL_HEADER).
BEHIND_TLS_PROXY = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def georeport_reads_with_key(monkeypatch):
    """georeport 0.3.1 sends `api_key` only in its (missing) POST, never on reads. Our service
    requests are cases, not public data, so reads need the key: add it to the client's GETs."""
    import georeport.georeport as module  # type: ignore[import-untyped]

    def get_with_key(url, params=None, **kwargs):
        params = dict(params or {})
        if "/requests" in url or "/tokens/" in url:
            params.setdefault("api_key", get_with_key.api_key)  # type: ignore[attr-defined]
        return requests.get(url, params=params, headers=BEHIND_TLS_PROXY, **kwargs)

    get_with_key.api_key = ""  # type: ignore[attr-defined]
    # Only the client's own view of `requests` changes, not the library for everyone else.
    monkeypatch.setattr(module, "requests", SimpleNamespace(get=get_with_key))
    return get_with_key


@pytest.mark.django_db(transaction=True)
def test_georeport_client_against_a_live_server(live_server, georeport_reads_with_key):
    from georeport import GeoReport

    from taizhang.testing.personas import build_world

    world = build_world()
    raw = create_token(user=hotline_account(world), name="12345 live")[1]
    georeport_reads_with_key.api_key = raw
    client = GeoReport(f"{live_server.url}{BASE}/", api_key=raw)

    services_ = client.get_service_list()
    codes = {s["service_name"]: s["service_code"] for s in services_}
    assert codes["供电"] == str(world.category.pk)
    assert client.get_service_definition(codes["供电"])["attributes"] == []

    # georeport 0.3.1 has no method to post a request: post with `requests` (its own HTTP library),
    # to the client's root address and with the client's key, as its users do.
    posted = requests.post(f"{client.root_address}/requests.json", timeout=10, headers=BEHIND_TLS_PROXY, data={
        "api_key": client.api_key, "service_code": codes["供电"], "description": "园区企业反映频繁停电",
        "phone": "13900000000"})
    assert posted.status_code == 201, posted.text
    number = posted.json()[0]["service_request_id"]

    record = client.get_service_request(number)
    assert record["service_request_id"] == number
    assert record["status"] == "open"
    assert record["description"] == "园区企业反映频繁停电"
    assert record["service_code"] == codes["供电"]
    listed = client.get_service_requests(service_request_id=number, status="open")
    assert [r["service_request_id"] for r in listed] == [number]

    xml_client = GeoReport(f"{live_server.url}{BASE}", api_key=raw, output_format="xml")
    assert {s["service_name"] for s in xml_client.get_service_list()} >= {"供电", "要素保障", "营商环境"}
    assert xml_client.get_service_request(number)["service_request_id"] == number

    unauthorised = GeoReport(f"{live_server.url}{BASE}")
    georeport_reads_with_key.api_key = "tzk_wrong"
    with pytest.raises(requests.HTTPError) as failure:
        unauthorised.get_service_request(number)
    assert failure.value.response is not None
    assert failure.value.response.status_code == 403
    assert Case.objects.get(number=number).source == "hotline"
