"""Writers of escalations by hand and of answers to supervision orders (督办单). Each runs in one
transaction: policy check, compare-and-swap, one audit event, one outbox message."""

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.audit.services import record_event
from taizhang.cases import policies
from taizhang.cases.models import Assignment, Case
from taizhang.cases.services import actor_context, get_case_for
from taizhang.cases.workflow import State
from taizhang.core import clock, outbox
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.sla import ladder
from taizhang.sla.models import MANUAL, Escalation, SupervisionOrder
from taizhang.sla.sweeper import AUDIT_ACTIONS, TOPICS, Claimed, issue_order, order_payload, step_message

# The states in which a case can be escalated: handed over and not yet submitted for acceptance.
# Case.escalation_level is reset to 0 when the case leaves them (see cases/services.py).
ESCALATION_STATES = frozenset({State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER})
MANUAL_LEVELS = (Escalation.Level.LEADERSHIP, Escalation.Level.SUPERVISION_ORDER)


def _lead_org(case: Case) -> Assignment:
    lead = case.assignments.select_related("org").filter(
        role=Assignment.Role.LEAD, status__in=policies.ACTIVE_ASSIGNMENT).first()
    if lead is None:
        raise IllegalTransition(_("The case has no lead unit to escalate to."), code="escalation.no_lead_unit")
    return lead


def leadership_org_id(case: Case, lead: Assignment) -> int:
    """The parent leadership told at level 2: the organisation bearing main responsibility, or else the
    lead unit's parent organisation (the lead unit itself at the top of the tree)."""
    if case.responsible_org_id and case.responsible_org_id != lead.org_id:
        return case.responsible_org_id
    return lead.org.parent_id or lead.org_id


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = -1
    if level not in MANUAL_LEVELS:
        raise ValidationFailed(_("Escalate to level 2 (parent leadership) or 3 (supervision order)."),
                               code="validation.invalid_choice", field="level")
    return level


@transaction.atomic
def escalate_case(case: Case | str, *, actor: User, level: int, reason: str, version: int | None = None) -> Escalation:
    """Escalate a hard case by hand, with a reason, straight to level 2 or 3 (督办). A liaison officer may
    do so for the enterprises of their portfolio, a supervisor for the cases their body supervises."""
    number = case if isinstance(case, str) else case.number
    current = get_case_for(actor, number, for_update=True)
    seat = policies.escalating_seat(actor, current)
    if seat is None:
        raise PermissionDenied(_("You may not escalate this case."), code="escalation.not_allowed")
    if current.state not in ESCALATION_STATES:
        raise IllegalTransition(_("Only a case being handled by the units can be escalated."),
                                code="escalation.not_open", state=current.state)
    level = _level(level)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for escalating."), code="validation.required", field="reason")
    if level <= current.escalation_level:
        raise ValidationFailed(_("The case is already escalated to this level or higher."),
                               code="escalation.already_at_level", field="level")
    expected = current.version if version is None else version
    now = clock.now()
    previous = current.escalation_level
    updated = Case.objects.filter(pk=current.pk, version=expected, escalation_level=previous).update(
        escalation_level=level, version=F("version") + 1, updated_at=now)
    if updated != 1:
        fresh = Case.objects.only("state", "version").get(pk=current.pk)
        raise Conflict(state=fresh.state, version=fresh.version)
    lead = _lead_org(current)
    target = leadership_org_id(current, lead) if level == Escalation.Level.LEADERSHIP else lead.org_id
    response_due = (ladder.workdays_from(now, ladder.MANUAL_POLICY.response_workdays)
                    if level == Escalation.Level.LEADERSHIP else None)
    escalation = Escalation.objects.create(
        case=current, clock=MANUAL, level=level, due_at=now, target_org_id=target, created_at=now, reason=reason,
        escalated_by=actor, response_due_at=response_due)
    order = None
    if level == Escalation.Level.SUPERVISION_ORDER:
        order = issue_order(escalation, now=now, reply_workdays=ladder.MANUAL_POLICY.order_reply_workdays,
                            case=current)
    topic, payload, after = step_message(Claimed.of(escalation, current), order=order, extra={"reason": reason,
                                                                                   "actor": actor.pk})
    record_event(actor=actor_context(actor, seat), action=AUDIT_ACTIONS[level], object_type="case",
                 object_id=current.number, object_repr=current.title,
                 before={"escalation_level": previous, "version": expected},
                 after={**after, "escalation_level": level, "version": expected + 1})
    outbox.enqueue(topic, payload)
    return escalation


@transaction.atomic
def respond_to_escalation(escalation: Escalation | int, *, actor: User, text: str) -> Escalation:
    """The parent leadership told at level 2 (a unit leader of the organisation told, or of one above it)
    records its required response (also after the response deadline; it is then late)."""
    pk = escalation.pk if isinstance(escalation, Escalation) else escalation
    try:
        current = Escalation.objects.select_for_update(of=("self",)).select_related("case", "target_org").get(pk=pk)
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case = get_case_for(actor, current.case.number)
    if current.level != Escalation.Level.LEADERSHIP or current.target_org is None:
        raise IllegalTransition(_("This escalation step asks for no response."),
                                code="escalation.no_response_required")
    target_path = current.target_org.path
    seat = next((s for s in policies.seats(actor)
                 if s.role == Role.UNIT_LEADER and target_path.startswith(s.org_path)), None)
    if seat is None:
        raise PermissionDenied(_("Only the leadership the case was escalated to responds."),
                               code="escalation.response_not_allowed")
    if current.responded_at is not None:
        raise IllegalTransition(_("The response has been recorded already."), code="escalation.already_responded")
    text = str(text or "").strip()
    if not text:
        raise ValidationFailed(_("Write the response."), code="validation.required", field="text")
    now = clock.now()
    if Escalation.objects.filter(pk=current.pk, responded_at__isnull=True).update(
            responded_at=now, responded_by=actor, response=text) != 1:
        raise Conflict(code="escalation.already_responded")
    current.refresh_from_db()
    late = bool(current.response_due_at and now > current.response_due_at)
    record_event(actor=actor_context(actor, seat), action="case.escalation_responded", object_type="case",
                 object_id=case.number, object_repr=case.title,
                 after={"escalation": current.pk, "clock": current.clock, "level": current.level, "response": text,
                        "late": late})
    outbox.enqueue("case.escalation_responded", {
        "case": case.number, "escalation": current.pk, "clock": current.clock, "level": current.level,
        "target_org_ids": [case.supervising_org_id], "actor": actor.pk, "late": late})
    return current


@transaction.atomic
def reply_to_supervision_order(order: SupervisionOrder | int, *, actor: User, text: str) -> SupervisionOrder:
    """The lead unit's leader answers a 督办单 (also after its reply deadline; the answer is then late)."""
    pk = order.pk if isinstance(order, SupervisionOrder) else order
    try:
        current = SupervisionOrder.objects.select_for_update(of=("self",)).select_related("case", "escalation").get(
            pk=pk)
    except (SupervisionOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case = get_case_for(actor, current.case.number)
    seat = policies.lead_unit_leader_seat(actor, case)
    if seat is None:
        raise PermissionDenied(_("Only the leader of the lead unit answers a supervision order."),
                               code="supervision_order.reply_not_allowed")
    if current.replied_at is not None:
        raise IllegalTransition(_("This supervision order has been answered already."),
                                code="supervision_order.already_replied")
    text = str(text or "").strip()
    if not text:
        raise ValidationFailed(_("Write the reply."), code="validation.required", field="text")
    now = clock.now()
    updated = SupervisionOrder.objects.filter(pk=current.pk, replied_at__isnull=True).update(
        replied_at=now, replied_by=actor, reply=text)
    if updated != 1:
        raise Conflict(code="supervision_order.already_replied")
    current.refresh_from_db()
    late = now > current.reply_due_at
    payload = order_payload(current)
    payload.update(target_org_ids=[current.issuing_org_id], actor=actor.pk, late=late)
    record_event(actor=actor_context(actor, seat), action="supervision_order.replied", object_type="case",
                 object_id=case.number, object_repr=case.title,
                 after={"order": current.number, "order_id": current.pk, "reply": text, "late": late})
    outbox.enqueue("supervision_order.replied", payload)
    return current


__all__ = ["ESCALATION_STATES", "TOPICS", "escalate_case", "leadership_org_id", "reply_to_supervision_order",
           "respond_to_escalation"]
