"""The sweeper: reminders, overdue flags and the three-level escalation ladder (三级贯通), applied in
set-based batches. No per-case timers: `sweep()` runs every minute (task `taizhang.sla.tasks.sweep_clocks`)
and in the foreground with `taizhang sweep --once`.

Outbox contract (topics and payloads; notifications deliver them)
-----------------------------------------------------------------
Every payload is a JSON object. Organisation ids are `orgs.Organisation` primary keys; the receiving
side picks the people (by role: unit_leader / handler of a target org, leaders of a parent org,
supervisors of the supervising org) at send time. Instants are ISO 8601 in Asia/Shanghai with offset.

Common keys of the `case.*` topics below:
    "case":            public case number, e.g. "CC-2026-0007"
    "clock":           "sign_for" | "progress_report" | "completion" | "followup" | "recheck" | "manual"
    "level":           0 reminder, 1 overdue (unit leader told), 2 parent leadership, 3 督办单
    "due_at":          the deadline the step belongs to (for a manual escalation: when it was made)
    "target_org_ids":  [int, ...] the organisations that must act or be told at this step
    "escalation":      `sla.Escalation` id (the row that makes the step happen once)

`case.reminder`   level 0, one working day (configurable) before the deadline; target = the obliged
                  unit (the lead unit; for sign-for the lead unit's assignment, or a co-handling unit's);
                  for the clocks "followup" and "recheck", the supervising organisation (its supervisors
                  are told).
`case.overdue`    level 1, at the deadline; target = the obliged unit (its unit leader is told).
                  A co-handling unit's own sign-for steps (clock "sign_for") add "assignment" (the
                  `cases.Assignment` id) and "role": "co"; "target_org_ids" = [the co-handling unit].
                  The clocks "followup" and "recheck": "target_org_ids" = [the supervising organisation].
`case.escalated`  level 2: target = the parent leadership (the responsible organisation, e.g. 净月区党工委,
                  or else the parent of the lead unit); extra key "response_due_at" (the leadership
                  must respond by then). Manual escalations to level 2 add "reason" and "actor" (user
                  id); their "clock" is "manual" and "due_at" is the moment of escalation.
`supervision_order.issued`   level 3 (instead of `case.escalated`, also for manual ones, which add
                  "reason" and "actor"): {"case", "order": "CC督〔2026〕7号", "order_id", "level": 3, "clock",
                  "due_at", "escalation",
                  "issuing_org_id", "target_org_ids" (the addressed units: lead unit and responsible
                  organisation), "reply_due_at"}
`supervision_order.overdue`  same keys as `.issued`, sent once when the reply deadline passes unanswered;
                  "target_org_ids" = addressed units + the issuing org (which must follow up).
`case.escalation_responded`  {"case", "escalation", "clock", "level": 2, "target_org_ids": [supervising org],
                  "actor", "late": bool} — the parent leadership recorded its required response.
`supervision_order.replied`  the keys of `.issued`, with "target_org_ids": [issuing org], plus "actor" and
                  "late": bool (answered after the reply deadline).

Decisions
---------
- Watched clocks: sign-for (the lead unit's), next progress report, completion. Ledger review (挂账) is
  not laddered: when a case kept on the ledger reaches its approved review date, it returns to rectifying
  by itself with fresh completion and progress deadlines (`sweep_ledger_reviews`; audit event and outbox
  topic `case.ledger_review_reached`, payload {"case", "state", "version", "review_due_at",
  "target_org_ids": [lead unit]}).
- The supervising side's own deadlines — follow-up (回访, `Case.followup_due_at`, while the case awaits
  follow-up; set again at each acceptance) and re-check (回头看, `Case.recheck_due_at`, while the case is
  closed; set again at each closure) — get a reminder (level 0, the clock's EscalationPolicy row or one
  working day ahead) and an overdue flag (level 1), addressed to the supervising organisation, and nothing
  more: there is no parent leadership or 督办单 above the supervising body for its own diary, and they do
  not raise `Case.escalation_level` (that level measures the units' lateness; the step columns are the flag).
  Recording the follow-up (or waiving it) or the re-check stops the clock, so nothing more is sent.
- Each co-handling unit's sign-for deadline (`Assignment.sign_for_due_at`, set at approval) is watched
  too, per assignment, while the assignment is pending and the case is handed over or being worked on:
  a reminder (level 0, the sign-for policy's `remind_workdays_before`) and an overdue flag (level 1) to
  that unit, nothing more. Levels 2 and 3 stay with the case's own ladders: the parent leadership and
  the 督办单 answer for the case (lead unit and responsible organisation), and a co-handling unit's late
  sign-for does not raise `Case.escalation_level` either (the assignment's `sign_for_step` is its flag).
- Reminders fire only on working days (a deadline after 春节 is reminded of on the last working day
  before it, 调休 Saturdays included) and never after the deadline has passed. Overdue (level 1) is a
  fact and fires at the deadline, whatever the day. Levels 2 and 3 fire on the working day after N, and
  N + M, whole working days have passed since the deadline's day.
- A missing progress report and a missed completion deadline climb separate ladders (the step columns
  and Escalation rows are per clock); `Case.escalation_level` is the highest level either reached, is
  only raised by the sweeper (never bumps `Case.version`: a reminder must not make users' forms stale),
  and is reset to 0 by the services when the case leaves handed_over / rectifying / on_ledger.
- While an extension request waits (`Case.clock_paused_at`), the completion clock neither reminds nor
  escalates. Granted: the requested deadline, a fresh ladder. Refused: the deadline moves on by the
  working days the request waited if it was asked before the deadline (the unit is not charged for the
  decision's delay); a request made after the deadline shifts nothing and the ladder resumes where it was.

Exactly-once
------------
Each clock has a ladder-step column on the case row (`Case.sign_for_step`, `progress_step`,
`completion_step`: the highest step applied to the clock's current run; the services clear it when the
clock gets a new deadline). A batch of due rows is claimed by one conditional UPDATE that moves that
column (and raises `Case.escalation_level`) only where it still stands on the rung below — the condition
is checked again on the row being updated, and on PostgreSQL rows another sweeper holds are skipped — so
two sweepers running at once never act twice, and never skip a rung: the sweeper that claims a rung goes
on to the next. A co-handling unit's sign-for is claimed the same way on its assignment row
(`Assignment.sign_for_step`, which counts only while `sign_for_step_due_at` equals the assignment's current
deadline, so a re-approved handover starts a fresh ladder without the services having to clear it). The
follow-up and re-check clocks likewise on the case row (`Case.followup_step` / `followup_step_due_at`,
`Case.recheck_step` / `recheck_step_due_at`): a new acceptance or closure (a new deadline) starts afresh.
The `sla.Escalation` rows, audit events and outbox messages
of a batch are written in the claim's transaction: a crashed sweep loses nothing committed, and the
next run (a minute later) redoes its uncommitted batch.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from taizhang.audit.bulk import append_events
from taizhang.audit.services import SYSTEM
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import WORKING, Clock, State
from taizhang.core import clock
from taizhang.core.models import NumberSequence, OutboxMessage
from taizhang.orgs.models import Organisation
from taizhang.search.indexing import index_cases
from taizhang.sla import deadlines, ladder
from taizhang.sla.models import Escalation, SupervisionOrder

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
Level = Escalation.Level

# Audit action and outbox topic of each step.
AUDIT_ACTIONS: dict[int, str] = {
    Level.REMINDER: "case.reminded",
    Level.OVERDUE: "case.overdue",
    Level.LEADERSHIP: "case.escalated",
    Level.SUPERVISION_ORDER: "supervision_order.issued",
}
TOPICS: dict[int, str] = {
    Level.REMINDER: "case.reminder",
    Level.OVERDUE: "case.overdue",
    Level.LEADERSHIP: "case.escalated",
    Level.SUPERVISION_ORDER: "supervision_order.issued",
}


@dataclass(frozen=True)
class SweptClock:
    """A clock the sweeper watches: its column, the states in which it runs and the statuses of the lead
    unit's assignment (the obliged unit) while it does."""

    clock: Clock
    column: str
    step_column: str  # Case.<clock>_step: the highest ladder step applied to the current run
    states: tuple[State, ...]
    lead_statuses: tuple[str, ...]
    pausable: bool = False


_ACTIVE = (Assignment.Status.PENDING, Assignment.Status.SIGNED, Assignment.Status.DONE)
SWEPT: tuple[SweptClock, ...] = (
    SweptClock(Clock.SIGN_FOR, "sign_for_due_at", "sign_for_step", (State.HANDED_OVER,),
               (Assignment.Status.PENDING,)),
    SweptClock(Clock.PROGRESS_REPORT, "next_report_due_at", "progress_step", (State.RECTIFYING, State.ON_LEDGER),
               _ACTIVE),
    SweptClock(Clock.COMPLETION, "completion_due_at", "completion_step", (State.HANDED_OVER, State.RECTIFYING),
               _ACTIVE, pausable=True),
)


@dataclass
class SweepResult:
    reminders: int = 0
    overdue: int = 0
    leadership: int = 0
    supervision_orders: int = 0
    orders_overdue: int = 0
    reactivated: int = 0  # cases kept on the ledger whose review date was reached
    batches: int = 0
    passes: int = 0
    by_clock: dict[str, int] = field(default_factory=dict)

    @property
    def acted(self) -> int:
        return (self.reminders + self.overdue + self.leadership + self.supervision_orders + self.orders_overdue
                + self.reactivated)

    def add(self, level: int, swept_clock: str, count: int) -> None:
        name = {0: "reminders", 1: "overdue", 2: "leadership", 3: "supervision_orders"}[level]
        setattr(self, name, getattr(self, name) + count)
        self.by_clock[swept_clock] = self.by_clock.get(swept_clock, 0) + count


# --- the due rows, as SQL --------------------------------------------------------------------------

def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _dt(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


@dataclass(frozen=True)
class Step:
    level: int
    condition: str  # on the clock column `c.<col>`; %s placeholders
    params: tuple[Any, ...]
    response_due_at: dt.datetime | None = None


def steps_for(policy: ladder.Policy, now: dt.datetime) -> list[Step]:
    """The ladder's steps for one clock at `now`, lowest level first."""
    steps = []
    horizon = ladder.due_within(now, policy.remind_workdays_before)
    if horizon is not None:
        steps.append(Step(Level.REMINDER, "{col} >= %s AND {col} <= %s", (_dt(now), _dt(horizon))))
    steps.append(Step(Level.OVERDUE, "{col} < %s", (_dt(now),)))
    level2 = ladder.overdue_since_before(now, policy.level2_after_workdays)
    steps.append(Step(Level.LEADERSHIP, "{col} < %s", (_dt(level2),),
                      response_due_at=ladder.workdays_from(now, policy.response_workdays)))
    level3 = ladder.overdue_since_before(now, policy.level2_after_workdays + policy.level3_after_workdays)
    steps.append(Step(Level.SUPERVISION_ORDER, "{col} < %s", (_dt(level3),)))
    return steps


def _due_where(swept: SweptClock, step: Step, alias: str) -> tuple[str, list[Any]]:
    """The conditions on the case row (`alias`) that make `step` due: state, deadline, not yet applied."""
    col = f"{alias}.{_q(swept.column)}"
    ladder_step = f"{alias}.{_q(swept.step_column)}"
    states = ", ".join(["%s"] * len(swept.states))
    paused = f" AND {alias}.{_q('clock_paused_at')} IS NULL" if swept.pausable else ""
    # The ladder is climbed one rung at a time: a step is due only right after the one below it (the
    # reminder is optional). Whoever claims a step goes on to the next (and `sweep` repeats its pass while it
    # acts), so parallel sweepers never skip one.
    previous_params: list[int] = []
    if step.level == Level.REMINDER:
        previous = f"{ladder_step} IS NULL"
    elif step.level == Level.OVERDUE:
        previous, previous_params = f"({ladder_step} IS NULL OR {ladder_step} = %s)", [int(Level.REMINDER)]
    else:
        previous, previous_params = f"{ladder_step} = %s", [step.level - 1]
    sql = f"{alias}.{_q('state')} IN ({states}) AND {step.condition.format(col=col)}{paused} AND {previous}"
    return sql, [*swept.states, *step.params, *previous_params]


def due_rows_sql(swept: SweptClock, step: Step, *, columns: str = "") -> tuple[str, list[Any]]:
    """SELECT of the cases due for `step` of `swept`'s ladder that have a lead unit in the right status,
    oldest deadline first, without a LIMIT. The benchmark runs it bare as the baseline."""
    col = f"c.{_q(swept.column)}"
    statuses = ", ".join(["%s"] * len(swept.lead_statuses))
    where, where_params = _due_where(swept, step, "c")
    columns = columns or f"c.{_q('id')}, {col}, a.{_q('org_id')}"
    sql = (
        f"SELECT {columns} FROM {_q(Case._meta.db_table)} c "
        f"JOIN {_q(Assignment._meta.db_table)} a ON a.{_q('case_id')} = c.{_q('id')} "
        f"AND a.{_q('role')} = %s AND a.{_q('status')} IN ({statuses}) "
        f"WHERE {where} ORDER BY {col}, c.{_q('id')}"
    )
    return sql, [Assignment.Role.LEAD, *swept.lead_statuses, *where_params]


def _claim_sql(swept: SweptClock, step: Step, limit: int) -> tuple[str, list[Any]]:
    """One conditional UPDATE that claims a batch of due rows by raising the clock's ladder step on the case
    row (and the case's escalation level with it). The condition is checked again on the row it updates,
    so of two sweepers only one claims a row; on PostgreSQL the batch skips rows another transaction holds.
    Returns the claimed case ids."""
    select, params = due_rows_sql(swept, step, columns=f"c.{_q('id')}")
    features = connection.features
    lock = (" FOR UPDATE OF c SKIP LOCKED"
            if features.has_select_for_update_skip_locked and features.has_select_for_update_of else "")
    where, where_params = _due_where(swept, step, "t")
    table, level = _q(Case._meta.db_table), _q("escalation_level")
    raise_level = (f", {level} = CASE WHEN t.{level} < %s THEN %s ELSE t.{level} END"
                   if step.level >= Level.OVERDUE else "")
    sql = (f"UPDATE {table} AS t SET {_q(swept.step_column)} = %s{raise_level} "
           f"WHERE t.{_q('id')} IN ({select} LIMIT %s{lock}) AND {where} RETURNING {_q('id')}")
    level_params = [step.level, step.level] if raise_level else []
    return sql, [step.level, *level_params, *params, limit, *where_params]


# --- acting on claimed rows ------------------------------------------------------------------------

def _iso(value: dt.datetime | None) -> str | None:
    """An instant for a payload, in the project's time zone (e.g. 2026-03-04T23:59:59.999999+08:00)."""
    return timezone.localtime(value).isoformat() if value else None


def order_number(prefix: str, year: int, serial: int) -> str:
    """A 督办单 number, e.g. CC督〔2026〕7号: the issuing body's prefix, the year, its own yearly serial."""
    return f"{prefix}督〔{year}〕{serial}号"


def allocate_serials(prefix: str, year: int, count: int) -> range:
    """`count` consecutive serials of the issuing body's yearly 督办单 sequence, drawn with one UPDATE that
    holds the counter row's lock until the transaction ends (as core.numbering does one at a time)."""
    key = f"{prefix}督"
    with transaction.atomic():
        if not NumberSequence.objects.filter(prefix=key, year=year).update(last=F("last") + count):
            try:
                with transaction.atomic():
                    NumberSequence.objects.create(prefix=key, year=year, last=count)
            except IntegrityError:
                NumberSequence.objects.filter(prefix=key, year=year).update(last=F("last") + count)
        last = NumberSequence.objects.values_list("last", flat=True).get(prefix=key, year=year)
    return range(last - count + 1, last + 1)


def issue_orders(escalations: Sequence[Escalation], cases: dict[int, Case], *, now: dt.datetime,
                 reply_workdays: int) -> dict[int, SupervisionOrder]:
    """The 督办单 of level-3 escalations (inside the caller's transaction), numbered per issuing body —
    the case's supervising organisation — and year; escalation id -> order."""
    year, reply_due = timezone.localdate(now).year, ladder.workdays_from(now, reply_workdays)
    by_issuer: dict[int, list[Escalation]] = {}
    for escalation in escalations:
        by_issuer.setdefault(cases[escalation.case_id].supervising_org_id, []).append(escalation)
    orders = []
    for group in by_issuer.values():
        issuing = cases[group[0].case_id].supervising_org  # registration requires a number prefix
        for escalation, serial in zip(group, allocate_serials(issuing.code, year, len(group)), strict=True):
            case = cases[escalation.case_id]
            orders.append(SupervisionOrder(
                number=order_number(issuing.code, year, serial), case=case, escalation=escalation,
                issuing_org=issuing, addressed_org_id=escalation.target_org_id or case.responsible_org_id or issuing.pk,
                issued_at=now, reply_due_at=reply_due))
    return {order.escalation_id: order for order in SupervisionOrder.objects.bulk_create(orders)}


def issue_order(escalation: Escalation, *, now: dt.datetime, reply_workdays: int, case: Case) -> SupervisionOrder:
    """The 督办单 of one level-3 escalation."""
    return issue_orders([escalation], {case.pk: case}, now=now, reply_workdays=reply_workdays)[escalation.pk]


def enqueue_many(messages: Sequence[tuple[str, dict[str, Any]]], now: dt.datetime) -> None:
    """Outbox rows for a batch in one INSERT; the worker is woken once after commit."""
    if not messages:
        return
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(topic=topic, payload=payload, created_at=now, available_at=now) for topic, payload in messages])
    transaction.on_commit(_wake_worker)


def _wake_worker() -> None:
    from taizhang.core.tasks import deliver_outbox

    try:
        deliver_outbox.enqueue()
    except Exception:  # the periodic delivery pass picks the rows up later
        logger.exception("could not enqueue outbox delivery")


@dataclass(frozen=True)
class Claimed:
    """What the messages of one claimed step need, read without building model instances."""

    escalation: int
    clock: str
    level: int
    due_at: dt.datetime
    target_org_id: int | None
    response_due_at: dt.datetime | None
    case_number: str
    case_title: str
    responsible_org_id: int | None

    @classmethod
    def of(cls, escalation: Escalation, case: Case) -> "Claimed":
        return cls(escalation.pk, escalation.clock, escalation.level, escalation.due_at, escalation.target_org_id,
                   escalation.response_due_at, case.number, case.title, case.responsible_org_id)


def step_message(row: Claimed, *, order: SupervisionOrder | None = None,
                 extra: dict[str, Any] | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(topic, outbox payload, audit `after`) of one claimed step."""
    targets = [row.target_org_id] if row.target_org_id else []
    if row.level == Level.SUPERVISION_ORDER and row.responsible_org_id and row.responsible_org_id not in targets:
        targets.append(row.responsible_org_id)
    payload: dict[str, Any] = {
        "case": row.case_number, "clock": row.clock, "level": row.level, "due_at": _iso(row.due_at),
        "target_org_ids": targets, "escalation": row.escalation,
    }
    if row.response_due_at:
        payload["response_due_at"] = _iso(row.response_due_at)
    if order is not None:
        payload.update(order=order.number, order_id=order.pk, issuing_org_id=order.issuing_org_id,
                       reply_due_at=_iso(order.reply_due_at))
    payload.update(extra or {})
    after = {k: v for k, v in payload.items() if k != "case"}
    return TOPICS[row.level], payload, after


def _claimed_rows(case_ids: Sequence[int], swept: SweptClock, step: Step, now: dt.datetime) -> list[Escalation]:
    """The Escalation rows of claimed cases: the obliged unit (level 0, 1, 3) or the parent leadership (2)."""
    cases = {row[0]: row for row in Case.objects.filter(pk__in=case_ids).values_list(
        "pk", swept.column, "responsible_org_id")}
    leads = dict(Assignment.objects.filter(case_id__in=case_ids, role=Assignment.Role.LEAD,
                                           status__in=swept.lead_statuses)
                 .values_list("case_id", "org_id"))
    parents = dict(Organisation.objects.filter(pk__in=set(leads.values())).values_list("pk", "parent_id"))
    response_due = step.response_due_at
    rows = []
    for case_id in sorted(case_ids):
        _, due_at, responsible = cases[case_id]
        lead = leads.get(case_id)
        target = lead
        if step.level == Level.LEADERSHIP and responsible and responsible != lead:
            target = responsible
        elif step.level == Level.LEADERSHIP and lead:
            target = parents.get(lead) or lead
        rows.append(Escalation(case_id=case_id, clock=swept.clock.value, level=step.level, due_at=due_at,
                               target_org_id=target, created_at=now, response_due_at=response_due))
    return Escalation.objects.bulk_create(rows)


def _act(case_ids: Sequence[int], swept: SweptClock, step: Step, policy: ladder.Policy, now: dt.datetime) -> None:
    escalations = _claimed_rows(case_ids, swept, step, now)
    cases = {pk: (number, title, responsible) for pk, number, title, responsible in
             Case.objects.filter(pk__in=case_ids).values_list("pk", "number", "title", "responsible_org_id")}
    orders: dict[int, SupervisionOrder] = {}
    if step.level == Level.SUPERVISION_ORDER:
        full = Case.objects.select_related("supervising_org").in_bulk(case_ids)
        orders = issue_orders(escalations, full, now=now, reply_workdays=policy.order_reply_workdays)
    messages, events = [], []
    for escalation in escalations:
        number, title, responsible = cases[escalation.case_id]
        row = Claimed(escalation.pk, escalation.clock, escalation.level, escalation.due_at,
                      escalation.target_org_id, escalation.response_due_at, number, title, responsible)
        topic, payload, after = step_message(row, order=orders.get(escalation.pk))
        messages.append((topic, payload))
        events.append({"actor": SYSTEM, "action": AUDIT_ACTIONS[step.level], "object_type": "case",
                       "object_id": number, "object_repr": title, "after": after})
    enqueue_many(messages, now)
    append_events(events)  # last: the audit chain's head stays locked only briefly


def _claim_in_batches(claim: tuple[str, list[Any]], act: Callable[[list[int]], None], *, batch_size: int,
                      result: SweepResult, level: int, clock: str) -> None:
    """Run one claiming UPDATE … RETURNING id per transaction and act on what it claimed, until a batch
    comes back short: every claimed row is acted on in the transaction that claimed it."""
    sql, params = claim
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                ids = [row[0] for row in cursor.fetchall()]
            if ids:
                act(ids)
        result.batches += 1
        result.add(level, clock, len(ids))
        if len(ids) < batch_size:
            return


def _sweep_step(swept: SweptClock, step: Step, policy: ladder.Policy, now: dt.datetime, batch_size: int,
                result: SweepResult) -> None:
    _claim_in_batches(_claim_sql(swept, step, batch_size),
                      partial(_act, swept=swept, step=step, policy=policy, now=now),
                      batch_size=batch_size, result=result, level=step.level, clock=swept.clock.value)


# --- co-handling units' own sign-for deadlines ---------------------------------------------------------

CO_SIGN_FOR_STATES: tuple[State, ...] = (State.HANDED_OVER, *WORKING)  # where `sign_for_assignment` is allowed
CO_SIGN_FOR_LEVELS = (Level.REMINDER, Level.OVERDUE)


def _co_due_where(step: Step, alias: str) -> tuple[str, list[Any]]:
    """The conditions on the assignment row (`alias`) that make `step` of its sign-for ladder due. A step
    recorded for another deadline (an earlier handover of the same unit) counts as none."""
    col = f"{alias}.{_q('sign_for_due_at')}"
    ladder_step, step_due = f"{alias}.{_q('sign_for_step')}", f"{alias}.{_q('sign_for_step_due_at')}"
    fresh = f"({ladder_step} IS NULL OR {step_due} IS NULL OR {step_due} <> {col})"
    previous, previous_params = fresh, []
    if step.level == Level.OVERDUE:
        previous, previous_params = f"({fresh} OR {ladder_step} = %s)", [int(Level.REMINDER)]
    sql = (f"{alias}.{_q('role')} = %s AND {alias}.{_q('status')} = %s "
           f"AND {step.condition.format(col=col)} AND {previous}")
    return sql, [Assignment.Role.CO, Assignment.Status.PENDING, *step.params, *previous_params]


def co_due_rows_sql(step: Step, *, columns: str = "") -> tuple[str, list[Any]]:
    """SELECT of the co-handling assignments due for `step` of their sign-for ladder, oldest deadline first."""
    where, where_params = _co_due_where(step, "a")
    states = ", ".join(["%s"] * len(CO_SIGN_FOR_STATES))
    columns = columns or f"a.{_q('id')}, a.{_q('sign_for_due_at')}, a.{_q('org_id')}"
    sql = (f"SELECT {columns} FROM {_q(Assignment._meta.db_table)} a "
           f"JOIN {_q(Case._meta.db_table)} c ON c.{_q('id')} = a.{_q('case_id')} AND c.{_q('state')} IN ({states}) "
           f"WHERE {where} ORDER BY a.{_q('sign_for_due_at')}, a.{_q('id')}")
    return sql, [*CO_SIGN_FOR_STATES, *where_params]


def _co_claim_sql(step: Step, limit: int) -> tuple[str, list[Any]]:
    """One conditional UPDATE that claims a batch of due co-handling assignments by moving their ladder step
    (re-checked on the row it updates; on PostgreSQL rows another sweeper holds are skipped). Returns the
    claimed assignment ids."""
    select, params = co_due_rows_sql(step, columns=f"a.{_q('id')}")
    features = connection.features
    lock = (" FOR UPDATE OF a SKIP LOCKED"
            if features.has_select_for_update_skip_locked and features.has_select_for_update_of else "")
    where, where_params = _co_due_where(step, "t")
    sql = (f"UPDATE {_q(Assignment._meta.db_table)} AS t SET {_q('sign_for_step')} = %s, "
           f"{_q('sign_for_step_due_at')} = t.{_q('sign_for_due_at')} "
           f"WHERE t.{_q('id')} IN ({select} LIMIT %s{lock}) AND {where} RETURNING {_q('id')}")
    return sql, [step.level, *params, limit, *where_params]


def _act_co(assignment_ids: Sequence[int], step: Step, now: dt.datetime) -> None:
    """Escalation row, outbox message and audit event (object: the case) of each claimed co-handling step."""
    claimed: list[tuple[int, int, int, str, dt.datetime]] = []
    for pk, case_id, org_id, org_name, due_at in (Assignment.objects.filter(pk__in=assignment_ids).order_by("pk")
                                                  .values_list("pk", "case_id", "org_id", "org__name",
                                                               "sign_for_due_at")):
        if due_at is not None:  # always: the claim required a deadline
            claimed.append((pk, case_id, org_id, org_name, due_at))
    case_ids = {row[1] for row in claimed}
    cases = {pk: (number, title, responsible) for pk, number, title, responsible in
             Case.objects.filter(pk__in=case_ids).values_list("pk", "number", "title", "responsible_org_id")}
    escalations = Escalation.objects.bulk_create([
        Escalation(case_id=case_id, clock=Clock.SIGN_FOR.value, level=step.level, due_at=due_at,
                   target_org_id=org_id, created_at=now)
        for _, case_id, org_id, _, due_at in claimed])
    messages, events = [], []
    for (assignment, case_id, org_id, org_name, _), escalation in zip(claimed, escalations, strict=True):
        number, title, responsible = cases[case_id]
        row = Claimed(escalation.pk, escalation.clock, escalation.level, escalation.due_at, org_id, None,
                      number, title, responsible)
        topic, payload, after = step_message(row, extra={"assignment": assignment, "role": Assignment.Role.CO.value})
        messages.append((topic, payload))
        events.append({"actor": SYSTEM, "action": AUDIT_ACTIONS[step.level], "object_type": "case",
                       "object_id": number, "object_repr": title,
                       "after": {**after, "org": org_id, "org_name": org_name}})
    enqueue_many(messages, now)
    append_events(events)


def sweep_co_sign_for(policy: ladder.Policy, now: dt.datetime, batch_size: int, result: SweepResult) -> None:
    """Reminder and overdue flag of every pending co-handling assignment's own sign-for deadline, in
    claimed batches (levels 0 and 1 only; see Decisions)."""
    for step in steps_for(policy, now):
        if step.level not in CO_SIGN_FOR_LEVELS:
            continue
        _claim_in_batches(_co_claim_sql(step, batch_size), partial(_act_co, step=step, now=now),
                          batch_size=batch_size, result=result, level=step.level, clock="sign_for_co")


# --- the supervising side's own clocks: follow-up (回访) and re-check (回头看) ------------------------------

@dataclass(frozen=True)
class SupervisingClock:
    """A deadline the supervising organisation itself must meet: reminded of and flagged overdue (levels 0
    and 1 only) to that organisation, claimed on the case row's step columns."""

    clock: Clock
    column: str
    step_column: str  # Case.<clock>_step: 0 reminded, 1 flagged overdue
    step_due_column: str  # Case.<clock>_step_due_at: the deadline the step was applied to
    state: State


SUPERVISING_CLOCKS: tuple[SupervisingClock, ...] = (
    SupervisingClock(Clock.FOLLOWUP, "followup_due_at", "followup_step", "followup_step_due_at",
                     State.AWAITING_FOLLOWUP),
    SupervisingClock(Clock.RECHECK, "recheck_due_at", "recheck_step", "recheck_step_due_at", State.CLOSED),
)
SUPERVISING_LEVELS = (Level.REMINDER, Level.OVERDUE)
# Remind one working day ahead (a configured EscalationPolicy row for the clock overrides it).
SUPERVISING_POLICY = ladder.Policy(remind_workdays_before=1)


def _supervising_due_where(watched: SupervisingClock, step: Step, alias: str) -> tuple[str, list[Any]]:
    """The conditions on the case row (`alias`) that make `step` of a supervising clock due. A step recorded
    for another deadline (an earlier acceptance or closure of the same case) counts as none."""
    col = f"{alias}.{_q(watched.column)}"
    ladder_step, step_due = f"{alias}.{_q(watched.step_column)}", f"{alias}.{_q(watched.step_due_column)}"
    fresh = f"({ladder_step} IS NULL OR {step_due} IS NULL OR {step_due} <> {col})"
    previous, previous_params = fresh, []
    if step.level == Level.OVERDUE:
        previous, previous_params = f"({fresh} OR {ladder_step} = %s)", [int(Level.REMINDER)]
    sql = f"{alias}.{_q('state')} = %s AND {step.condition.format(col=col)} AND {previous}"
    return sql, [watched.state.value, *step.params, *previous_params]


def supervising_due_rows_sql(watched: SupervisingClock, step: Step, *, columns: str = "") -> tuple[str, list[Any]]:
    """SELECT of the cases due for `step` of a supervising clock, oldest deadline first."""
    where, where_params = _supervising_due_where(watched, step, "c")
    col = f"c.{_q(watched.column)}"
    columns = columns or f"c.{_q('id')}, {col}, c.{_q('supervising_org_id')}"
    sql = (f"SELECT {columns} FROM {_q(Case._meta.db_table)} c "
           f"WHERE {where} ORDER BY {col}, c.{_q('id')}")
    return sql, where_params


def _supervising_claim_sql(watched: SupervisingClock, step: Step, limit: int) -> tuple[str, list[Any]]:
    """One conditional UPDATE that claims a batch of due cases by moving the clock's step column (re-checked
    on the row it updates; on PostgreSQL rows another sweeper holds are skipped). `Case.escalation_level`
    and `Case.version` are left alone. Returns the claimed case ids."""
    select, params = supervising_due_rows_sql(watched, step, columns=f"c.{_q('id')}")
    features = connection.features
    lock = (" FOR UPDATE OF c SKIP LOCKED"
            if features.has_select_for_update_skip_locked and features.has_select_for_update_of else "")
    where, where_params = _supervising_due_where(watched, step, "t")
    sql = (f"UPDATE {_q(Case._meta.db_table)} AS t SET {_q(watched.step_column)} = %s, "
           f"{_q(watched.step_due_column)} = t.{_q(watched.column)} "
           f"WHERE t.{_q('id')} IN ({select} LIMIT %s{lock}) AND {where} RETURNING {_q('id')}")
    return sql, [step.level, *params, limit, *where_params]


def _act_supervising(case_ids: Sequence[int], watched: SupervisingClock, step: Step, now: dt.datetime) -> None:
    """Escalation row (target: the supervising organisation), outbox message and audit event of each claimed
    step of a supervising clock."""
    claimed = [row for row in Case.objects.filter(pk__in=case_ids).order_by("pk").values_list(
        "pk", "number", "title", "responsible_org_id", "supervising_org_id", watched.column)
        if row[5] is not None]  # always: the claim required a deadline
    escalations = Escalation.objects.bulk_create([
        Escalation(case_id=pk, clock=watched.clock.value, level=step.level, due_at=due_at,
                   target_org_id=supervising, created_at=now)
        for pk, _, _, _, supervising, due_at in claimed])
    messages, events = [], []
    for (_, number, title, responsible, supervising, _), escalation in zip(claimed, escalations, strict=True):
        row = Claimed(escalation.pk, escalation.clock, escalation.level, escalation.due_at, supervising, None,
                      number, title, responsible)
        topic, payload, after = step_message(row)
        messages.append((topic, payload))
        events.append({"actor": SYSTEM, "action": AUDIT_ACTIONS[step.level], "object_type": "case",
                       "object_id": number, "object_repr": title, "after": after})
    enqueue_many(messages, now)
    append_events(events)


def sweep_supervising(watched: SupervisingClock, policy: ladder.Policy, now: dt.datetime, batch_size: int,
                      result: SweepResult) -> None:
    """Reminder and overdue flag of one supervising clock, in claimed batches (levels 0 and 1 only)."""
    for step in steps_for(policy, now):
        if step.level not in SUPERVISING_LEVELS:
            continue
        _claim_in_batches(_supervising_claim_sql(watched, step, batch_size),
                          partial(_act_supervising, watched=watched, step=step, now=now),
                          batch_size=batch_size, result=result, level=step.level, clock=watched.clock.value)


# --- 挂账: a case kept on the ledger returns to rectifying on its review date -------------------------

def _ledger_review_claim_sql(now: dt.datetime, limit: int) -> tuple[str, list[Any]]:
    """One compare-and-swap UPDATE that moves a batch of cases whose review day has come from on_ledger to
    rectifying (version + 1, review date cleared); the condition is checked again on each row it updates, and
    on PostgreSQL rows another transaction holds are skipped. Returns (id, new version, review date)."""
    table, state, due = _q(Case._meta.db_table), _q("state"), _q("ledger_review_due_at")
    features = connection.features
    lock = (" FOR UPDATE SKIP LOCKED" if features.has_select_for_update_skip_locked else "")
    reached = deadlines.end_of_day(timezone.localdate(now))
    where = f"{state} = %s AND {due} <= %s"
    sql = (f"UPDATE {table} SET {state} = %s, {_q('version')} = {_q('version')} + 1, {_q('updated_at')} = %s, "
           f"{due} = NULL WHERE {_q('id')} IN (SELECT {_q('id')} FROM {table} WHERE {where} ORDER BY {due}, "
           f"{_q('id')} LIMIT %s{lock}) AND {where} RETURNING {_q('id')}, {_q('version')}")
    params = [State.ON_LEDGER.value, _dt(reached)]
    return sql, [State.RECTIFYING.value, _dt(now), *params, limit, *params]


def _reactivate(claimed: Sequence[tuple[int, int]], now: dt.datetime) -> None:
    """Fresh completion and progress-report deadlines for the reactivated cases (one UPDATE per category and
    mode), their search documents, audit events and outbox messages."""
    versions = dict(claimed)
    rows = list(Case.objects.filter(pk__in=versions).order_by("pk").values_list(
        "pk", "number", "title", "category__path", "mode"))
    groups: dict[tuple[str | None, str], list[int]] = {}
    for pk, _number, _title, path, mode in rows:
        groups.setdefault((path, mode), []).append(pk)
    due: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for (category_path, mode), ids in groups.items():
        category_ids = [int(part) for part in (category_path or "").strip("/").split("/") if part]
        completion = deadlines.deadline(Clock.COMPLETION, start=now, category_ids=category_ids, mode=mode)
        report = deadlines.deadline(Clock.PROGRESS_REPORT, start=now, category_ids=category_ids, mode=mode)
        Case.objects.filter(pk__in=ids).update(
            completion_due_at=completion, deadline_on=deadlines.local_date(completion), completion_step=None,
            next_report_due_at=report, progress_step=None, clock_paused_at=None)
        due.update(dict.fromkeys(ids, (completion, report)))
    leads = dict(Assignment.objects.filter(case_id__in=versions, role=Assignment.Role.LEAD, status__in=_ACTIVE)
                 .values_list("case_id", "org_id"))
    index_cases(list(versions))
    messages, events = [], []
    for pk, number, title, _path, _mode in rows:
        completion, report = due[pk]
        payload = {"case": number, "state": State.RECTIFYING.value, "version": versions[pk],
                   "completion_due_at": _iso(completion), "target_org_ids": [leads[pk]] if pk in leads else []}
        messages.append(("case.ledger_review_reached", payload))
        events.append({"actor": SYSTEM, "action": "case.ledger_review_reached", "object_type": "case",
                       "object_id": number, "object_repr": title,
                       "before": {"state": State.ON_LEDGER.value, "version": versions[pk] - 1},
                       "after": {"state": State.RECTIFYING.value, "version": versions[pk],
                                 "completion_due_at": _iso(completion), "next_report_due_at": _iso(report)}})
    enqueue_many(messages, now)
    append_events(events)


def sweep_ledger_reviews(now: dt.datetime, batch_size: int, result: SweepResult) -> None:
    """Reactivate, in claimed batches, every case kept on the ledger whose review date has come."""
    sql, params = _ledger_review_claim_sql(now, batch_size)
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                claimed = [(row[0], row[1]) for row in cursor.fetchall()]
            if claimed:
                _reactivate(claimed, now)
        result.batches += 1
        result.reactivated += len(claimed)
        if len(claimed) < batch_size:
            return


def sweep_orders(now: dt.datetime, batch_size: int, result: SweepResult) -> None:
    """Unanswered 督办单 past their reply deadline: marked overdue once (a conditional UPDATE), told again."""
    table = _q(SupervisionOrder._meta.db_table)
    pending = f"{_q('replied_at')} IS NULL AND {_q('overdue_at')} IS NULL"
    sql = (f"UPDATE {table} SET {_q('overdue_at')} = %s WHERE {pending} AND {_q('id')} IN "
           f"(SELECT {_q('id')} FROM {table} WHERE {pending} AND {_q('reply_due_at')} < %s "
           f"ORDER BY {_q('reply_due_at')} LIMIT %s) RETURNING {_q('id')}")
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [_dt(now), _dt(now), batch_size])
                ids = [row[0] for row in cursor.fetchall()]
            orders = list(SupervisionOrder.objects.filter(pk__in=ids).select_related("case", "escalation")
                          .order_by("pk"))
            messages, events = [], []
            for order in orders:
                payload = order_payload(order)
                payload["target_org_ids"] = [*payload["target_org_ids"], order.issuing_org_id]
                messages.append(("supervision_order.overdue", payload))
                events.append({"actor": SYSTEM, "action": "supervision_order.overdue", "object_type": "case",
                               "object_id": order.case.number, "object_repr": order.case.title,
                               "after": {k: v for k, v in payload.items() if k != "case"}})
            enqueue_many(messages, now)
            append_events(events)
        result.batches += 1
        result.orders_overdue += len(ids)
        if len(ids) < batch_size:
            return


def order_payload(order: SupervisionOrder) -> dict[str, Any]:
    case = order.case
    targets = [order.addressed_org_id]
    if case.responsible_org_id and case.responsible_org_id not in targets:
        targets.append(case.responsible_org_id)
    return {"case": case.number, "order": order.number, "order_id": order.pk, "level": Level.SUPERVISION_ORDER,
            "clock": order.escalation.clock, "due_at": _iso(order.escalation.due_at),
            "escalation": order.escalation_id, "issuing_org_id": order.issuing_org_id, "target_org_ids": targets,
            "reply_due_at": _iso(order.reply_due_at)}


def sweep(now: dt.datetime | None = None, *, batch_size: int = BATCH_SIZE,
          clocks: Iterable[SweptClock] = SWEPT,
          supervising: Iterable[SupervisingClock] = SUPERVISING_CLOCKS) -> SweepResult:
    """Passes over every watched clock, each step of its ladder lowest first, in batches, then over the
    supervising side's clocks and unanswered supervision orders — repeated until a pass finds nothing to
    do. (Another sweeper may hold a case row claimed for one clock while this one looks at another; the
    repeat picks such rows up once the other commits.) Safe to run concurrently and to re-run at the same moment."""
    now = now or clock.now()
    result = SweepResult()
    configured = ladder.policies()
    clocks, supervising = tuple(clocks), tuple(supervising)
    while True:
        acted = result.acted
        for swept in clocks:
            policy = configured[swept.clock]
            for step in steps_for(policy, now):
                _sweep_step(swept, step, policy, now, batch_size, result)
            if swept.clock == Clock.SIGN_FOR:
                sweep_co_sign_for(policy, now, batch_size, result)
        for watched in supervising:
            sweep_supervising(watched, configured.get(watched.clock, SUPERVISING_POLICY), now, batch_size, result)
        sweep_orders(now, batch_size, result)
        sweep_ledger_reviews(now, batch_size, result)
        result.passes += 1
        if result.acted == acted:
            return result
