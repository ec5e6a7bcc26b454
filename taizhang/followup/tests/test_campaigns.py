"""回头看 campaigns: reproducible sampling, filters, scope, launching, and each check through the workflow."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.timezone import localdate

from taizhang.audit.models import AuditEvent
from taizhang.cases import services as case_services
from taizhang.cases.models import Acceptance, Case, Category, Evidence, Recheck
from taizhang.cases.workflow import State
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.followup import selectors, services
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.followup.tests.helpers import at, closed_pool
from taizhang.sla.models import TimeLimit
from taizhang.testing import matrix

JUNE = at(dt.date(2024, 6, 3))
DEADLINE = dt.date(2024, 6, 28)


@pytest.fixture
def june():
    with time_machine.travel(JUNE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pool(world):
    return closed_pool(world, 40)


def plan(world, actor=None, **filters):
    return services.create_campaign(actor=actor or world.supervisor, name=filters.pop("name", "二季度回头看"),
                                    deadline=filters.pop("deadline", DEADLINE), **filters)


def numbers(cases):
    return [c.number for c in cases]


def launched(world, **filters):
    campaign = plan(world, **filters)
    return services.launch_campaign(campaign.pk, actor=world.supervisor)


# --- selection -----------------------------------------------------------------------------------

def test_the_same_seed_selects_the_same_cases_and_another_seed_another_set(world, pool, june):
    first = plan(world, sample_size=8, seed=20240603)
    again = plan(world, sample_size=8, seed=20240603)
    other = plan(world, sample_size=8, seed=7)
    chosen = numbers(selectors.select_cases(world.supervisor, first))
    assert len(chosen) == 8
    assert chosen == sorted(chosen)
    assert numbers(selectors.select_cases(world.supervisor, again)) == chosen
    assert numbers(selectors.select_cases(world.supervisor, other)) != chosen
    # Candidates are ordered by case number before sampling, so the draw does not depend on the database.
    assert chosen == ["CC-2024-0004", "CC-2024-0006", "CC-2024-0007", "CC-2024-0010", "CC-2024-0021",
                      "CC-2024-0024", "CC-2024-0027", "CC-2024-0035"]
    launched_items = services.launch_campaign(first.pk, actor=world.supervisor).items.order_by("case__number")
    assert [i.case.number for i in launched_items] == chosen


def test_a_percentage_sample_rounds_up_and_no_sample_takes_every_candidate(world, pool, june):
    assert selectors.preview_count(world.supervisor, plan(world, sample_percent=10, seed=1)) == (40, 4)
    assert selectors.preview_count(world.supervisor, plan(world, sample_percent=1, seed=1)) == (40, 1)
    assert selectors.preview_count(world.supervisor, plan(world, sample_size=100, seed=1)) == (40, 40)
    assert selectors.preview_count(world.supervisor, plan(world)) == (40, 40)


def test_filters_period_category_subtree_unit_subtree_round_and_source(world, pool, june):
    business = Category.objects.get(name="营商环境")
    in_story = [c for c in pool if c.inspection_round_id]

    def chosen(**filters):
        return numbers(selectors.select_cases(world.supervisor, plan(world, **filters)))

    assert chosen(closed_from=dt.date(2024, 1, 4), closed_to=dt.date(2024, 1, 10)) == [
        "CC-2024-0002", "CC-2024-0003", "CC-2024-0004"]
    assert chosen(category=business) == numbers(in_story)  # 供电 lies below 营商环境
    assert chosen(unit=world.district) == numbers(in_story)
    assert chosen(unit=world.power_company) == numbers(c for c in pool if not c.inspection_round_id)
    assert chosen(inspection_round=world.round) == numbers(in_story)
    assert chosen(source=Case.Source.HOTLINE) == numbers(pool[2::4])
    assert chosen(source=Case.Source.HOTLINE, category=business) == numbers(pool[2::4])
    assert chosen(source=Case.Source.LIAISON, category=business) == []


def test_only_closed_cases_in_the_creators_scope_are_candidates(world, pool, june):
    Case.objects.filter(number="CC-2024-0001").update(state=State.RECTIFYING)
    foreign = closed_pool(world, 3, prefix="WS")
    Case.objects.filter(pk__in=[c.pk for c in foreign]).update(supervising_org=world.other_city,
                                                                inspection_round=None)
    supervisor_pool = numbers(selectors.select_cases(world.supervisor, plan(world)))
    assert len(supervisor_pool) == 39
    assert not {"CC-2024-0001", "WS-2024-0001"} & set(supervisor_pool)
    # The inspector sees the cases of the group's round only.
    inspector_campaign = plan(world, actor=world.inspector)
    assert numbers(selectors.select_cases(world.inspector, inspector_campaign)) == numbers(
        c for c in pool[1:] if c.inspection_round_id)
    outsider_campaign = plan(world, actor=world.outsider)
    assert numbers(selectors.select_cases(world.outsider, outsider_campaign)) == numbers(foreign)


def test_a_foreign_campaign_is_not_found_and_a_viewer_may_look_but_not_launch(world, pool, june):
    campaign = plan(world)
    for stranger in (world.outsider, world.unit_leader, world.handler, world.enterprise_user, world.admin):
        with pytest.raises(NotFound):
            selectors.campaign_for(stranger, campaign.pk)
        with pytest.raises(NotFound):
            services.launch_campaign(campaign.pk, actor=stranger)
    assert selectors.campaign_for(world.viewer, campaign.pk) == campaign
    with pytest.raises(PermissionDenied):
        services.launch_campaign(campaign.pk, actor=world.viewer)
    assert RecheckCampaign.objects.get(pk=campaign.pk).status == RecheckCampaign.Status.DRAFT
    assert not CampaignItem.objects.exists()


# --- planning input --------------------------------------------------------------------------------

@pytest.mark.parametrize(("filters", "code"), [
    ({"deadline": dt.date(2024, 6, 1)}, "validation.date_in_past"),
    ({"deadline": None}, "validation.required"),
    ({"name": "  "}, "validation.required"),
    ({"sample_size": 5, "sample_percent": 10}, "validation.sample_ambiguous"),
    ({"sample_size": 0}, "validation.invalid_sample"),
    ({"sample_percent": 101}, "validation.invalid_sample"),
    ({"closed_from": dt.date(2024, 3, 1), "closed_to": dt.date(2024, 2, 1)}, "validation.invalid_period"),
    ({"source": "gossip"}, "validation.invalid_choice"),
    ({"seed": -1}, "validation.invalid_seed"),
])
def test_bad_planning_input_is_refused_and_creates_nothing(world, june, filters, code):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        plan(world, **filters)
    assert caught.value.code == code
    assert (RecheckCampaign.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_checkers_are_supervisors_or_inspectors_of_the_supervising_side(world, june):
    with pytest.raises(ValidationFailed) as caught:
        plan(world, checkers=[world.supervisor, world.handler])
    assert (caught.value.code, caught.value.field) == ("validation.invalid_checker", "checkers")
    with pytest.raises(ValidationFailed):
        plan(world, checkers=[world.outsider])
    with pytest.raises(PermissionDenied):
        plan(world, actor=world.unit_leader)
    assert not RecheckCampaign.objects.exists()
    campaign = plan(world, checkers=[world.inspector, world.supervisor])
    assert set(campaign.checkers.all()) == {world.inspector, world.supervisor}
    assert campaign.org == world.city


# --- launching -------------------------------------------------------------------------------------

def test_launch_freezes_the_selection_and_shares_cases_among_checkers_who_may_check_them(world, pool, june):
    campaign = plan(world, checkers=[world.supervisor, world.inspector], closed_to=dt.date(2024, 1, 31))
    campaign = services.launch_campaign(campaign.pk, actor=world.supervisor, version=campaign.version)
    assert (campaign.status, campaign.version, campaign.launched_at) == (RecheckCampaign.Status.LAUNCHED, 2, JUNE)
    items = list(campaign.items.order_by("case__number").select_related("case"))
    assert [i.case.number for i in items] == [f"CC-2024-{n:04d}" for n in range(1, 12)]
    assert {i.status for i in items} == {CampaignItem.Status.PENDING}
    for item in items:
        if item.case.inspection_round_id is None:  # the inspector checks the cases of the round only
            assert item.checker == world.supervisor
    assert {i.checker for i in items} == {world.supervisor, world.inspector}
    # Cases added later do not join a launched campaign; launching again is refused.
    with pytest.raises(IllegalTransition):
        services.launch_campaign(campaign.pk, actor=world.supervisor)
    event = AuditEvent.objects.filter(object_type="recheck_campaign", action="recheck_campaign.launched").get()
    assert event.after["selected"] == 11
    assert event.after["cases"][0] == "CC-2024-0001"


def test_launch_refuses_a_stale_version_an_empty_selection_and_cases_waiting_elsewhere(world, pool, june):
    campaign = plan(world)
    with pytest.raises(Conflict):
        services.launch_campaign(campaign.pk, actor=world.supervisor, version=campaign.version + 1)
    empty = plan(world, closed_from=dt.date(2025, 1, 1))
    with pytest.raises(ValidationFailed) as caught:
        services.launch_campaign(empty.pk, actor=world.supervisor)
    assert caught.value.code == "recheck.nothing_selected"
    services.launch_campaign(campaign.pk, actor=world.supervisor)
    # Every case now waits in the first campaign: a second one finds none.
    with pytest.raises(ValidationFailed):
        services.launch_campaign(plan(world).pk, actor=world.supervisor)
    assert CampaignItem.objects.count() == 40


# --- checking --------------------------------------------------------------------------------------

@pytest.fixture
def running(world, pool, june):
    """A launched campaign over the first three cases of the round, checked by the supervisor."""
    campaign = launched(world, closed_to=dt.date(2024, 1, 7), checkers=[world.supervisor])
    return campaign, list(campaign.items.order_by("case__number"))


def test_held_keeps_the_case_closed_and_links_the_recheck(world, running):
    campaign, (item, *_rest) = running
    case_before = Case.objects.get(pk=item.case_id)
    checked = services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=True, note="未反弹")
    case = Case.objects.get(pk=item.case_id)
    recheck = Recheck.objects.get(case=case)
    assert (checked.status, checked.recheck, checked.checked_at) == (CampaignItem.Status.HELD, recheck, JUNE)
    assert (recheck.held, recheck.note, recheck.checked_by) == (True, "未反弹", world.supervisor)
    assert (case.state, case.reopen_count, case.recheck_due_at) == (State.CLOSED, 0, None)
    assert case.version == case_before.version + 1
    actions = list(AuditEvent.objects.filter(object_id__in=[case.number, str(campaign.pk)]).order_by("seq")
                   .values_list("action", flat=True))
    assert actions[-2:] == ["case.rechecked", "recheck_campaign.case_checked"]


def test_a_relapse_reopens_the_case_as_rectifying_with_the_link_and_the_count(world, running):
    campaign, (item, *_rest) = running
    checked = services.record_check(campaign.pk, item.pk, actor=world.supervisor, held="false",
                                    note="企业反映再次出现闪断")
    case = Case.objects.get(pk=item.case_id)
    assert (checked.status, case.state, case.reopen_count) == (CampaignItem.Status.RELAPSED, State.RECTIFYING, 1)
    assert case.completion_due_at is not None
    assert case.completion_due_at > JUNE
    assert checked.recheck == Recheck.objects.get(case=case, held=False)
    event = AuditEvent.objects.filter(object_type="case", object_id=case.number).latest("seq")
    assert (event.action, event.after["state"], event.after["reopen_count"], event.after["recheck"]) == (
        "case.rechecked", "rectifying", 1, checked.recheck_id)
    # 反弹率 = relapsed ÷ rechecked, one Recheck row per check.
    services.record_check(campaign.pk, running[1][1].pk, actor=world.supervisor, held=True)
    assert (Recheck.objects.filter(held=False).count(), Recheck.objects.count()) == (1, 2)
    with pytest.raises(IllegalTransition):
        services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=True)


def test_only_the_assigned_checker_records_and_others_change_nothing(world, running):
    campaign, (item, *_rest) = running
    colleague = matrix.build_extras(world).dual_supervisor  # a supervisor of the city, not assigned
    number = item.case.number
    before = matrix.footprint(number)
    for other_checker in (colleague, world.inspector):  # the inspector sees it: a case of the group's round
        with pytest.raises(PermissionDenied) as caught:
            services.record_check(campaign.pk, item.pk, actor=other_checker, held=False)
        assert caught.value.code == "recheck.not_checker"
    for stranger in (world.outsider, world.handler):
        with pytest.raises(NotFound):
            services.record_check(campaign.pk, item.pk, actor=stranger, held=False)
    with pytest.raises(ValidationFailed):
        services.record_check(campaign.pk, item.pk, actor=world.supervisor, held="maybe")
    assert matrix.footprint(number) == before
    assert CampaignItem.objects.get(pk=item.pk).status == CampaignItem.Status.PENDING


def test_evidence_is_sniffed_and_a_refused_file_leaves_nothing_behind(world, running, settings):
    campaign, (item, second, _third) = running
    media = Path(settings.MEDIA_ROOT)
    before = matrix.footprint(item.case.number)
    with pytest.raises(ValidationFailed) as caught:
        services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=False,
                              evidence=[matrix.pdf_upload(), SimpleUploadedFile("照片.pdf", matrix.PNG_BYTES)])
    assert caught.value.code == "upload.type_mismatch"
    assert matrix.footprint(item.case.number) == before
    assert CampaignItem.objects.get(pk=item.pk).status == CampaignItem.Status.PENDING
    assert not (media.exists() and any(p.is_file() for p in media.rglob("*")))
    services.record_check(campaign.pk, second.pk, actor=world.supervisor, held=True,
                          evidence=[matrix.pdf_upload("回头看记录.pdf")])
    evidence = Evidence.objects.get(case_id=second.case_id)
    assert (evidence.purpose, evidence.original_name, evidence.content_type) == (
        Evidence.Purpose.RECHECK, "回头看记录.pdf", "application/pdf")


def test_the_campaign_completes_with_its_last_check(world, running):
    campaign, items = running
    for item in items:
        assert RecheckCampaign.objects.get(pk=campaign.pk).status == RecheckCampaign.Status.LAUNCHED
        services.record_check(campaign.pk, item.pk, actor=world.supervisor, held=True)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.completed_at) == (RecheckCampaign.Status.COMPLETED, JUNE)
    assert selectors.progress(campaign) == selectors.Progress(total=3, pending=0, held=3, relapsed=0)


# --- the re-check delay --------------------------------------------------------------------------------

def test_the_recheck_delay_is_configured_per_category_and_inherited_down_the_tree(world, june):
    factors = world.category.parent  # 要素保障, above 供电
    TimeLimit.objects.create(clock="recheck", category=factors, amount=30, unit=TimeLimit.Unit.DAYS)
    case = closed_pool(world, 1)[0]
    Case.objects.filter(pk=case.pk).update(state=State.AWAITING_CLOSURE, closed_at=None, recheck_due_at=None,
                                           followup_waived_reason="三次联系企业未果")
    Acceptance.objects.create(case=case, verdict=Acceptance.Verdict.PASSED, opinion="通过",
                              accepted_by=world.supervisor, decided_at=JUNE - dt.timedelta(days=2))
    closed = case_services.close_case(case.number, actor=world.supervisor, opinion="同意销号")
    assert closed.recheck_due_at is not None
    assert localdate(closed.recheck_due_at) == dt.date(2024, 7, 3)
