"""The measures on the hand-made district of conftest.py: every expected number is worked out there."""

from decimal import Decimal

import pytest

from taizhang.cases import listing
from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.kpis import definitions, selectors
from taizhang.kpis.definitions import FIGURES, Part
from taizhang.kpis.models import KpiSettings
from taizhang.kpis.tests.conftest import MARCH

START, END = MARCH


def numbers(unit: selectors.UnitKpis) -> dict[str, tuple[int | None, int]]:
    return {key: (f.numerator, f.denominator) for key, f in unit.figures.items()}


def behind(user, value: str) -> set[str]:
    """The numbers of the cases the ledger lists for a drill-down parameter."""
    filters = listing.LedgerFilters.from_query({"kpi": value})
    return {number[4:] for number in listing.filtered_cases(user, filters).values_list("number", flat=True)}


EXPECTED_TOTAL = {  # supervisor of the city, everything, March 2026: (numerator, denominator)
    "timely_sign_for": (2, 5), "on_time_completion": (2, 4), "resolution": (2, 3), "satisfaction": (1, 3),
    "followup_rate": (3, 4), "rework_rate": (1, 4), "relapse_rate": (1, 2), "handling_workdays": (None, 3),
    "overdue": (None, 2), "escalated_1": (None, 1), "escalated_2": (None, 1), "escalated_3": (None, 1),
}
EXPECTED_CASES = {  # the cases behind each number of EXPECTED_TOTAL
    "timely_sign_for": ({"C1", "C4"}, {"C1", "C2", "C3", "C4", "C5"}),
    "on_time_completion": ({"C1", "C6"}, {"C1", "C2", "C3", "C6"}),
    "resolution": ({"C1", "C2"}, {"C1", "C2", "C4"}),
    "satisfaction": ({"C1"}, {"C1", "C2", "C4"}),
    "followup_rate": ({"C1", "C2", "C4"}, {"C1", "C2", "C4", "C6"}),
    "rework_rate": ({"C2"}, {"C1", "C2", "C4", "C6"}),
    "relapse_rate": ({"C6"}, {"C1", "C6"}),
    "handling_workdays": (None, {"C1", "C2", "C6"}),
    "overdue": (None, {"C2", "C3"}),
    "escalated_1": (None, {"C3"}), "escalated_2": (None, {"C3"}), "escalated_3": (None, {"C6"}),
}


def test_every_figure_of_the_whole_scope(world, district, measuring):
    table = selectors.kpi_table(world.supervisor, start=START, end=END)
    total = table.total
    assert numbers(total) == EXPECTED_TOTAL
    assert total.figures["timely_sign_for"].rate == pytest.approx(0.4)
    assert total.figures["satisfaction"].value == pytest.approx(33.3)
    # Working days signed → submitted: C1 Mon 2 → Mon 9 March = 5, C2 Fri 6 → Wed 25 = 13,
    # C6 Fri 20 Feb → Thu 5 March = 9.
    assert total.figures["handling_workdays"].value == pytest.approx(9.0)
    # 30 × 0.4 + 35 × 2/3 + 35 × 1/3 over 100.
    assert total.score == pytest.approx(47.0)
    assert [u.org_name for u in table.units] == [world.district.name, world.power_company.name]


def test_each_number_is_exactly_the_list_behind_it(world, district, measuring):
    total = selectors.kpi_table(world.supervisor, start=START, end=END).total
    for key, (numerator_cases, denominator_cases) in EXPECTED_CASES.items():
        figure = total.figures[key]
        listed = behind(world.supervisor, figure.cases[Part.DENOMINATOR])
        assert listed == denominator_cases, key
        assert len(listed) == figure.denominator, key
        if numerator_cases is not None:
            listed = behind(world.supervisor, figure.cases[Part.NUMERATOR])
            assert listed == numerator_cases, key
            assert len(listed) == figure.numerator, key


def test_units_under_the_district_roll_up_their_subtrees_and_rank_by_score(world, district, measuring):
    units = selectors.unit_kpis(world.supervisor, org=world.district, start=START, end=END)
    lead, sibling = units
    assert (lead.org_id, sibling.org_id) == (world.lead_unit.pk, world.sibling_unit.pk)
    # The lead unit's figures include its engineering section's case C3; the power company is outside.
    assert numbers(lead)["timely_sign_for"] == (2, 4)
    assert numbers(lead)["resolution"] == (2, 2)
    assert numbers(lead)["satisfaction"] == (1, 2)
    assert lead.score == pytest.approx(67.5)
    assert lead.rank == 1
    assert numbers(sibling)["timely_sign_for"] == (1, 1)
    assert sibling.score == pytest.approx(30.0)
    assert sibling.rank == 2
    for unit in units:
        for figure in unit.figures.values():
            for part, value in figure.cases.items():
                counted = figure.numerator if part == Part.NUMERATOR else figure.denominator
                assert len(behind(world.supervisor, value)) == counted, (unit.org_name, figure.key, part)
    district_total = selectors.kpi_table(world.supervisor, org=world.district.pk, start=START, end=END).total
    assert numbers(district_total)["timely_sign_for"] == (3, 5)  # C3's co-handling power company is not in it


def test_weights_and_the_basically_satisfied_setting_change_the_score(world, district, measuring):
    KpiSettings.objects.create(response_weight=Decimal(100), resolution_weight=Decimal(0),
                               satisfaction_weight=Decimal(0))
    assert selectors.kpi_table(world.supervisor, start=START, end=END).total.score == pytest.approx(40.0)
    settings = KpiSettings.current()
    settings.response_weight, settings.satisfaction_weight = Decimal(0), Decimal(1)
    settings.basically_satisfied_counts = True
    settings.save()
    total = selectors.kpi_table(world.supervisor, start=START, end=END).total
    assert numbers(total)["satisfaction"] == (2, 3)
    assert total.score == pytest.approx(66.7)
    assert behind(world.supervisor, total.figures["satisfaction"].cases[Part.NUMERATOR]) == {"C1", "C2"}


def test_a_unit_sees_its_own_subtree_with_the_cases_it_handles(world, district, measuring):
    table = selectors.kpi_table(world.unit_leader, org=world.lead_unit, start=START, end=END)
    # C7 is supervised elsewhere but handled here; C4 belongs to the sibling unit.
    assert numbers(table.total)["timely_sign_for"] == (3, 5)
    child, own = table.units
    assert (child.org_id, own.org_id) == (world.lead_child.pk, world.lead_unit.pk)
    assert numbers(child)["timely_sign_for"] == (1, 1)
    assert numbers(own)["timely_sign_for"] == (2, 4)
    assert [o.id for o in selectors.kpi_orgs(world.unit_leader)] == [world.lead_unit.pk, world.lead_child.pk]
    assert selectors.default_org(world.unit_leader) == selectors.kpi_orgs(world.unit_leader)[0]


@pytest.mark.parametrize(("who", "org"), [("sibling_handler", "lead_unit"), ("unit_leader", "sibling_unit"),
                                      ("unit_leader", "district"), ("enterprise_user", None), ("admin", None)])
def test_out_of_scope_organisations_are_not_found(world, district, measuring, who, org):
    with pytest.raises(NotFound):
        selectors.kpi_table(getattr(world, who), org=getattr(world, org) if org else None, start=START, end=END)


def test_a_supervisor_counts_only_the_cases_it_supervises(world, district, measuring):
    total = selectors.kpi_table(world.outsider, start=START, end=END).total
    assert numbers(total)["timely_sign_for"] == (1, 1)  # C7 only
    assert numbers(total)["on_time_completion"] == (0, 0)


@pytest.mark.parametrize("value", [
    "timely_sign_for.num::2026-03-01", "nonsense.num::2026-03-01:2026-03-31",
    "timely_sign_for.all::2026-03-01:2026-03-31",
    "timely_sign_for.num:x:2026-03-01:2026-03-31", "timely_sign_for.num::2026-03-31:2026-03-01",
    "timely_sign_for.num:0:2026-03-01:2026-03-31", "timely_sign_for.num::2026-02-30:2026-03-31",
])
def test_a_malformed_drill_down_is_a_validation_error(world, value):
    with pytest.raises(ValidationFailed) as caught:
        listing.LedgerFilters.from_query({"kpi": value})
    assert caught.value.field == "kpi"


def test_every_figure_has_a_label_and_a_family():
    assert set(definitions.SCORE_FIGURES) <= set(FIGURES)
    assert all(str(f.label) for f in FIGURES.values())
