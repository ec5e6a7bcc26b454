"""Every (state, action) pair of the workflow table × every persona.

Expectations come from the table (which roles, which party) and from the explicit maps below (who can
see a case, who stands on which party) — never from the policy functions under test. Cases are built
once per module through the services (one per state, plus two shapes some actions need) and every
test runs in a savepoint that is rolled back, so each attempt starts from the same case.
"""

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from taizhang.accounts.roles import Role
from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.cases.models import Case
from taizhang.cases.workflow import ACTIONS, TABLE, Clock, Party, State, clocks_started, clocks_stopped
from taizhang.core.errors import IllegalTransition, NotFound, PermissionDenied
from taizhang.core.models import OutboxMessage
from taizhang.sla.deadlines import end_of_day
from taizhang.testing import matrix
from taizhang.testing.personas import build_world

R = Role
ROLES = {
    "supervisor": {R.SUPERVISOR}, "approver": {R.APPROVER}, "inspector": {R.INSPECTOR},
    "unit_leader": {R.UNIT_LEADER}, "handler": {R.HANDLER}, "co_leader": {R.UNIT_LEADER, R.HANDLER},
    "sibling_handler": {R.HANDLER}, "liaison": {R.LIAISON}, "enterprise_user": {R.ENTERPRISE},
    "viewer": {R.VIEWER}, "admin": {R.ADMIN}, "auditor": {R.AUDITOR}, "outsider": {R.SUPERVISOR},
}
PERSONAS = list(ROLES)

# Who sees the fixture case (supervised by the city, found in the group's round, for the liaison's
# enterprise, led by 区建设发展局 with the power company co-handling).
ALWAYS_VISIBLE = {"supervisor", "approver", "viewer", "inspector", "liaison", "enterprise_user"}
HANDLING_UNITS = {"unit_leader", "handler", "co_leader"}
UNITS_SEE_IN = {State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER, State.AWAITING_ACCEPTANCE,
                State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED}

# Who stands on each party of the fixture case (the role is checked separately, from the table).
PARTY_MEMBERS = {
    Party.SUPERVISING: {"supervisor", "approver", "inspector"},
    Party.APPROVING: {"approver"},
    Party.LEAD_UNIT: {"unit_leader", "handler"},
    Party.ASSIGNED_UNIT: {"unit_leader", "handler", "co_leader"},
    Party.CO_UNIT: {"co_leader"},  # only while its own part awaits sign-for
    Party.INDEPENDENT: {"supervisor"},
    Party.FOLLOWUP_PARTY: {"supervisor", "liaison", "enterprise_user"},
}
# Some actions need a case of a particular shape to succeed; the others get the default shape, where
# the co-handling unit has signed for its part (and finished it) by the time the case is rectifying.
SHAPES = {
    "sign_for_assignment": ("co_pending", matrix.Drive(co_signed=False, co_done=False)),
    "complete_assignment": ("co_signed", matrix.Drive(co_done=False)),
    "decide_extension": ("extension_pending", matrix.Drive(extension_pending=True)),
    "waive_followup": ("unreachable", matrix.Drive(unreachable_attempts=3)),  # waived after three attempts
}
OUTCOMES = {"record_followup": "satisfied", "record_recheck": "held"}  # what valid_inputs leads to
NEW_ROWS = {
    "file_plan": "plan_items", "report_progress": "progress_reports", "request_extension": "extension_requests",
    "accept": "acceptances",
    "return_for_rework": "acceptances", "record_followup": "followups", "record_recheck": "rechecks",
}


def visible(persona: str, state: State) -> bool:
    return persona in ALWAYS_VISIBLE or (persona in HANDLING_UNITS and state in UNITS_SEE_IN)


def party_members(party: Party, state: State, action: str) -> set[str]:
    co_part_pending = state == State.HANDED_OVER or SHAPES.get(action, ("",))[0] == "co_pending"
    if party == Party.CO_UNIT and not co_part_pending:
        return set()
    return PARTY_MEMBERS[party]


def expected_error(state: State, action: str, persona: str):
    if not visible(persona, state):
        return NotFound, "not_found"
    transition = TABLE.get((state, action))
    if transition is None:
        return IllegalTransition, "workflow.illegal_transition"
    if not (ROLES[persona] & transition.roles) or persona not in party_members(transition.party, state, action):
        return PermissionDenied, "workflow.action_not_allowed"
    return None


@dataclasses.dataclass
class Stage:
    world: object
    cases: dict[tuple[State, str], str]
    survivor: str

    def number(self, state: State, action: str) -> str:
        shape = SHAPES.get(action, ("", None))[0]
        return self.cases.get((state, shape)) or self.cases[(state, "")]


@pytest.fixture(scope="module")
def stage(django_db_setup, django_db_blocker, tmp_path_factory):
    """One case per state (and shape), built through the services inside a transaction that is rolled
    back after the module; each test adds a savepoint on top."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("matrix-media")):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with time_machine.travel(matrix.MOMENT, tick=False):
                world = build_world()
                cast = matrix.Cast.own(world)
                cases = {(state, ""): matrix.drive(cast, state).number for state in State}
                for shape_name, shape in SHAPES.values():
                    states = [State.AWAITING_FOLLOWUP] if shape.unreachable_attempts else [State.RECTIFYING,
                                                                                          State.ON_LEDGER]
                    for state in states:
                        cases[(state, shape_name)] = matrix.drive(cast, state, shape=shape).number
                survivor = matrix.register(cast, "同一企业的另一问题").number
            yield Stage(world=world, cases=cases, survivor=survivor)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_fixture_cases_are_in_their_states(stage, db):
    for (state, _shape), number in stage.cases.items():
        assert Case.objects.get(number=number).state == state


def test_the_matrix_covers_every_pair_and_both_answers():
    pairs = [(s, a) for s in State for a in ACTIONS]
    allowed = [(s, a, p) for s, a in pairs for p in PERSONAS if expected_error(s, a, p) is None]
    assert len(TABLE) == sum((s, a) in TABLE for s, a in pairs)  # the table has no pair outside the product
    # Each row of the table is open to someone, and most attempts are refused.
    assert {(s, a) for s, a, _p in allowed} == set(TABLE)
    assert len(allowed) < len(pairs) * len(PERSONAS) / 10


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", list(State))
def test_action_by_persona(stage, db, state, action, persona):
    world = stage.world
    user = world.personas()[persona]
    number = stage.number(state, action)
    case = Case.objects.get(number=number)
    inputs = matrix.valid_inputs(action, world, case, merge_into=stage.survivor)
    before = matrix.footprint(number)
    now = matrix.MOMENT + dt.timedelta(hours=1)
    expected = expected_error(state, action, persona)
    with time_machine.travel(now, tick=False):
        if expected is not None:
            error, code = expected
            with pytest.raises(error) as caught:
                services.perform_action(number, action, actor=user, **inputs)
            assert caught.value.code == code
            assert matrix.footprint(number) == before
            return
        events_before = AuditEvent.objects.count()
        last_message = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        result = services.perform_action(number, action, actor=user, **inputs)

    transition = TABLE[(state, action)]
    outcome = OUTCOMES.get(action, "")
    target = transition.targets[outcome]
    after = Case.objects.get(number=number)
    assert (result.state, after.state) == (target, target)
    assert after.version == case.version + 1 == result.version

    new_events = list(AuditEvent.objects.filter(seq__gt=events_before).order_by("seq"))
    assert [(e.action, e.object_id, e.actor_id) for e in new_events] == [(transition.event, number, user.pk)]
    assert new_events[0].after["version"] == after.version
    if target != state:
        assert (new_events[0].before["state"], new_events[0].after["state"]) == (state, target)
    new_messages = list(OutboxMessage.objects.filter(pk__gt=last_message).order_by("pk"))
    assert [m.topic for m in new_messages] == [transition.event]
    assert new_messages[0].payload["case"] == number

    started = clocks_started(transition, outcome)
    stopped = clocks_stopped(transition, outcome) - started
    moved_by_handler = set()
    if action == "decide_extension":  # a granted extension moves the completion deadline (not a clock start)
        moved_by_handler = {Clock.COMPLETION}
        granted = after.extension_requests.get(status="granted")
        assert (after.deadline_on, after.completion_due_at) == (granted.requested_deadline,
                                                                 end_of_day(granted.requested_deadline))
    for clock, column in services.CLOCK_COLUMNS.items():
        old, new = before["case"][column], getattr(after, column)
        if clock in started:
            assert new is not None, clock
            assert new > now, (clock, new)
        elif clock in stopped:
            assert new is None, clock
        elif clock not in moved_by_handler:
            assert new == old, clock

    if action in NEW_ROWS:
        related = NEW_ROWS[action]
        added = len(inputs["items"]) if action == "file_plan" else 1
        assert len(matrix.footprint(number)[related]) == len(before[related]) + added
