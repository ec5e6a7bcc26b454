"""The demo story's 回头看: three months after closure, 市委巡察办 plans a look-back campaign over the
cases of the 净月高新区 round closed in February 2023, launches it and finds the fix held."""

import datetime as dt
from zoneinfo import ZoneInfo

from taizhang.cases.models import Case
from taizhang.core import clock
from taizhang.followup import services
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.testing.personas import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMPAIGN_NAME = "净月高新区机动巡察问题整改“回头看”（2023年5月）"
CAMPAIGN_SEED = 20230508


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def replay_look_back(w: World, story: Case) -> RecheckCampaign:
    """Plan and launch the campaign on 8 May 2023 and record the story case's check (held) on 15 May."""
    with clock.replaying(_at(dt.date(2023, 5, 8), 9)):
        campaign = services.create_campaign(
            actor=w.supervisor, name=CAMPAIGN_NAME, closed_from=dt.date(2023, 2, 1), closed_to=dt.date(2023, 2, 28),
            inspection_round=w.round, seed=CAMPAIGN_SEED, checkers=[w.supervisor], deadline=dt.date(2023, 5, 31))
        campaign = services.launch_campaign(campaign.pk, actor=w.supervisor)
    item = CampaignItem.objects.get(campaign=campaign, case=story)
    with clock.replaying(_at(dt.date(2023, 5, 15), 10)):
        services.record_check(campaign.pk, item.pk, actor=w.supervisor, held=True,
                              note="回头看：整改以来未再发生供电闪断，整改成果巩固。")
    campaign.refresh_from_db()
    return campaign
