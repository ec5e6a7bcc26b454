"""The dashboard page, its CSV tables and /api/v1/kpis/ on the hand-made district of conftest.py."""

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from taizhang.kpis.definitions import FIGURES

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
LINK = re.compile(r'<a href="(/cases/\?kpi=[^"]+)" data-count="(\d+)"')


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client
    return as_user


@pytest.fixture
def api():
    def as_user(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return as_user


def ledger_rows(client, url: str) -> int:
    page = client.get(url.replace("&amp;", "&"))
    assert page.status_code == 200
    html: str = page.content.decode()
    assert "next-page" not in html
    return html.count("<tr data-case-id=")


def test_every_number_on_the_dashboard_opens_exactly_its_cases(login, world, district, measuring):
    client = login(world.supervisor)
    page = client.get(reverse("kpis:dashboard"), {"org": world.district.pk, **MARCH})
    assert page.status_code == 200
    html = page.content.decode()
    assert world.lead_unit.name in html
    assert world.sibling_unit.name in html
    assert 'id="kpi-charts-data"' in html
    assert "vendor/echarts.min.js" in html
    per_row = len(FIGURES) + sum(f.numerator is not None for f in FIGURES.values())
    assert len(LINK.findall(html)) == 3 * per_row  # two units and the total
    # The units' links are the same selector's (test_figures checks all of them); here the page's own.
    links = LINK.findall(html.split("<tfoot>")[1])
    assert len(links) == per_row
    for url, count in links:
        assert ledger_rows(client, url) == int(count), url


def test_the_navigation_offers_the_dashboard_to_those_who_may_see_it(login, world):
    assert reverse("kpis:dashboard") in login(world.unit_leader).get(reverse("web:home")).content.decode()
    assert reverse("kpis:dashboard") not in login(world.enterprise_user).get(reverse("web:home")).content.decode()


@pytest.mark.parametrize(("who", "org"), [("sibling_handler", "lead_unit"), ("unit_leader", "district"),
                                          ("enterprise_user", None)])
def test_out_of_scope_is_not_found_on_the_page_its_csv_and_the_api(login, api, world, who, org):
    user = getattr(world, who)
    params = {"org": getattr(world, org).pk} if org else {}
    assert login(user).get(reverse("kpis:dashboard"), params).status_code == 404
    assert login(user).get(reverse("kpis:export", args=["units"]), params).status_code == 404
    response = api(user).get(reverse("api:kpis"), params)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_bad_parameters_are_explained(login, api, world):
    page = login(world.supervisor).get(reverse("kpis:dashboard"), {"from": "2026-03-31", "to": "2026-03-01"})
    assert page.status_code == 422
    assert 'role="alert"' in page.content.decode()
    for params in ({"from": "31.03.2026"}, {"from": "9999-12-30", "to": "9999-12-31"}, {"org": "-1"},
                   {"from": "2020-01-01", "to": "2026-01-01"}):
        response = api(world.supervisor).get(reverse("api:kpis"), params)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] in ("from", "org"), params
    assert login(world.supervisor).get(reverse("kpis:export", args=["nothing"])).status_code == 404


def test_the_units_table_downloads_as_csv_with_a_bom(login, world, district, measuring):
    response = login(world.supervisor).get(reverse("kpis:export", args=["units"]),
                                           {"org": world.district.pk, **MARCH})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert [r[0] for r in rows[1:]] == [world.lead_unit.name, world.sibling_unit.name, world.district.name]
    assert rows[1][1:3] == ["67.5", "1"]
    for table in ("trend", "category", "source", "heat"):
        response = login(world.supervisor).get(reverse("kpis:export", args=[table]), MARCH)
        assert response.status_code == 200
        assert response.content.decode("utf-8").startswith("\ufeff")


def test_the_api_serves_the_same_figures_with_the_case_list_behind_each(api, world, district, measuring):
    client = api(world.supervisor)
    response = client.get(reverse("api:kpis"), {"org": world.district.pk, **MARCH})
    assert response.status_code == 200
    data = response.json()
    assert (data["org_id"], data["start"], data["end"]) == (world.district.pk, "2026-03-01", "2026-03-31")
    assert [u["org_name"] for u in data["units"]] == [world.lead_unit.name, world.sibling_unit.name]
    assert data["units"][0]["score"] == pytest.approx(67.5)
    assert data["units"][0]["rank"] == 1
    sign_for = next(f for f in data["total"]["figures"] if f["key"] == "timely_sign_for")
    assert (sign_for["numerator"], sign_for["denominator"], sign_for["rate"]) == (3, 5, pytest.approx(0.6))
    for unit in data["units"]:
        assert [f["key"] for f in unit["figures"]] == list(FIGURES)
    for figure in data["total"]["figures"]:
        assert set(figure["cases"]) <= {"numerator", "denominator"}
        assert "denominator" in figure["cases"]
        for part, url in figure["cases"].items():
            assert parse_qs(urlsplit(url).query)["kpi"]
            listed = client.get(f"{url}&limit=200").json()
            assert not listed["has_more"]
            assert len(listed["results"]) == figure[part], url


def test_the_dashboard_opens_on_a_units_own_organisation(login, world, district, measuring):
    page = login(world.unit_leader).get(reverse("kpis:dashboard"), MARCH)
    assert page.status_code == 200
    assert page.context["table"].org.id == world.lead_unit.pk
    assert [row["org_id"] for row in page.context["rows"]] == [world.lead_child.pk, world.lead_unit.pk]
