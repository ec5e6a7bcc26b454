"""发文字号 per issuing organisation, document kind and year: 机关代字 (the organisation's number prefix and
one character for the kind) + 〔year〕 + serial. The serial is drawn in the caller's transaction under the
counter row's lock (core.numbering), so a rolled-back issue returns its number and the sequence stays
gap-free. 督办单 share the sequence the escalation sweeper draws from (CC督)."""

from django.utils.translation import gettext_lazy as _

from taizhang.core.errors import ValidationFailed
from taizhang.core.numbering import next_in_sequence
from taizhang.documents.models import DocumentKind
from taizhang.documents.official import document_number
from taizhang.orgs.models import Organisation

KIND_CODES = {
    DocumentKind.SUPERVISION_ORDER: "督",
    DocumentKind.IMMEDIATE_NOTICE: "改",
    DocumentKind.TRANSFER_LETTER: "移",
    DocumentKind.RECOMMENDATION: "建",
    DocumentKind.BULLETIN: "通",
}


def sequence_key(issuer: Organisation, kind: str) -> str:
    if not issuer.code:
        raise ValidationFailed(_("%(org)s has no number prefix, so it cannot issue numbered documents.")
                               % {"org": issuer.name}, code="documents.issuer_without_prefix")
    return f"{issuer.code}{KIND_CODES[DocumentKind(kind)]}"


def next_document_number(issuer: Organisation, kind: str, year: int) -> str:
    """The next 发文字号, e.g. CC移〔2026〕3号; call it inside the transaction that records the document."""
    key = sequence_key(issuer, kind)
    return document_number(key, year, next_in_sequence(key, year))
