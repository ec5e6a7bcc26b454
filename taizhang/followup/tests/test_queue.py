"""The automatic queue: closed cases whose re-check falls due wait in their supervising body's campaign of
the month, once; it runs after every outbox delivery pass."""

import datetime as dt

import time_machine

from taizhang.audit.models import AuditEvent
from taizhang.cases import services as case_services
from taizhang.cases.models import Case
from taizhang.core import outbox
from taizhang.followup import selectors, services
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.followup.tests.helpers import at, closed_pool

APRIL = at(dt.date(2024, 4, 28))  # 90 days after 29 Jan: the first 10 cases of the pool (closed 1–28 Jan) are due


def queue_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return services.queue_due_rechecks()


def snapshot() -> tuple[int, int, int]:
    return CampaignItem.objects.count(), RecheckCampaign.objects.count(), AuditEvent.objects.count()


def test_due_rechecks_are_queued_once_into_the_campaign_of_the_month(world):
    pool = closed_pool(world, 40)
    foreign = closed_pool(world, 2, prefix="WS")
    Case.objects.filter(pk__in=[c.pk for c in foreign]).update(supervising_org=world.other_city)
    assert queue_at(APRIL) == 10 + 2
    campaigns = {c.org_id: c for c in RecheckCampaign.objects.all()}
    assert set(campaigns) == {world.city.pk, world.other_city.pk}
    city = campaigns[world.city.pk]
    assert (city.kind, city.status, city.month, city.deadline) == (
        RecheckCampaign.Kind.AUTOMATIC, RecheckCampaign.Status.LAUNCHED, dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    assert sorted(city.items.values_list("case__number", flat=True)) == [c.number for c in pool[:10]]
    assert set(city.items.values_list("checker", flat=True)) == {None}
    # Running again, at once or later the same day, queues nothing twice.
    before = snapshot()
    assert queue_at(APRIL) == 0
    assert queue_at(APRIL + dt.timedelta(hours=5)) == 0
    assert snapshot() == before
    # Two days later the case that fell due since (closed 31 Jan) joins the same campaign.
    assert queue_at(APRIL + dt.timedelta(days=2)) == 1
    assert RecheckCampaign.objects.count() == 2
    assert city.items.count() == 11


def test_queued_checks_show_in_the_checkers_tasks_and_are_recorded_like_any_other(world):
    pool = closed_pool(world, 12)
    queue_at(APRIL)
    campaign = RecheckCampaign.objects.get()
    with time_machine.travel(APRIL, tick=False):
        waiting = list(selectors.pending_checks_for(world.supervisor))
        assert len(waiting) == 10
        assert selectors.pending_checks_count(world.supervisor) == 10
        # The inspector sees the unassigned checks of the group's round only; the units none at all.
        assert {i.case.inspection_round_id for i in selectors.pending_checks_for(world.inspector)} == {world.round.pk}
        assert selectors.pending_checks_count(world.unit_leader) is None
        assert not selectors.pending_checks_for(world.outsider).exists()
        item = waiting[0]
        services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=True)
        assert selectors.pending_checks_count(world.supervisor) == 9
    assert CampaignItem.objects.get(pk=item.pk).checker == world.supervisor
    assert pool[0].number == item.case.number


def test_a_recheck_recorded_on_the_case_page_settles_its_waiting_item(world):
    closed_pool(world, 12)
    queue_at(APRIL)
    item = CampaignItem.objects.order_by("case__number").first()
    assert item is not None
    with time_machine.travel(APRIL + dt.timedelta(days=1), tick=False):
        case_services.record_recheck(item.case.number, actor=world.supervisor, held=False, note="再次出现问题")
    assert queue_at(APRIL + dt.timedelta(days=1)) == 0
    item.refresh_from_db()
    assert item.recheck is not None
    assert (item.status, item.recheck.held, item.checker) == (CampaignItem.Status.RELAPSED, False, world.supervisor)


def test_a_past_months_campaign_completes_once_nothing_waits(world):
    closed_pool(world, 12)
    queue_at(APRIL)
    campaign = RecheckCampaign.objects.get()
    with time_machine.travel(APRIL, tick=False):
        for item in campaign.items.all():
            services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=True)
    campaign.refresh_from_db()
    assert campaign.status == RecheckCampaign.Status.LAUNCHED  # April is still running
    queue_at(at(dt.date(2024, 5, 2)))
    campaign.refresh_from_db()
    assert campaign.status == RecheckCampaign.Status.COMPLETED
    may = RecheckCampaign.objects.get(month=dt.date(2024, 5, 1))
    assert may.items.count() == 1  # the case closed on 31 January


def test_the_queue_runs_after_every_outbox_delivery_pass(world):
    closed_pool(world, 12)
    with time_machine.travel(APRIL, tick=False):
        outbox.deliver_pending()
    assert CampaignItem.objects.count() == 10
