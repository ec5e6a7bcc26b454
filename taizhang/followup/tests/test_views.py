"""回头看 pages: the list, planning with a preview count, the campaign page, launching and the check form."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.followup import services
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.followup.tests.helpers import at, closed_pool
from taizhang.testing import matrix

JUNE = at(dt.date(2024, 6, 3))


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def june():
    with time_machine.travel(JUNE, tick=False):
        yield


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def form_data(world, **extra):
    data = {"name": "二季度回头看", "closed_from": "2024-01-01", "closed_to": "2024-01-31",
            "category": str(world.category.pk), "deadline": "2024-06-28", "sample_size": "5", "seed": "42",
            "checkers": [str(world.supervisor.pk)]}
    return {**data, **extra}


def test_planning_previews_the_count_then_saves_a_draft_and_launches_it(world, login, june):
    closed_pool(world, 40)
    client = login(world.supervisor)
    page = client.get(reverse("followup:campaign_create"))
    assert page.status_code == 200
    assert 'id="id_closed_from"' in page.text
    assert 'for="id_closed_from"' in page.text
    preview = client.post(reverse("followup:campaign_create"), {**form_data(world), "preview": "1"})
    assert preview.status_code == 200
    counted = re.search(r'id="preview">(.*?)</p>', preview.text, re.S)
    assert counted is not None
    assert re.findall(r"\d+", counted.group(1)) == ["5", "9"]
    assert not RecheckCampaign.objects.exists()
    saved = client.post(reverse("followup:campaign_create"), {**form_data(world), "save": "1"})
    campaign = RecheckCampaign.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("followup:campaign", args=[campaign.pk])
    detail = client.get(saved["Location"])
    assert detail.status_code == 200
    assert 'id="seed">42<' in detail.text
    assert reverse("followup:campaign_launch", args=[campaign.pk]) in detail.text
    launched = client.post(reverse("followup:campaign_launch", args=[campaign.pk]), {"version": campaign.version})
    assert launched.status_code == 302
    assert campaign.items.count() == 5
    detail = client.get(reverse("followup:campaign", args=[campaign.pk]))
    item = campaign.items.order_by("case__number").first()
    assert item is not None
    assert reverse("web:case", args=[item.case.number]) in detail.text
    assert reverse("followup:item_check", args=[campaign.pk, item.pk]) in detail.text
    listing = client.get(reverse("followup:campaigns"))
    assert listing.status_code == 200
    assert "二季度回头看" in listing.text
    assert reverse("followup:item_check", args=[campaign.pk, item.pk]) in listing.text  # waiting for me


def test_bad_planning_input_is_shown_on_the_form_and_saves_nothing(world, login, june):
    client = login(world.supervisor)
    response = client.post(reverse("followup:campaign_create"),
                           {**form_data(world, deadline="2024-05-01", sample_percent="10"), "save": "1"})
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert not RecheckCampaign.objects.exists()
    assert login(world.unit_leader).get(reverse("followup:campaign_create")).status_code == 403


@pytest.fixture
def campaign(world, june):
    closed_pool(world, 8)
    planned = services.create_campaign(actor=world.supervisor, name="一月销号问题回头看", deadline=dt.date(2024, 6, 28),
                                       closed_to=dt.date(2024, 1, 7), checkers=[world.supervisor])
    return services.launch_campaign(planned.pk, actor=world.supervisor)


def test_the_checker_records_held_and_the_case_page_links_the_campaign(world, login, campaign):
    item = campaign.items.order_by("case__number").first()
    client = login(world.supervisor)
    url = reverse("followup:item_check", args=[campaign.pk, item.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    response = client.post(url, {"held": "true", "note": "整改成果巩固", "evidence": matrix.pdf_upload()})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == CampaignItem.Status.HELD
    case_page = client.get(reverse("web:case", args=[item.case.number]))
    assert reverse("followup:campaign", args=[campaign.pk]) in case_page.text
    assert "一月销号问题回头看" in case_page.text
    # Checked already: the form sends the checker back to the campaign.
    assert client.get(url).status_code == 302


def test_a_relapse_from_the_form_reopens_the_case(world, login, campaign):
    item = campaign.items.order_by("case__number").first()
    response = login(world.supervisor).post(reverse("followup:item_check", args=[campaign.pk, item.pk]),
                                            {"held": "false", "note": "问题反弹"})
    assert response.status_code == 302
    case = Case.objects.get(pk=item.case_id)
    assert (case.state, case.reopen_count) == (State.RECTIFYING, 1)


def test_a_disguised_file_is_refused_on_the_form_and_nothing_changes(world, login, campaign):
    item = campaign.items.order_by("case__number").first()
    before = matrix.footprint(item.case.number)
    response = login(world.supervisor).post(
        reverse("followup:item_check", args=[campaign.pk, item.pk]),
        {"held": "true", "evidence": SimpleUploadedFile("记录.pdf", matrix.PNG_BYTES)})
    assert response.status_code == 422
    assert 'class="field-error"' in response.text
    assert matrix.footprint(item.case.number) == before


def test_strangers_get_404_and_other_checkers_403(world, login, campaign):
    item = campaign.items.order_by("case__number").first()
    urls = [reverse("followup:campaign", args=[campaign.pk]),
            reverse("followup:item_check", args=[campaign.pk, item.pk])]
    for stranger in (world.outsider, world.handler, world.enterprise_user):
        client = login(stranger)
        for url in urls:
            assert client.get(url).status_code == 404
        assert client.post(reverse("followup:campaign_launch", args=[campaign.pk])).status_code == 404
    other = login(matrix.build_extras(world).dual_supervisor)
    assert other.get(urls[0]).status_code == 200
    assert other.post(urls[1], {"held": "true"}).status_code == 403
    assert CampaignItem.objects.get(pk=item.pk).status == CampaignItem.Status.PENDING


def test_navigation_and_the_home_tile_show_where_checks_wait(world, login, campaign):
    home = login(world.supervisor).get(reverse("web:home"))
    assert reverse("followup:campaigns") in home.text
    assert 'data-tile="recheck"' in home.text
    enterprise_home = login(world.enterprise_user).get(reverse("web:home"))
    assert reverse("followup:campaigns") not in enterprise_home.text


def test_an_automatic_campaign_page_lists_its_due_checks_for_any_qualified_checker(world, login):
    closed_pool(world, 12)
    with time_machine.travel(at(dt.date(2024, 4, 28)), tick=False):
        services.queue_due_rechecks()
        campaign = RecheckCampaign.objects.get(kind=RecheckCampaign.Kind.AUTOMATIC)
        item = campaign.items.order_by("case__number").first()
        assert item is not None
        page = login(world.supervisor).get(reverse("followup:campaign", args=[campaign.pk]))
        assert page.status_code == 200
        check_url = reverse("followup:item_check", args=[campaign.pk, item.pk])
        assert check_url in page.text
        assert login(world.inspector).get(check_url).status_code == 200  # a case of the group's round
