"""The ledger list: filters × personas within scope, keyset pages, cursors, bounded queries."""

import datetime as dt

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from taizhang.accounts.roles import Role
from taizhang.cases import listing, policies, services
from taizhang.cases.listing import LedgerFilters, PageRequest, count_capped, ledger_page
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import State
from taizhang.core.errors import ValidationFailed
from taizhang.orgs.models import EnterpriseTag
from taizhang.testing import matrix
from taizhang.testing.personas import person

# The four cases of cases/tests/test_scope.py, all being rectified, and who sees which.
EXPECTED = {
    "supervisor": {"own", "sibling", "child"},
    "viewer": {"own", "sibling", "child"},
    "inspector": {"own"},
    "unit_leader": {"own", "child"},
    "handler": {"own", "child"},
    "co_leader": {"own"},
    "sibling_handler": {"sibling"},
    "child_handler": {"child"},
    "district_leader": {"own", "sibling", "child"},
    "liaison": {"own"},
    "enterprise_user": {"own"},
    "other_enterprise_user": {"sibling"},
    "admin": set(),
    "auditor": set(),
    "outsider": {"foreign"},
}
LATER = matrix.MOMENT + dt.timedelta(days=400)


def everything(people, filters):
    """The reference: what the filter selects among all four cases (the two supervisory bodies see them all)."""
    found = set()
    for name in ("supervisor", "outsider"):
        found |= {row["id"] for row in ledger_page(people[name], filters, limit=200).rows}
    return found


@pytest.fixture
def people(world):
    extras = matrix.build_extras(world)
    district_leader = person("district_leader", "区领导", (world.district, Role.UNIT_LEADER))
    return {**world.personas(), **extras.personas(), "district_leader": district_leader}, extras


@pytest.fixture
def cases(world, people):
    _people, extras = people
    EnterpriseTag.objects.create(enterprise=extras.other_enterprise, tag=EnterpriseTag.Tag.SRDI,
                                 level=EnterpriseTag.Level.PROVINCIAL)
    own = matrix.Cast.own(world)
    sibling = matrix.Cast(registrar=world.supervisor, supervisor=world.supervisor, approver=world.approver,
                          lead_leader=extras.sibling_leader, lead_handler=world.sibling_handler,
                          responsible_org=world.district, lead_org=world.sibling_unit,
                          enterprises=[extras.other_enterprise])
    child = matrix.Cast(registrar=world.supervisor, supervisor=world.supervisor, approver=world.approver,
                        lead_leader=extras.child_leader, lead_handler=extras.child_handler,
                        responsible_org=world.district, lead_org=world.lead_child)
    foreign = matrix.Cast(registrar=world.outsider, supervisor=world.outsider, approver=extras.foreign_approver,
                          lead_leader=extras.foreign_leader, lead_handler=extras.foreign_leader,
                          responsible_org=extras.foreign_unit.parent, lead_org=extras.foreign_unit)
    with time_machine.travel(matrix.MOMENT, tick=False):
        made = {name: matrix.drive(cast, State.RECTIFYING, title=f"{name} 问题")
                for name, cast in [("own", own), ("sibling", sibling), ("child", child), ("foreign", foreign)]}
    Case.objects.filter(pk=made["own"].pk).update(category=world.category)
    return made


def filter_sets(world, extras):
    """(label, query parameters) pairs covering every filter, alone and combined."""
    return [
        ("none", {}),
        ("state", {"state": "rectifying"}),
        ("state-other", {"state": "closed,registered"}),
        ("category-subtree", {"category": str(world.category.parent.parent.pk)}),
        ("source", {"source": "inspection"}),
        ("mode", {"mode": "deadline"}),
        ("org-any-subtree", {"org": str(world.lead_unit.pk)}),
        ("org-lead", {"org": str(world.lead_unit.pk), "org_role": "lead"}),
        ("org-co", {"org": str(world.power_company.pk), "org_role": "co"}),
        ("org-responsible", {"org": str(world.district.pk), "org_role": "responsible"}),
        ("enterprise", {"enterprise": str(world.enterprise.pk)}),
        ("tag", {"tag": "srdi"}),
        ("round", {"round": str(world.round.pk)}),
        ("escalation", {"escalation": "0"}),
        ("registered", {"registered_from": "2024-03-12", "registered_to": "2024-03-12"}),
        ("deadline", {"deadline_from": "2024-03-01", "deadline_to": "2030-12-31"}),
        ("search", {"q": "问题"}),
        ("search-own", {"q": "own 问"}),
        ("search-number", {"q": "CC-2024"}),
        ("combined", {"state": "rectifying", "org": str(world.district.pk), "q": "问题", "source": "supervision",
                      "mode": "deadline"}),
        ("foreign-org", {"org": str(extras.foreign_unit.pk)}),
    ]


FILTER_LABELS = ["none", "state", "state-other", "category-subtree", "source", "mode", "org-any-subtree", "org-lead",
                 "org-co", "org-responsible", "enterprise", "tag", "round", "escalation", "registered", "deadline",
                 "search", "search-own", "search-number", "combined", "foreign-org"]


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_every_filter_stays_within_scope(world, people, cases, persona):
    users, extras = people
    names = {case.pk: name for name, case in cases.items()}
    user = users[persona]
    visible = set(policies.scope(user).values_list("pk", flat=True))
    assert {names[pk] for pk in visible} == EXPECTED[persona]
    for label, params in filter_sets(world, extras):
        filters = LedgerFilters.from_query(params)
        rows = ledger_page(user, filters, limit=200).rows
        got = {row["id"] for row in rows}
        assert got == visible & everything(users, filters), (persona, label)
        assert count_capped(user, filters).count == len(got)


def test_the_filter_sets_name_every_filter(world, people):
    assert [label for label, _ in filter_sets(world, people[1])] == FILTER_LABELS
    covered = set().union(*(params for _, params in filter_sets(world, people[1])))
    fields = {"state", "category", "source", "mode", "org", "org_role", "enterprise", "tag", "round", "escalation",
              "registered_from", "registered_to", "deadline_from", "deadline_to", "q"}
    assert fields <= covered | {"overdue"}


def test_filters_select_what_they_say(world, people, cases):
    users, _extras = people
    supervisor = users["supervisor"]

    def names(**params):
        rows = ledger_page(supervisor, LedgerFilters.from_query(params), limit=200).rows
        return {row["number"] for row in rows}

    own, sibling, child = (cases[n].number for n in ("own", "sibling", "child"))
    assert names() == {own, sibling, child}
    assert names(org=str(world.lead_unit.pk)) == {own, child}  # the subtree holds the child section
    assert names(org=str(world.lead_child.pk)) == {child}
    assert names(org=str(world.power_company.pk), org_role="co") == {own}
    assert names(org=str(world.power_company.pk), org_role="lead") == set()
    assert names(org=str(world.district.pk), org_role="responsible") == {own, sibling, child}
    assert names(enterprise=str(world.enterprise.pk)) == {own}
    assert names(tag="srdi") == {sibling}
    assert names(tag="little_giant") == set()
    assert names(round=str(world.round.pk)) == {own}
    assert names(state="closed") == set()
    assert names(escalation="1,2,3") == set()
    assert names(q="sibling") == {sibling}
    assert names(category=str(world.category.pk)) == {own}
    assert names(category=str(world.category.parent.parent.pk)) == {own}  # the subtree
    assert names(org="999999") == set()
    assert names(category="999999") == set()
    assert names(registered_from="2024-03-13") == set()


def test_overdue_per_clock(world, people, cases):
    supervisor = people[0]["supervisor"]
    filters = LedgerFilters.from_query({"overdue": "completion"})
    with time_machine.travel(matrix.MOMENT, tick=False):
        assert ledger_page(supervisor, filters).rows == []
    with time_machine.travel(LATER, tick=False):
        rows = ledger_page(supervisor, filters).rows
        assert {row["id"] for row in rows} == {cases[n].pk for n in ("own", "sibling", "child")}
        assert all("completion" in row["overdue"] for row in rows)
        assert ledger_page(supervisor, LedgerFilters.from_query({"overdue": "followup"})).rows == []
        assert len(ledger_page(supervisor, LedgerFilters.from_query({"overdue": "any"})).rows) == 3
        assert ledger_page(people[0]["sibling_handler"], filters).rows[0]["id"] == cases["sibling"].pk


def test_rows_are_plain_dicts_with_the_ledger_columns(world, people, cases):
    rows = ledger_page(people[0]["handler"], LedgerFilters(), limit=10).rows
    own = next(row for row in rows if row["id"] == cases["own"].pk)
    assert own["number"] == cases["own"].number
    assert own["state"] == "rectifying"
    assert own["category__name"] == world.category.name
    assert own["responsible_org__name"] == world.district.name
    assert own["lead_org_names"] == [world.lead_unit.name]
    assert own["co_org_names"] == [world.power_company.name]
    assert own["enterprise_names"] == [world.enterprise.name]
    # Dates as dates, timestamps aware and equal to the model's, as `values()` would give them.
    stored = Case.objects.get(pk=cases["own"].pk)
    assert own["deadline_on"] == stored.deadline_on
    assert isinstance(own["deadline_on"], dt.date)
    assert own["completion_due_at"] is not None
    assert (own["completion_due_at"], own["created_at"]) == (stored.completion_due_at, stored.created_at)
    assert own["completion_due_at"].tzinfo is not None
    assert own["created_at"].tzinfo is not None
    assert own["escalation_level"] == 0
    with translation.override("zh-hans"):
        assert ledger_page(people[0]["handler"], LedgerFilters(), limit=1).rows[0]["state_label"] == "整改中"
    assert "internal_note" not in own
    assert "reporter_name" not in own


def test_rows_name_live_units_and_enterprises_in_link_order(world, people, cases):
    _users, extras = people
    own, sibling = cases["own"], cases["sibling"]
    # A proposed unit is shown; a returned or withdrawn one is not. Names follow the links' order.
    Assignment.objects.create(case=own, org=world.lead_child,
                              role=Assignment.Role.CO, status=Assignment.Status.PROPOSED)
    Assignment.objects.create(case=own, org=world.sibling_unit, role=Assignment.Role.CO,
                              status=Assignment.Status.DECLINED)
    Assignment.objects.create(case=own, org=world.district, role=Assignment.Role.LEAD,
                              status=Assignment.Status.WITHDRAWN)
    own.enterprises.add(extras.other_enterprise)
    rows = {row["id"]: row for row in ledger_page(world.supervisor, LedgerFilters(), limit=200).rows}
    assert rows[own.pk]["lead_org_names"] == [world.lead_unit.name]
    assert rows[own.pk]["co_org_names"] == [world.power_company.name, world.lead_child.name]
    assert rows[own.pk]["enterprise_names"] == [world.enterprise.name, extras.other_enterprise.name]
    assert rows[sibling.pk]["lead_org_names"] == [world.sibling_unit.name]
    assert rows[sibling.pk]["co_org_names"] == []
    assert rows[sibling.pk]["enterprise_names"] == [extras.other_enterprise.name]


# --- keyset pages --------------------------------------------------------------------------------

@pytest.fixture
def many(world):
    """Fourteen cases registered in the same instant (ties on created_at), a few sharing deadlines."""
    with time_machine.travel(matrix.MOMENT, tick=False):
        made = [services.register_case(actor=world.supervisor, source="supervision", title=f"并列{i}",
                                       description="同一时刻登记") for i in range(14)]
    ids = [c.pk for c in made]
    Case.objects.filter(pk__in=ids[:5]).update(deadline_on=dt.date(2024, 6, 1))
    Case.objects.filter(pk__in=ids[5:8]).update(deadline_on=dt.date(2024, 5, 1))
    return made


@pytest.mark.parametrize("order", list(listing.SORTS))
@pytest.mark.parametrize("limit", [1, 3, 5])
def test_pages_return_every_row_exactly_once(world, many, order, limit):
    user = world.supervisor
    everything_at_once = [row["id"] for row in ledger_page(user, LedgerFilters(), limit=200, order=order).rows]
    assert sorted(everything_at_once) == sorted(c.pk for c in many)
    seen, cursor, pages = [], None, 0
    while True:
        page = ledger_page(user, LedgerFilters(), cursor=cursor, limit=limit, order=order)
        seen += [row["id"] for row in page.rows]
        pages += 1
        assert page.has_more is (page.next_cursor is not None)
        if not page.has_more:
            break
        cursor = page.next_cursor
        assert pages < 100
    assert seen == everything_at_once  # same order, no row twice, none missed
    assert pages == -(-len(many) // limit)


def test_sort_orders(world, many):
    def numbers(order):
        return [row["number"] for row in ledger_page(world.supervisor, LedgerFilters(), order=order).rows]

    assert numbers("number") == sorted(c.number for c in many)
    assert numbers("-number") == sorted((c.number for c in many), reverse=True)
    deadlines = [row["deadline_on"] for row in ledger_page(world.supervisor, LedgerFilters(), order="deadline").rows]
    assert deadlines[:8] == [dt.date(2024, 5, 1)] * 3 + [dt.date(2024, 6, 1)] * 5
    assert deadlines[8:] == [None] * 6  # no deadline yet: last, in both directions
    desc = [row["deadline_on"] for row in ledger_page(world.supervisor, LedgerFilters(), order="-deadline").rows]
    assert desc[:5] == [dt.date(2024, 6, 1)] * 5
    assert desc[8:] == [None] * 6


def test_a_page_filtered_and_searched_keeps_paging(world, many):
    filters = LedgerFilters.from_query({"q": "并列1", "source": "supervision"})
    first = ledger_page(world.supervisor, filters, limit=2)
    assert len(first.rows) == 2
    second = ledger_page(world.supervisor, filters, cursor=first.next_cursor, limit=2)
    titles = {row["title"] for row in first.rows + second.rows}
    assert titles <= {"并列1", "并列10", "并列11", "并列12", "并列13"}
    assert len(titles) == 4


@pytest.mark.parametrize("tamper", ["flip", "garbage", "other-order", "bad-payload", "naive-time", "empty-id"])
def test_a_tampered_cursor_is_a_validation_error(world, many, tamper):
    page = ledger_page(world.supervisor, LedgerFilters(), limit=2)
    cursor = page.next_cursor
    assert cursor
    forged = {
        "flip": cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB"),
        "garbage": "not-a-cursor",
        "other-order": ledger_page(world.supervisor, LedgerFilters(), limit=2, order="number").next_cursor,
        "bad-payload": signing.dumps({"o": "-created", "v": 5, "i": "x"}, salt=listing.CURSOR_SALT),
        "naive-time": signing.dumps({"o": "-created", "v": "2024-03-12T10:00:00", "i": 3}, salt=listing.CURSOR_SALT),
        "empty-id": signing.dumps(["-created"], salt=listing.CURSOR_SALT),
    }[tamper]
    with pytest.raises(ValidationFailed) as error:
        ledger_page(world.supervisor, LedgerFilters(), cursor=forged, limit=2)
    assert error.value.code == "validation.invalid_cursor"
    assert error.value.field == "cursor"


# --- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "field"), [
    ({"state": "bogus"}, "state"),
    ({"state": "rectifying,nope"}, "state"),
    ({"category": "abc"}, "category"),
    ({"category": "-3"}, "category"),
    ({"org": "1", "org_role": "boss"}, "org_role"),
    ({"enterprise": "1.5"}, "enterprise"),
    ({"round": "１"}, "round"),
    ({"tag": "famous"}, "tag"),
    ({"overdue": "never"}, "overdue"),
    ({"escalation": "7"}, "escalation"),
    ({"source": "rumour"}, "source"),
    ({"mode": "someday"}, "mode"),
    ({"registered_from": "2022-13-01"}, "registered_from"),
    ({"deadline_from": "2024-05-02", "deadline_to": "2024-05-01"}, "deadline_from"),
    ({"q": "长" * 101}, "q"),
    ({"category": "1,2"}, "category"),
])
def test_bad_filter_values_are_clear_validation_errors(params, field):
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        LedgerFilters.from_query(params)
    assert error.value.field == field
    assert error.value.code.startswith("validation.")
    assert str(error.value.message)


def test_query_dicts_repeat_keys_and_commas_split_values():
    params = QueryDict("state=rectifying&state=closed,on_ledger&q=%20积水,路面%20&escalation=2")
    filters = LedgerFilters.from_query(params)
    assert filters.states == ("rectifying", "closed", "on_ledger")
    assert filters.q == "积水,路面"  # free text is taken whole, trimmed
    assert filters.escalation == (2,)
    assert LedgerFilters.from_query({}) == LedgerFilters()


@pytest.mark.parametrize(("params", "field"), [({"order": "title"}, "order"), ({"limit": "0"}, "limit"),
                                               ({"limit": "500"}, "limit"), ({"limit": "x"}, "limit")])
def test_bad_page_parameters(params, field):
    with pytest.raises(ValidationFailed) as error:
        PageRequest.from_query(params)
    assert error.value.field == field


def test_page_request_defaults():
    assert PageRequest.from_query({}) == PageRequest(cursor=None, limit=50, order="-created")
    assert PageRequest.from_query({"order": "deadline", "limit": "20", "cursor": "c"}).limit == 20


# --- query counts --------------------------------------------------------------------------------

def test_a_page_costs_a_bounded_number_of_queries(world, people, cases, many, django_assert_max_num_queries):
    users, _extras = people
    filters = LedgerFilters.from_query({"org": str(world.district.pk), "category": str(world.category.pk),
                                        "q": "问题", "tag": "srdi", "enterprise": str(world.enterprise.pk)})
    policies.forget_seats(users["supervisor"])
    # seats, org subtree, category subtree, how broad the search is, the page, the units and enterprises of its rows
    with django_assert_max_num_queries(6):
        ledger_page(users["supervisor"], filters)
    # Seats are read once per user object: then an unfiltered page is the page and its names.
    with django_assert_max_num_queries(2):
        ledger_page(users["supervisor"], LedgerFilters(), limit=200)
    # A nullable order reads the dated rows, then the undated ones: one more query at most.
    policies.forget_seats(users["supervisor"])
    with django_assert_max_num_queries(7):
        ledger_page(users["supervisor"], filters, order="deadline", limit=200)
    with django_assert_max_num_queries(6):
        ledger_page(users["supervisor"], filters, order="-deadline", limit=200)


def test_query_count_does_not_grow_with_the_page(world, people, cases, many):
    supervisor = people[0]["supervisor"]
    policies.seats(supervisor)
    counts = []
    for limit in (1, 5, 200):
        with CaptureQueriesContext(connection) as captured:
            page = ledger_page(supervisor, LedgerFilters(), limit=limit)
        assert len(page.rows) == min(limit, 17)
        counts.append(len(captured))
    assert counts == [2, 2, 2]  # the page, the units and enterprises of its rows


def test_count_is_capped(world, many):
    assert count_capped(world.supervisor, LedgerFilters(), cap=5) == listing.CappedCount(count=5, capped=True)
    assert count_capped(world.supervisor, LedgerFilters(), cap=100) == listing.CappedCount(count=14, capped=False)
    assert count_capped(world.admin, LedgerFilters()).count == 0
