"""The roll-up gives exactly what the facts give: every figure, breakdown and heat cell of the dashboard,
for several users, organisations and periods (ragged and whole months), on synthetic cases; and it stays
exact as facts change underneath it, whoever changes them, and as time passes."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, F

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.cases.models import Acceptance, Assignment, Case, FollowUp, Recheck
from taizhang.cases.synthetic import generate
from taizhang.kpis import rollup, selectors
from taizhang.kpis.models import KpiCaseFacts, KpiCell, KpiPending
from taizhang.orgs.models import Organisation
from taizhang.sla.models import Escalation

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 6, 14, 4, 0, tzinfo=dt.UTC)
PERIODS = [
    (dt.date(2023, 1, 1), dt.date(2024, 6, 14)),  # whole months and a ragged end
    (dt.date(2024, 3, 17), dt.date(2024, 6, 2)),  # ragged at both ends
    (dt.date(2024, 5, 1), dt.date(2024, 5, 31)),  # exactly one month
    (dt.date(2024, 4, 9), dt.date(2024, 4, 9)),  # one day
    (dt.date(2024, 3, 3), dt.date(2024, 5, 28)),  # most of a month at each end: month cells less days outside
    (dt.date(2024, 4, 2), dt.date(2024, 4, 28)),  # less days outside at both ends of one month
]


@pytest.fixture
def city():
    with time_machine.travel(NOW, tick=False):
        generate(400, seed=3, now=NOW, search_index=False)
    supervisor = User.objects.create(username="city-supervisor")
    top = Organisation.objects.get(name="长春市纪委监委")
    Membership.objects.create(user=supervisor, org=top, role=Role.SUPERVISOR)
    district = Organisation.objects.filter(kind=Organisation.Kind.PARTY_COMMITTEE).annotate(
        n=Count("assignments")).order_by("-n")[0]
    leader = User.objects.create(username="district-leader")
    Membership.objects.create(user=leader, org=district, role=Role.UNIT_LEADER)
    department = Organisation.objects.filter(path__startswith=district.path, kind=Organisation.Kind.DEPARTMENT,
                                             assignments__isnull=False)[0]
    return supervisor, leader, district, department


def picture(data: selectors.Dashboard) -> dict[str, object]:
    """What a dashboard shows, in an order that does not depend on how it was computed."""
    units = [u.org_id for u in data.table.units]
    return {
        "units": data.table.units, "total": data.table.total,
        "trend": [(b.key, b.due, b.late) for b in data.trend], "satisfaction": data.satisfaction_by_month,
        "category": sorted((b.key, b.due, b.late) for b in data.by_category if b.due),
        "source": sorted((b.key, b.due, b.late) for b in data.by_source if b.due),
        "heat": {(unit, month): data.heat.get(unit or 0, {}).get(month, 0) for unit in units for month in data.months},
    }


def both(monkeypatch, user, org, period):
    from_cells = selectors.dashboard(user, org=org, start=period[0], end=period[1])
    assert from_cells.table.cell_scope is not None
    with monkeypatch.context() as patched:
        patched.setattr(rollup, "fold_for_reading", lambda: False)
        from_facts = selectors.dashboard(user, org=org, start=period[0], end=period[1])
    assert from_facts.table.cell_scope is None
    return picture(from_cells), picture(from_facts)


def views(city):
    supervisor, leader, district, department = city
    return [(supervisor, None), (supervisor, district.pk), (supervisor, department.pk), (leader, district.pk),
            (leader, department.pk)]


def assert_same_everywhere(monkeypatch, city) -> None:
    for user, org in views(city):
        for period in PERIODS:
            cells, facts = both(monkeypatch, user, org, period)
            assert cells == facts, (user.username, org, period)


def test_the_roll_up_equals_the_facts_for_every_view(monkeypatch, city):
    with time_machine.travel(NOW, tick=False):
        assert_same_everywhere(monkeypatch, city)
        assert KpiPending.objects.count() == 0
        supervisor = city[0]
        total = selectors.kpi_table(supervisor, start=PERIODS[0][0], end=PERIODS[0][1]).total
        assert total.figures["timely_sign_for"].denominator > 50  # the data set exercises the figures


def test_changes_by_any_writer_and_the_passing_of_time_keep_it_exact(monkeypatch, city):
    supervisor, _leader, district, department = city
    with time_machine.travel(NOW, tick=False):
        selectors.kpi_table(supervisor, start=PERIODS[0][0], end=PERIODS[0][1])  # folds everything
        assert KpiPending.objects.count() == 0
        pending = Assignment.objects.filter(status=Assignment.Status.PENDING)[0]
        Assignment.objects.filter(pk=pending.pk).update(signed_at=NOW - dt.timedelta(days=3),
                                                         status=Assignment.Status.SIGNED)
        followed = FollowUp.objects.all()[0]
        FollowUp.objects.filter(pk=followed.pk).update(solved=FollowUp.Solved.NOT_SOLVED, satisfaction=1)
        moved = Case.objects.filter(deadline_on__isnull=False)[0]
        Case.objects.filter(pk=moved.pk).update(deadline_on=F("deadline_on") - dt.timedelta(days=40))
        assert set(KpiPending.objects.values_list("case_id", flat=True)) >= {pending.case_id, followed.case_id,
                                                                              moved.pk}
        Assignment.objects.filter(case=moved).delete()
        assert_same_everywhere(monkeypatch, city)
        closed = Organisation.objects.filter(path__startswith=district.path, kind=Organisation.Kind.DEPARTMENT,
                                             assignments__isnull=False).exclude(pk=department.pk)[0]
        closed.is_active = False
        closed.save(update_fields=["is_active"])
        assert KpiPending.objects.exists()
        assert_same_everywhere(monkeypatch, city)
    with time_machine.travel(NOW + dt.timedelta(days=9), tick=False):  # handovers and deadlines fall due
        assert KpiCaseFacts.objects.filter(valid_until__lte=NOW + dt.timedelta(days=9)).exists()
        assert_same_everywhere(monkeypatch, city)


def test_folding_case_by_case_ends_where_a_rebuild_does(city):
    supervisor = city[0]
    with time_machine.travel(NOW, tick=False):
        selectors.kpi_table(supervisor, start=PERIODS[0][0], end=PERIODS[0][1])
        Assignment.objects.filter(status=Assignment.Status.PENDING).update(signed_at=NOW)
        FollowUp.objects.filter(satisfaction=5).update(satisfaction=3)
        rollup.catch_up()
        folded = set(KpiCell.objects.values_list("span", "day", "key", "org_id", "own", "since",
                                                 "supervising_org_id", "handed_over", "category_id", "source", "n"))
        out = StringIO()
        call_command("kpi_rollup", "--rebuild", stdout=out)
        with_facts = {case for model in (Assignment, FollowUp, Acceptance, Recheck, Escalation)
                      for case in model.objects.values_list("case_id", flat=True)}
        assert out.getvalue().splitlines()[-1].count(str(len(with_facts))) == 1
        assert not KpiPending.objects.exists()
        rebuilt = set(KpiCell.objects.values_list("span", "day", "key", "org_id", "own", "since",
                                                  "supervising_org_id", "handed_over", "category_id", "source", "n"))
    assert folded == rebuilt
    assert not KpiCell.objects.filter(n__lte=0).exists()


def test_a_reader_leaves_a_large_backlog_to_the_worker_and_counts_from_the_facts(monkeypatch, city):
    supervisor = city[0]
    monkeypatch.setattr(rollup, "READ_FOLD_LIMIT", 10)
    with time_machine.travel(NOW, tick=False):
        table = selectors.kpi_table(supervisor, start=PERIODS[1][0], end=PERIODS[1][1])
        assert table.cell_scope is None
        assert KpiPending.objects.count() > 10  # nothing folded by the reader
        while rollup.catch_up(limit=50):
            pass
        assert selectors.kpi_table(supervisor, start=PERIODS[1][0], end=PERIODS[1][1]).cell_scope is not None


def test_mixed_seats_are_counted_from_the_facts(city):
    supervisor, _leader, district, _department = city
    Membership.objects.create(user=supervisor, org=district, role=Role.HANDLER)
    with time_machine.travel(NOW, tick=False):
        assert selectors.kpi_table(supervisor, start=PERIODS[1][0], end=PERIODS[1][1]).cell_scope is None
