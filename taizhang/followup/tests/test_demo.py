"""The demo story's 回头看: a campaign three months after closure in which the story case is checked — held."""

import datetime as dt

from django.urls import reverse
from django.utils.timezone import localdate

from taizhang.cases import demo
from taizhang.followup.demo import CAMPAIGN_NAME
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.testing.personas import build_world


def test_the_story_case_is_held_in_a_look_back_campaign_shown_on_its_case_page(db, client, settings):
    settings.SECURE_SSL_REDIRECT = False
    world = build_world()
    demo.configure_checklists(world)
    story = demo.replay_story(world)
    campaign = RecheckCampaign.objects.get(name=CAMPAIGN_NAME)
    item = CampaignItem.objects.get(campaign=campaign)
    assert item.case == story
    assert item.status == CampaignItem.Status.HELD
    assert (campaign.status, localdate(campaign.launched_at), localdate(item.checked_at)) == (
        RecheckCampaign.Status.COMPLETED, dt.date(2023, 5, 8), dt.date(2023, 5, 15))
    assert item.checked_at is not None
    assert story.closed_at is not None
    assert (item.checked_at - story.closed_at).days >= 89
    assert story.state == "closed"
    assert story.rechecks.get() == item.recheck
    client.force_login(world.supervisor)
    page = client.get(reverse("web:case", args=[story.number]))
    assert CAMPAIGN_NAME in page.text
    assert reverse("followup:campaign", args=[campaign.pk]) in page.text
