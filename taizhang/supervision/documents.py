"""Supervision data as official documents (documents.official): the 监察建议书 and the 整改情况通报.
The texts are Chinese: a 公文 is written in Chinese whatever the reader's interface language."""

import datetime as dt

from django.utils import timezone

from taizhang.accounts.models import User
from taizhang.core import clock
from taizhang.documents.drafts import Draft
from taizhang.documents.models import DocumentKind
from taizhang.documents.official import Block, Heading, OfficialDocument, Paragraph, Table, render_docx, render_pdf
from taizhang.documents.services import issue_document
from taizhang.supervision.models import Bulletin, Recommendation

KIND_TITLES = {
    Recommendation.Kind.DISCIPLINE: "纪律检查建议书",
    Recommendation.Kind.SUPERVISION: "监察建议书",
    Recommendation.Kind.COMBINED: "纪检监察建议书",
}
DRAFT_NUMBER = "（草稿，未编号）"
FORMATS = {"docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", render_docx),
           "pdf": ("application/pdf", render_pdf)}


def _paragraphs(text: str) -> list[Block]:
    return [Paragraph(line.strip()) for line in text.splitlines() if line.strip()]


def _day(moment: dt.datetime | None) -> dt.date:
    return timezone.localdate(moment) if moment else clock.today()


def recommendation_document(rec: Recommendation, number: str = "") -> OfficialDocument:
    kind = KIND_TITLES[Recommendation.Kind(rec.kind)]
    body: list[Block] = [Heading("一、发现的主要问题"), *_paragraphs(rec.problems)]
    if rec.causes:
        body += [Heading("二、问题产生的原因"), *_paragraphs(rec.causes)]
    body += [Heading("三、建议" if rec.causes else "二、建议"), *_paragraphs(rec.recommendations)]
    if rec.reply_due_at:
        due = timezone.localdate(rec.reply_due_at)
        body.append(Paragraph(f"请于{due.year}年{due.month}月{due.day}日前将整改落实情况书面回复{rec.issuing_org.name}，"
                              "并附佐证材料。"))
    linked = list(rec.cases.order_by("number").values_list("number", "title"))
    attachments = [f"相关问题清单（{len(linked)}件）"] if linked else []
    if linked:
        body += [Paragraph("附件：相关问题清单"), Table(["问题编号", "问题"], [list(row) for row in linked])]
    return OfficialDocument(kind=kind, issuer=rec.issuing_org.name, number=number or rec.number or DRAFT_NUMBER,
                            title=f"关于{rec.title}的{kind}", addressee=f"{rec.addressed_org.name}：",
                            body=body, signatory=rec.issuing_org.name, date=_day(rec.issued_at),
                            attachments=attachments)


def bulletin_document(bulletin: Bulletin, number: str = "") -> OfficialDocument:
    sections = bulletin.sections
    body: list[Block] = []
    for section in sections:
        body += [Heading(section["heading"]), *_paragraphs(section["text"])]
        if section["key"] == "ranking" and bulletin.ranking:
            body.append(Table(["名次", "单位", "综合得分"],
                              [[str(row["rank"]), row["org"], "—" if row["score"] is None else f"{row['score']:.1f}"]
                               for row in bulletin.ranking]))
    receivers = list(bulletin.distribution.order_by("path").values_list("name", flat=True))
    return OfficialDocument(kind="通报", issuer=bulletin.issuing_org.name,
                            number=number or bulletin.number or DRAFT_NUMBER,
                            title=bulletin.title, addressee="、".join(receivers) + "：", body=body,
                            signatory=bulletin.issuing_org.name, date=_day(bulletin.issued_at))


def render(doc: OfficialDocument, fmt: str) -> tuple[bytes, str]:
    content_type, renderer = FORMATS[fmt]
    return renderer(doc), content_type


def _file(draft: Draft, preview: OfficialDocument | None, fmt: str, *, actor: User) -> tuple[bytes, str, str]:
    """An issued subject's document as issued once and kept (documents.services); a draft's as a preview."""
    if preview is not None:
        content, content_type = render(preview, fmt)
        return content, content_type, f"{preview.title}.{fmt}"
    issued = issue_document(draft, actor=actor)
    content = bytes(issued.pdf if fmt == "pdf" else issued.docx)
    return content, FORMATS[fmt][0], f"{issued.number}.{fmt}"


def recommendation_file(rec: Recommendation, fmt: str, *, actor: User) -> tuple[bytes, str, str]:
    """The 监察建议书 of a recommendation `actor` may see: (bytes, content type, file name)."""
    draft = Draft(kind=DocumentKind.RECOMMENDATION, subject_type="recommendation", subject_id=str(rec.pk),
                  issuer=rec.issuing_org, case=None, issued_on=_day(rec.issued_at), number=rec.number,
                  compose=lambda number: recommendation_document(rec, number))
    return _file(draft, recommendation_document(rec) if not rec.number else None, fmt, actor=actor)


def bulletin_file(bulletin: Bulletin, fmt: str, *, actor: User) -> tuple[bytes, str, str]:
    """The 整改情况通报 of a bulletin `actor` may see: (bytes, content type, file name)."""
    draft = Draft(kind=DocumentKind.BULLETIN, subject_type="bulletin", subject_id=str(bulletin.pk),
                  issuer=bulletin.issuing_org, case=None, issued_on=_day(bulletin.issued_at), number=bulletin.number,
                  compose=lambda number: bulletin_document(bulletin, number))
    return _file(draft, bulletin_document(bulletin) if not bulletin.number else None, fmt, actor=actor)
