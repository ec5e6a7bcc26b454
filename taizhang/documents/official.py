"""An official document (公文) as plain data, rendered to Word or PDF in the layout of GB/T 9704-2012.

Builders of a particular document (督办通知书, 监察建议书, 通报 …) fill an `OfficialDocument`; the
renderers know nothing about cases."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

CHINESE_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Heading:
    """Level 1 「一、」 in 黑体, 2 「（一）」 in 楷体, 3 「1.」 and 4 「（1）」 in body type; the text carries
    its own numbering."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


Block = Paragraph | Heading | Table


@dataclass(frozen=True)
class OfficialDocument:
    kind: str
    issuer: str
    number: str
    title: str
    addressee: str
    body: Sequence[Block]
    signatory: str
    date: dt.date
    attachments: Sequence[str] = ()
    copy_to: Sequence[str] = ()
    classification: str = ""


def _chinese_number(n: int) -> str:
    """1–31 as in a written date: 十, 十一, 二十, 二十九, 三十一."""
    tens, units = divmod(n, 10)
    if not tens:
        return CHINESE_DIGITS[units]
    return (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[units] if units else "")


def chinese_date(day: dt.date) -> str:
    """成文日期 in full Chinese numerals: 2026-11-29 → 二〇二六年十一月二十九日."""
    year = "".join(CHINESE_DIGITS[int(c)] for c in str(day.year))
    return f"{year}年{_chinese_number(day.month)}月{_chinese_number(day.day)}日"


def document_number(code: str, year: int, serial: int) -> str:
    """发文字号: 机关代字 + year in 六角括号 + serial without leading zeros, e.g. 长纪督〔2026〕3号."""
    return f"{code}〔{year}〕{serial}号"


def render_docx(doc: OfficialDocument) -> bytes:
    from taizhang.documents.word import docx_bytes

    return docx_bytes(doc)


def render_pdf(doc: OfficialDocument) -> bytes:
    # WeasyPrint takes a second to import; only processes that render a PDF pay for it.
    from taizhang.documents.pdf import pdf_bytes

    return pdf_bytes(doc)
