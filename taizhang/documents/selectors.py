"""Scoped reads of a case's official documents. Every read starts from the cases the user may see
(`policies.scope()`); enterprises see none of these internal documents. Anything else is NotFound."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.cases import policies
from taizhang.cases.models import Assignment, Case
from taizhang.cases.synthetic import GENERATED
from taizhang.cases.workflow import HANDED_OVER_STATES
from taizhang.core.errors import NotFound
from taizhang.documents import builders
from taizhang.documents.drafts import Draft
from taizhang.documents.models import DocumentKind, IssuedDocument
from taizhang.documents.official import OfficialDocument
from taizhang.sla.models import SupervisionOrder

HANDOVER_EVENTS = ("case.handed_over", GENERATED)
CASE_KINDS = (DocumentKind.TRANSFER_LETTER, DocumentKind.IMMEDIATE_NOTICE)
FORMATS = ("docx", "pdf")


@dataclass(frozen=True)
class CaseDocument:
    """A document a case offers for download, issued already or on first download."""

    kind: str
    label: str
    order_id: int | None
    issued: IssuedDocument | None


def _case(user: User, number: str) -> Case:
    if not policies.sees_internal_notes(user):
        raise NotFound()
    try:
        return (policies.scope(user)
                .select_related("supervising_org", "responsible_org", "inspection_round__group")
                .get(number=number))
    except Case.DoesNotExist:
        raise NotFound() from None


def _assignments(case: Case) -> list[Assignment]:
    """The units at work on the case, the lead unit first."""
    found = case.assignments.select_related("org").filter(status__in=policies.ACTIVE_ASSIGNMENT).order_by("pk")
    return sorted(found, key=lambda a: a.role != Assignment.Role.LEAD)


def _handover(case: Case) -> AuditEvent | None:
    """The audit event of the case's current handover (approval), while the case stays handed over. A case
    generated in bulk already handed over has its generation event in its place."""
    if case.state not in HANDED_OVER_STATES or case.responsible_org_id is None:
        return None
    return (AuditEvent.objects.filter(object_type="case", object_id=case.number, action__in=HANDOVER_EVENTS)
            .only("seq", "occurred_at", "after").order_by("-seq").first())


def _instant(value: object) -> dt.datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _handover_draft(case: Case, kind: str, handover: AuditEvent) -> Draft:
    after = handover.after if isinstance(handover.after, dict) else {}
    sign_for_due = _instant(after.get("sign_for_due_at"))
    # The deadline agreed at the handover (the approval starts the completion clock), not a later extension.
    completion_due = _instant(after.get("completion_due_at"))
    deadline = builders.local_day(completion_due) if completion_due else case.deadline_on
    handed_over = handover.occurred_at

    def compose(number: str) -> OfficialDocument:
        assignments = _assignments(case)
        if kind == DocumentKind.IMMEDIATE_NOTICE:
            return builders.immediate_notice(case, assignments, number=number, handed_over=handed_over,
                                             deadline=deadline)
        return builders.transfer_letter(case, assignments, number=number, handed_over=handed_over,
                                        deadline=deadline, sign_for_due=sign_for_due)

    return Draft(kind=kind, subject_type="handover", subject_id=str(handover.seq), issuer=case.supervising_org,
                 case=case, issued_on=builders.local_day(handed_over), compose=compose)


def _order_draft(case: Case, order: SupervisionOrder, handover: AuditEvent | None) -> Draft:
    def compose(number: str) -> OfficialDocument:
        return builders.supervision_order(order, order.escalation, _assignments(case),
                                          handed_over=handover.occurred_at if handover else None)

    return Draft(kind=DocumentKind.SUPERVISION_ORDER, subject_type="supervision_order", subject_id=str(order.pk),
                 issuer=order.issuing_org, case=case, issued_on=builders.local_day(order.issued_at),
                 compose=compose, number=order.number)


def _orders(case: Case) -> QuerySet[SupervisionOrder]:
    return (SupervisionOrder.objects.filter(case=case)
            .select_related("case", "escalation", "issuing_org", "addressed_org").order_by("issued_at", "pk"))


def case_document_draft(user: User, number: str, kind: str, order_id: int | None = None) -> Draft:
    """The draft of one document of a visible case, or NotFound when the case does not offer it."""
    case = _case(user, number)
    handover = _handover(case)
    if kind == DocumentKind.SUPERVISION_ORDER and order_id is not None:
        order = _orders(case).filter(pk=order_id).first()
        if order is not None:
            return _order_draft(case, order, handover)
    elif kind in CASE_KINDS and handover is not None and (
            kind == DocumentKind.TRANSFER_LETTER or case.mode == Case.Mode.IMMEDIATE):
        return _handover_draft(case, kind, handover)
    raise NotFound()


def case_documents(user: User, number: str) -> list[CaseDocument]:
    """The documents a visible case offers, in the order they arise, with those issued already."""
    case = _case(user, number)
    handover = _handover(case)
    issued = {(d.kind, d.subject_type, d.subject_id): d
              for d in IssuedDocument.objects.filter(case=case).defer("docx", "pdf")}
    found: list[CaseDocument] = []
    if handover is not None:
        kinds = [DocumentKind.TRANSFER_LETTER]
        if case.mode == Case.Mode.IMMEDIATE:
            kinds.append(DocumentKind.IMMEDIATE_NOTICE)
        found += [CaseDocument(kind=k, label=str(k.label), order_id=None,
                               issued=issued.get((k, "handover", str(handover.seq)))) for k in kinds]
    for order in _orders(case):
        found.append(CaseDocument(kind=DocumentKind.SUPERVISION_ORDER, label=order.number, order_id=order.pk,
                                  issued=issued.get((DocumentKind.SUPERVISION_ORDER, "supervision_order",
                                                     str(order.pk)))))
    return found


def issued_document(draft: Draft) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(kind=draft.kind, subject_type=draft.subject_type,
                                         subject_id=draft.subject_id).first()
