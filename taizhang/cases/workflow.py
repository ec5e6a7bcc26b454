"""The case lifecycle as one table (DESIGN.md §3).

Each `Transition` says, for a `(state, action)` pair: the target state (or targets by outcome),
the roles allowed, which party of the case the actor must belong to, the inputs required and
the clocks it starts and stops. Services, buttons, the API and the diagram all read this table.
This module imports no ORM.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.roles import Role


class State(enum.StrEnum):
    REGISTERED = "registered"
    ASSESSING = "assessing"
    AWAITING_APPROVAL = "awaiting_approval"
    HANDED_OVER = "handed_over"
    RECTIFYING = "rectifying"
    ON_LEDGER = "on_ledger"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    AWAITING_FOLLOWUP = "awaiting_followup"
    AWAITING_CLOSURE = "awaiting_closure"
    CLOSED = "closed"
    DISMISSED = "dismissed"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS: Mapping[State, Promise] = {
    State.REGISTERED: _("Registered"),
    State.ASSESSING: _("Under assessment"),
    State.AWAITING_APPROVAL: _("Awaiting approval"),
    State.HANDED_OVER: _("Handed over, awaiting sign-for"),
    State.RECTIFYING: _("Rectifying"),
    State.ON_LEDGER: _("Kept on the ledger"),
    State.AWAITING_ACCEPTANCE: _("Awaiting acceptance"),
    State.AWAITING_FOLLOWUP: _("Awaiting follow-up"),
    State.AWAITING_CLOSURE: _("Awaiting closure"),
    State.CLOSED: _("Closed"),
    State.DISMISSED: _("Dismissed"),
    State.MERGED: _("Merged"),
}

TERMINAL_STATES = frozenset({State.DISMISSED, State.MERGED})
# States in which the responsible units work on the case and may see it.
HANDED_OVER_STATES = frozenset({
    State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER, State.AWAITING_ACCEPTANCE,
    State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED,
})


class Clock(enum.StrEnum):
    SIGN_FOR = "sign_for"
    DECLINE_WINDOW = "decline_window"
    PROGRESS_REPORT = "progress_report"
    COMPLETION = "completion"
    LEDGER_REVIEW = "ledger_review"
    FOLLOWUP = "followup"
    RECHECK = "recheck"

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self])


CLOCK_LABELS: Mapping[Clock, Promise] = {
    Clock.SIGN_FOR: _("Sign-for deadline"),
    Clock.DECLINE_WINDOW: _("Return window"),
    Clock.PROGRESS_REPORT: _("Next progress report due"),
    Clock.COMPLETION: _("Completion deadline"),
    Clock.LEDGER_REVIEW: _("Ledger review date"),
    Clock.FOLLOWUP: _("Follow-up deadline"),
    Clock.RECHECK: _("Re-check due"),
}


class Party(enum.StrEnum):
    """Which side of the case the actor must stand on, besides holding the role."""

    SUPERVISING = "supervising"  # the supervising body (or the inspection group of the round)
    APPROVING = "approving"  # a leader of the supervising body
    LEAD_UNIT = "lead_unit"  # the lead unit of the handover (or an organisation above it)
    ASSIGNED_UNIT = "assigned_unit"  # any unit holding an active assignment
    CO_UNIT = "co_unit"  # a co-handling unit whose own assignment is concerned
    INDEPENDENT = "independent"  # supervising side and not of any handling unit
    FOLLOWUP_PARTY = "followup_party"  # supervising side, the enterprise's liaison or the enterprise


@dataclass(frozen=True)
class Input:
    name: str
    required: bool = True


@dataclass(frozen=True)
class Transition:
    action: str
    source: State
    targets: Mapping[str, State]  # outcome -> target; "" for the single outcome
    roles: frozenset[Role]
    party: Party
    label: Promise
    inputs: tuple[Input, ...] = ()
    starts: frozenset[Clock] = field(default_factory=frozenset)
    stops: frozenset[Clock] = field(default_factory=frozenset)
    event: str = ""  # audit action name, e.g. "case.handed_over"

    @property
    def target(self) -> State:
        """The target of a single-outcome transition."""
        return self.targets[""]

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs if i.required)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)


def _t(action: str, sources: Iterable[State], targets: State | Mapping[str, State] | None,
       roles: Iterable[Role],
       party: Party, label: Promise, *, inputs: Iterable[Input] = (), starts: Iterable[Clock] = (),
       stops: Iterable[Clock] = (), event: str) -> list[Transition]:
    """Rows for `action` from each of `sources`; `targets=None` keeps the case in its state."""

    def outcomes(source: State) -> dict[str, State]:
        if targets is None:
            return {"": source}
        return {"": targets} if isinstance(targets, State) else dict(targets)

    return [
        Transition(action=action, source=source, targets=outcomes(source), roles=frozenset(roles), party=party,
                   label=label, inputs=tuple(inputs), starts=frozenset(starts), stops=frozenset(stops),
                   event=event)
        for source in sources
    ]


S = State
R = Role
C = Clock
REASON = Input("reason")
NOTE = Input("note", required=False)
TEAM = Input("team", required=False)  # colleagues accepting together with the actor
WORKING = (S.RECTIFYING, S.ON_LEDGER)
ALL_CLOCKS = frozenset(Clock)

# Who may register a case, by intake. Registration creates the case; it is not a transition.
REGISTER_ROLES = frozenset({R.SUPERVISOR, R.INSPECTOR, R.LIAISON, R.ENTERPRISE})

TRANSITIONS: list[Transition] = [
    *_t("assess", [S.REGISTERED], S.ASSESSING, [R.SUPERVISOR, R.INSPECTOR], Party.SUPERVISING,
        _("Start assessment"), inputs=[NOTE, Input("category", False), Input("mode", False)],
        event="case.assessment_started"),
    *_t("dismiss", [S.REGISTERED, S.ASSESSING], S.DISMISSED, [R.SUPERVISOR, R.INSPECTOR], Party.SUPERVISING,
        _("Dismiss"), inputs=[REASON], stops=ALL_CLOCKS, event="case.dismissed"),
    *_t("merge", [S.REGISTERED, S.ASSESSING], S.MERGED, [R.SUPERVISOR, R.INSPECTOR], Party.SUPERVISING,
        _("Merge into another case"), inputs=[Input("into"), REASON], stops=ALL_CLOCKS, event="case.merged"),
    *_t("propose_handover", [S.ASSESSING], S.AWAITING_APPROVAL, [R.SUPERVISOR, R.INSPECTOR], Party.SUPERVISING,
        _("Propose handover"),
        inputs=[Input("responsible_org"), Input("lead_org"), Input("co_orgs", False), Input("mode"),
                Input("deadline", False), Input("responsible_leader", False),
                Input("responsible_person", False), Input("goal", False), NOTE],
        event="case.handover_proposed"),
    *_t("approve", [S.AWAITING_APPROVAL], S.HANDED_OVER, [R.APPROVER], Party.APPROVING, _("Approve handover"),
        inputs=[NOTE], starts=[C.SIGN_FOR, C.DECLINE_WINDOW, C.COMPLETION], event="case.handed_over"),
    *_t("reject", [S.AWAITING_APPROVAL], S.ASSESSING, [R.APPROVER], Party.APPROVING, _("Reject proposal"),
        inputs=[REASON], event="case.handover_rejected"),
    *_t("sign_for", [S.HANDED_OVER], S.RECTIFYING, [R.UNIT_LEADER], Party.LEAD_UNIT, _("Sign for"),
        inputs=[NOTE], starts=[C.PROGRESS_REPORT], stops=[C.SIGN_FOR, C.DECLINE_WINDOW],
        event="case.signed_for"),
    *_t("decline", [S.HANDED_OVER], S.ASSESSING, [R.UNIT_LEADER], Party.LEAD_UNIT, _("Return the handover"),
        inputs=[REASON], stops=ALL_CLOCKS, event="case.declined"),
    *_t("sign_for_assignment", [S.HANDED_OVER, *WORKING], None, [R.UNIT_LEADER], Party.CO_UNIT,
        _("Sign for the co-handling part"), inputs=[NOTE], event="case.assignment_signed_for"),
    *_t("file_plan", WORKING, None, [R.UNIT_LEADER, R.HANDLER], Party.LEAD_UNIT,
        _("File the rectification plan"), inputs=[Input("items")], event="case.plan_filed"),
    *_t("report_progress", WORKING, None, [R.HANDLER, R.UNIT_LEADER], Party.ASSIGNED_UNIT,
        _("Report progress"), inputs=[Input("text"), Input("evidence", False)], starts=[C.PROGRESS_REPORT],
        event="case.progress_reported"),
    *_t("complete_assignment", WORKING, None, [R.UNIT_LEADER], Party.ASSIGNED_UNIT,
        _("Mark our part done"), inputs=[NOTE], event="case.assignment_completed"),
    *_t("request_extension", [S.RECTIFYING], None, [R.HANDLER, R.UNIT_LEADER], Party.LEAD_UNIT,
        _("Request an extension"), inputs=[Input("requested_deadline"), REASON],
        event="case.extension_requested"),
    *_t("decide_extension", [S.RECTIFYING], None, [R.APPROVER], Party.APPROVING,
        _("Decide on the extension"), inputs=[Input("granted"), NOTE], event="case.extension_decided"),
    *_t("put_on_ledger", [S.RECTIFYING], S.ON_LEDGER, [R.APPROVER, R.SUPERVISOR], Party.SUPERVISING,
        _("Keep on the ledger"), inputs=[Input("review_date"), REASON], starts=[C.LEDGER_REVIEW],
        stops=[C.COMPLETION], event="case.put_on_ledger"),
    *_t("resume", [S.ON_LEDGER], S.RECTIFYING, [R.APPROVER, R.SUPERVISOR], Party.SUPERVISING,
        _("Resume rectification"), inputs=[NOTE], starts=[C.COMPLETION, C.PROGRESS_REPORT],
        stops=[C.LEDGER_REVIEW], event="case.resumed"),
    *_t("submit_for_acceptance", WORKING, S.AWAITING_ACCEPTANCE, [R.UNIT_LEADER], Party.LEAD_UNIT,
        _("Submit for acceptance"), inputs=[Input("summary"), Input("institution_building", False)],
        stops=[C.PROGRESS_REPORT, C.COMPLETION, C.LEDGER_REVIEW], event="case.submitted_for_acceptance"),
    *_t("accept", [S.AWAITING_ACCEPTANCE], S.AWAITING_FOLLOWUP, [R.SUPERVISOR], Party.INDEPENDENT,
        _("Accept"), inputs=[Input("checklist"), Input("opinion"), TEAM], starts=[C.FOLLOWUP],
        event="case.accepted"),
    *_t("return_for_rework", [S.AWAITING_ACCEPTANCE], S.RECTIFYING, [R.SUPERVISOR], Party.INDEPENDENT,
        _("Return for rework"), inputs=[REASON, Input("checklist", False), TEAM],
        starts=[C.PROGRESS_REPORT, C.COMPLETION], event="case.returned_for_rework"),
    *_t("record_followup", [S.AWAITING_FOLLOWUP],
        {"satisfied": S.AWAITING_CLOSURE, "unsatisfied": S.RECTIFYING, "unreachable": S.AWAITING_FOLLOWUP},
        [R.SUPERVISOR, R.LIAISON, R.ENTERPRISE], Party.FOLLOWUP_PARTY, _("Record follow-up"),
        inputs=[Input("solved"), Input("satisfaction"), Input("channel"), NOTE, Input("override_reason", False)],
        stops=[C.FOLLOWUP], event="case.followup_recorded"),
    *_t("waive_followup", [S.AWAITING_FOLLOWUP], S.AWAITING_CLOSURE, [R.SUPERVISOR], Party.SUPERVISING,
        _("Waive follow-up"), inputs=[REASON], stops=[C.FOLLOWUP], event="case.followup_waived"),
    *_t("close", [S.AWAITING_CLOSURE], S.CLOSED, [R.SUPERVISOR], Party.SUPERVISING, _("Close (销号)"),
        inputs=[Input("opinion")], starts=[C.RECHECK], event="case.closed"),
    *_t("record_recheck", [S.CLOSED], {"held": S.CLOSED, "relapsed": S.RECTIFYING},
        [R.SUPERVISOR, R.INSPECTOR], Party.SUPERVISING, _("Record re-check"),
        inputs=[Input("held"), NOTE, Input("evidence", False)], stops=[C.RECHECK],
        event="case.rechecked"),
]

# Follow-up may be waived (with a reason) only after this many attempts that could not reach the enterprise.
UNREACHABLE_ATTEMPTS_BEFORE_WAIVER = 3

# A case sent back to rectification from follow-up (二次督办) or by a relapse restarts these clocks.
REOPEN_STARTS = frozenset({C.PROGRESS_REPORT, C.COMPLETION})


def clocks_started(transition: Transition, outcome: str = "") -> frozenset[Clock]:
    target = transition.targets[outcome]
    if target == S.RECTIFYING and transition.source in (S.AWAITING_FOLLOWUP, S.CLOSED):
        return transition.starts | REOPEN_STARTS
    if target == transition.source and transition.source in (S.AWAITING_FOLLOWUP,):
        return frozenset()
    return transition.starts


def clocks_stopped(transition: Transition, outcome: str = "") -> frozenset[Clock]:
    if transition.targets[outcome] == transition.source == S.AWAITING_FOLLOWUP:
        return frozenset()  # an unreachable enterprise: the follow-up clock keeps running
    return transition.stops

INPUT_LABELS: Mapping[str, Promise] = {
    "note": _("Note"),
    "reason": _("Reason"),
    "category": _("Category"),
    "mode": _("Rectification mode"),
    "into": _("Surviving case"),
    "responsible_org": _("Organisation bearing main responsibility"),
    "lead_org": _("Lead unit"),
    "co_orgs": _("Co-handling units"),
    "deadline": _("Rectification deadline"),
    "responsible_leader": _("Responsible leader"),
    "responsible_person": _("Responsible person"),
    "goal": _("Rectification goal"),
    "items": _("Rectification measures"),
    "text": _("Progress"),
    "evidence": _("Evidence"),
    "requested_deadline": _("Requested deadline"),
    "granted": _("Grant the extension?"),
    "review_date": _("Review date"),
    "summary": _("Summary of the rectification"),
    "institution_building": _("Rules and institutions built"),
    "checklist": _("Acceptance checklist"),
    "team": _("Acceptance team"),
    "opinion": _("Opinion"),
    "solved": _("Solved?"),
    "satisfaction": _("Satisfaction"),
    "channel": _("Channel"),
    "override_reason": _("Reason for proceeding despite the answer"),
    "held": _("Fix held"),
}


def input_label(name: str) -> str:
    return str(INPUT_LABELS.get(name, name))


def action_label(action: str) -> str:
    return next((str(t.label) for t in TRANSITIONS if t.action == action), action)


TABLE: Mapping[tuple[State, str], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


def transition_for(state: State | str, action: str) -> Transition | None:
    return TABLE.get((State(state), action))


def actions_from(state: State | str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == State(state)]


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram, generated from the table."""
    lines = ["stateDiagram-v2"]
    for t in TRANSITIONS:
        for outcome, target in t.targets.items():
            suffix = f" ({outcome})" if outcome else ""
            lines.append(f"    {t.source} --> {target}: {t.action}{suffix}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def markdown() -> str:
    """docs/workflow.md: the table and the diagram, generated (`taizhang workflow-doc`)."""
    rows = [
        "# The case lifecycle",
        "",
        "Generated from `taizhang/cases/workflow.py` by `taizhang workflow-doc`; do not edit by hand.",
        "",
        "| state | action | → target | roles | party | inputs (* required) | starts | stops |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        targets = ", ".join(f"{s} ({o})" if o else str(s) for o, s in t.targets.items())
        inputs = ", ".join(f"{i.name}{'*' if i.required else ''}" for i in t.inputs)
        rows.append(
            f"| {t.source} | {t.action} | {targets} | {', '.join(sorted(t.roles))} | {t.party} | {inputs} "
            f"| {', '.join(sorted(t.starts))} | {', '.join(sorted(t.stops))} |"
        )
    rules = [
        "",
        "Rules the services enforce beyond the table:",
        "",
        "- `accept` answers every item of the case's acceptance checklist (its category's, inherited from the "
        "nearest parent category, else the default set); nobody on the acceptance team belongs to a handling unit.",
        f"- `waive_followup` needs {UNREACHABLE_ATTEMPTS_BEFORE_WAIVER} follow-up attempts since the last "
        "acceptance that could not reach the enterprise.",
        "- `close` needs a passed acceptance and, since it, a satisfied follow-up, a supervisor's override or a "
        "waiver, however the case reached awaiting_closure.",
        "- A case kept on the ledger returns to rectifying by itself when its review date is reached (the "
        "sweeper; audit event `case.ledger_review_reached`).",
        "- After a reopening (二次督办, relapse) only evidence added since supports `submit_for_acceptance`.",
    ]
    return "\n".join([*rows, *rules, "", "```mermaid", mermaid().rstrip(), "```", ""])
