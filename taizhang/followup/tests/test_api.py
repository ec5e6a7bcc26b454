"""`/api/v1/recheck-campaigns/`: plan, launch, read the items and record checks, with the same services."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from taizhang.api.tokens import create_token
from taizhang.cases.models import Case, Recheck
from taizhang.cases.workflow import State
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.followup.tests.helpers import at, closed_pool
from taizhang.testing import matrix

BASE = "/api/v1/recheck-campaigns/"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def june():
    with time_machine.travel(at(dt.date(2024, 6, 3)), tick=False):
        yield


def api(user) -> APIClient:
    _token, raw = create_token(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def plan_body(world, **extra):
    return {"name": "一月销号问题回头看", "deadline": "2024-06-28", "closed_to": "2024-01-31",
            "inspection_round": world.round.pk, "sample_size": 4, "seed": 11,
            "checkers": [world.supervisor.pk, world.inspector.pk], **extra}


def test_plan_launch_read_and_record_through_the_api(world):
    closed_pool(world, 40)
    client = api(world.supervisor)
    created = client.post(BASE, plan_body(world), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["seed"], body["selection"]) == ("draft", 11, {"candidates": 9, "selected": 4})
    assert body["checkers"] == sorted([world.supervisor.pk, world.inspector.pk])
    pk = body["id"]
    assert [c["id"] for c in client.get(BASE).json()] == [pk]
    launched = client.post(f"{BASE}{pk}/launch", HTTP_IF_MATCH='"1"')
    assert launched.status_code == 200
    assert launched.json()["status"] == "launched"
    assert launched["ETag"] == '"2"'
    assert client.post(f"{BASE}{pk}/launch").status_code == 409
    items = client.get(f"{BASE}{pk}/items/").json()
    assert len(items) == 4
    assert {i["status"] for i in items} == {"pending"}
    mine = next(i for i in items if i["checker"] == world.supervisor.pk)
    recorded = client.post(f"{BASE}{pk}/items/{mine['id']}/record", {"held": False, "note": "问题反弹"},
                           format="json")
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["status"] == "relapsed"
    assert recorded.json()["recheck"] == Recheck.objects.get(case__number=mine["case"]).pk
    assert Case.objects.get(number=mine["case"]).state == State.RECTIFYING
    detail = client.get(f"{BASE}{pk}/").json()
    assert detail["progress"] == {"total": 4, "pending": 3, "held": 0, "relapsed": 1}


def test_evidence_goes_up_as_multipart_and_a_disguised_file_is_refused(world):
    closed_pool(world, 8)
    client = api(world.supervisor)
    pk = client.post(BASE, plan_body(world, checkers=[world.supervisor.pk]), format="json").json()["id"]
    client.post(f"{BASE}{pk}/launch")
    first, second = client.get(f"{BASE}{pk}/items/").json()[:2]
    disguised = matrix.pdf_upload("照片.pdf", matrix.PNG_BYTES)
    refused = client.post(f"{BASE}{pk}/items/{first['id']}/record", {"held": "true", "evidence": [disguised]},
                          format="multipart")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "upload.type_mismatch"
    assert CampaignItem.objects.get(pk=first["id"]).status == "pending"
    accepted = client.post(f"{BASE}{pk}/items/{second['id']}/record",
                           {"held": "true", "evidence": [matrix.pdf_upload()]}, format="multipart")
    assert accepted.status_code == 201
    assert accepted.json()["status"] == "held"


def test_scope_and_bad_input(world):
    closed_pool(world, 8)
    client = api(world.supervisor)
    pk = client.post(BASE, plan_body(world, checkers=[world.supervisor.pk]), format="json").json()["id"]
    client.post(f"{BASE}{pk}/launch")
    item = client.get(f"{BASE}{pk}/items/").json()[0]
    for stranger in (world.outsider, world.handler):
        other = api(stranger)
        assert other.get(f"{BASE}{pk}/").status_code == 404
        assert other.get(f"{BASE}{pk}/items/").status_code == 404
        assert other.post(f"{BASE}{pk}/items/{item['id']}/record", {"held": True}, format="json").status_code == 404
        assert other.get(BASE).json() == []
    assert api(world.inspector).post(f"{BASE}{pk}/items/{item['id']}/record", {"held": True},
                                     format="json").status_code == 403
    assert client.get(f"{BASE}abc/").status_code == 404
    count = RecheckCampaign.objects.count()
    for bad in ({"sample_percent": 150}, {"unknown": 1}, {"checkers": [world.handler.pk]},
                {"category": 999999}, {"deadline": "2020-01-01"}):
        response = client.post(BASE, plan_body(world, **bad), format="json")
        assert response.status_code == 422, bad
    assert api(world.unit_leader).post(BASE, plan_body(world), format="json").status_code == 403
    assert RecheckCampaign.objects.count() == count
    assert client.post(f"{BASE}{pk}/items/{item['id']}/record", {"held": "perhaps"},
                       format="json").status_code == 422
