"""Who sees which case (DESIGN.md §4): out of scope is a 404, in `scope`, `can` and `get_case_for` alike."""

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from taizhang.accounts.roles import Role
from taizhang.cases import policies, services
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import NotFound
from taizhang.testing import matrix
from taizhang.testing.personas import person

# Four cases, all being rectified: supervised by another city (foreign); led by the sibling unit for a
# second enterprise (sibling); led by the lead unit's child section (child); the seed story (own).
EXPECTED = {
    "supervisor": {"own", "sibling", "child"},
    "approver": {"own", "sibling", "child"},
    "viewer": {"own", "sibling", "child"},
    "inspector": {"own"},  # only cases of the group's round
    "unit_leader": {"own", "child"},  # own org or below
    "handler": {"own", "child"},
    "co_leader": {"own"},
    "sibling_handler": {"sibling"},
    "sibling_leader": {"sibling"},
    "child_leader": {"child"},
    "child_handler": {"child"},
    "district_leader": {"own", "sibling", "child"},  # the organisation bearing main responsibility
    "liaison": {"own"},  # portfolio only
    "enterprise_user": {"own"},
    "other_enterprise_user": {"sibling"},
    "admin": set(),
    "auditor": set(),
    "outsider": {"foreign"},
    "foreign_leader": {"foreign"},
    "foreign_approver": {"foreign"},
}


@pytest.fixture
def people(world):
    extras = matrix.build_extras(world)
    district_leader = person("district_leader", "区领导", (world.district, Role.UNIT_LEADER))
    return {**world.personas(), **extras.personas(), "district_leader": district_leader}, extras


@pytest.fixture
def cases(world, people):
    _people, extras = people
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
        return {name: matrix.drive(cast, State.RECTIFYING, title=f"{name} 问题")
                for name, cast in [("own", own), ("sibling", sibling), ("child", child), ("foreign", foreign)]}


def test_the_foreign_case_belongs_to_the_other_city(cases, world):
    assert cases["foreign"].number.startswith("WS-")
    assert cases["foreign"].supervising_org == world.other_city


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_sees_exactly_its_cases(people, cases, persona):
    user = people[0][persona]
    expected = EXPECTED[persona]
    names = {case.pk: name for name, case in cases.items()}
    assert {names[pk] for pk in policies.scope(user).values_list("pk", flat=True)} == expected
    for name, case in cases.items():
        assert policies.can(user, "view", case) is (name in expected), name
        assert policies.is_visible(user, case) is (name in expected), name
        if name in expected:
            assert services.get_case_for(user, case.number).pk == case.pk
        else:
            with pytest.raises(NotFound):
                services.get_case_for(user, case.number)
            assert not any(policies.can(user, action, case) for action in ("report_progress", "accept", "view"))


def test_a_missing_case_and_an_invisible_one_look_the_same(people, cases):
    user = people[0]["handler"]
    with pytest.raises(NotFound) as missing:
        services.get_case_for(user, "CC-2099-9999")
    with pytest.raises(NotFound) as hidden:
        services.get_case_for(user, cases["sibling"].number)
    assert missing.value.as_dict() == hidden.value.as_dict()


def test_anonymous_and_inactive_users_see_nothing(people, cases):
    assert not policies.scope(AnonymousUser()).exists()  # type: ignore[arg-type]
    supervisor = people[0]["supervisor"]
    supervisor.is_active = False
    policies.forget_seats(supervisor)
    assert not policies.scope(supervisor).exists()
    assert not policies.sees_reporter(AnonymousUser(), cases["own"])  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(State))
def test_handling_units_see_a_case_only_once_it_is_handed_over(world, people, state):
    everyone = people[0]
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), state)
    handed_over = state in {State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER, State.AWAITING_ACCEPTANCE,
                            State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED}
    for name in ("unit_leader", "handler", "co_leader", "district_leader"):
        assert policies.is_visible(everyone[name], case) is handed_over, name
    for name in ("supervisor", "approver", "viewer", "inspector", "liaison", "enterprise_user"):
        assert policies.is_visible(everyone[name], case), name
    for name in ("admin", "auditor", "outsider", "sibling_handler", "child_leader", "other_enterprise_user"):
        assert not policies.is_visible(everyone[name], case), name


def test_a_unit_loses_the_case_when_its_assignment_is_declined_or_withdrawn(world, people):
    everyone = people[0]
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.HANDED_OVER)
        case = services.decline_case(case, actor=world.unit_leader, reason="不属于本单位职责")
        assert not policies.is_visible(world.unit_leader, case)
        # Re-proposed to the sibling unit alone: the lead unit and the power company are withdrawn.
        case = services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                                         lead_org=world.sibling_unit, mode="deadline")
        case = services.approve_handover(case, actor=world.approver)
    assert case.state == State.HANDED_OVER
    assert policies.is_visible(world.sibling_handler, case)
    assert policies.is_visible(everyone["sibling_leader"], case)
    for name in ("unit_leader", "handler", "co_leader", "child_leader"):
        assert not policies.is_visible(everyone[name], case), name
        with pytest.raises(NotFound):
            services.get_case_for(everyone[name], case.number)


def test_admin_and_auditor_see_no_case_content_even_with_every_case_in_their_org(world, people, cases):
    for name in ("admin", "auditor"):
        assert policies.scope(people[0][name]).count() == 0
        assert Case.objects.count() >= 4


def test_the_enterprise_sees_only_its_own_cases_even_those_it_registered_before_moving(world, people, cases):
    everyone = people[0]
    with time_machine.travel(matrix.MOMENT, tick=False):
        own_demand = services.register_case(actor=world.enterprise_user, source="enterprise", title="用电报装慢",
                                            description="报装超过30天未通电。")
    assert set(policies.scope(world.enterprise_user)) == {cases["own"], own_demand}
    assert own_demand not in set(policies.scope(everyone["other_enterprise_user"]))
    # The same person moves to the other enterprise: the earlier demand stays with the first one.
    mover = world.enterprise_user
    mover.memberships.all().delete()
    person("enterprise", "吴总", (everyone["other_enterprise_user"].memberships.get().org, Role.ENTERPRISE))
    policies.forget_seats(mover)
    assert set(policies.scope(mover)) == {cases["sibling"]}


def test_the_liaison_sees_only_the_portfolio(world, people, cases):
    liaison = world.liaison
    with time_machine.travel(matrix.MOMENT, tick=False):
        demand = services.register_case(actor=liaison, source="liaison", title="融资难",
                                        description="企业反映贷款审批慢。", enterprises=[world.enterprise])
    assert set(policies.scope(liaison)) == {cases["own"], demand}
    liaison.liaison_assignments.all().delete()
    policies.forget_seats(liaison)
    assert not policies.scope(liaison).exists()


def test_scope_for_an_action_narrows_to_the_states_the_table_opens(world, people, cases):
    with time_machine.travel(matrix.MOMENT, tick=False):
        assessing = matrix.drive(matrix.Cast.own(world), State.ASSESSING)
    assert set(policies.scope(world.handler, "report_progress")) == {cases["own"], cases["child"]}
    assert set(policies.scope(world.supervisor, "report_progress")) == set()
    assert set(policies.scope(world.supervisor, "propose_handover")) == {assessing}
    assert set(policies.scope(world.approver, "propose_handover")) == set()


@pytest.mark.parametrize("anonymous", [True, False], ids=["anonymous", "named"])
def test_an_anonymous_reporter_is_never_identified_to_handling_units(world, people, anonymous):
    everyone = people[0]
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.RECTIFYING, shape=matrix.Drive(anonymous=anonymous))
    supervising = {"supervisor", "approver", "inspector"}
    handling = {"unit_leader", "handler", "co_leader", "district_leader"}
    for name in supervising:
        assert policies.sees_reporter(everyone[name], case), name
    for name in handling:
        assert policies.sees_reporter(everyone[name], case) is not anonymous, name
    for name in ("viewer", "liaison"):
        assert policies.sees_reporter(everyone[name], case) is not anonymous, name
    assert not policies.sees_reporter(world.enterprise_user, case)  # another reporter's identity


def test_an_anonymous_enterprise_reporter_still_sees_its_own_report(world):
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = services.register_case(actor=world.enterprise_user, source="enterprise", title="匿名反映",
                                      description="有关部门吃拿卡要。", reporter_anonymous=True)
    assert policies.sees_reporter(world.enterprise_user, case)
    assert not policies.sees_reporter(world.liaison, case)
    assert policies.sees_reporter(world.supervisor, case)
