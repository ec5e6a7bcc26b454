"""The writer of issued documents. A document is issued once per subject: its number is drawn, both files
are rendered and stored with their SHA-256, and an audit event is written, all in one transaction; every
later request returns the stored files. Two first requests at once: the loser's transaction (number
included) rolls back on the unique constraint and it returns the winner's document, so numbers stay
gap-free."""

import hashlib

from django.db import IntegrityError, transaction

from taizhang.accounts.models import User
from taizhang.audit.services import record_event
from taizhang.cases import policies
from taizhang.cases.services import actor_context
from taizhang.core import clock
from taizhang.documents import selectors
from taizhang.documents.drafts import Draft
from taizhang.documents.models import DocumentKind, IssuedDocument
from taizhang.documents.numbering import next_document_number
from taizhang.documents.official import render_docx, render_pdf


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def issue_document(draft: Draft, *, actor: User) -> IssuedDocument:
    """The document of `draft`, issued now unless it was already. The caller has checked that `actor` may
    see the subject (a selector built the draft)."""
    existing = selectors.issued_document(draft)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            number = draft.number or next_document_number(draft.issuer, draft.kind, draft.issued_on.year)
            doc = draft.compose(number)
            docx, pdf = render_docx(doc), render_pdf(doc)
            issued = IssuedDocument.objects.create(
                kind=draft.kind, number=number, title=doc.title, issuer_org=draft.issuer, case=draft.case,
                subject_type=draft.subject_type, subject_id=draft.subject_id, issued_on=doc.date,
                created_by=actor, created_at=clock.now(), docx=docx, pdf=pdf,
                docx_sha256=_sha256(docx), pdf_sha256=_sha256(pdf))
            seat = next((s for s in policies.seats(actor) if draft.issuer.path.startswith(s.org_path)), None)
            record_event(
                actor=actor_context(actor, seat or next(iter(policies.seats(actor)), None)),
                action="document.issued", object_type="case" if draft.case else draft.subject_type,
                object_id=draft.case.number if draft.case else draft.subject_id, object_repr=doc.title,
                after={"kind": draft.kind, "number": number, "subject_type": draft.subject_type,
                       "subject_id": draft.subject_id, "docx_sha256": issued.docx_sha256,
                       "pdf_sha256": issued.pdf_sha256})
            return issued
    except IntegrityError:
        existing = selectors.issued_document(draft)
        if existing is None:
            raise
        return existing


def case_document(number: str, kind: str, *, actor: User, order_id: int | None = None) -> IssuedDocument:
    """One official document of a case the actor may see (issued on its first request)."""
    return issue_document(selectors.case_document_draft(actor, number, kind, order_id), actor=actor)


def supervision_order_document(number: str, order_id: int, *, actor: User) -> IssuedDocument:
    """The 督办通知书 of one supervision order of a case the actor may see."""
    return case_document(number, DocumentKind.SUPERVISION_ORDER, actor=actor, order_id=order_id)
