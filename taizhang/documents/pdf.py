"""PDF of an official document: an HTML page with @page rules, rendered by WeasyPrint with the fonts
installed on the machine (embedded as subsets). Nothing is fetched over the network."""

from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetchingError

from taizhang.documents import layout
from taizhang.documents.official import Heading, OfficialDocument, Paragraph, Table, chinese_date


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise URLFetchingError(f"official documents load no external resources: {url}")


def _blocks(doc: OfficialDocument) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for block in doc.body:
        if isinstance(block, Heading):
            blocks.append({"kind": "heading", "level": min(max(block.level, 1), 4), "text": block.text})
        elif isinstance(block, Paragraph):
            blocks.append({"kind": "paragraph", "text": block.text})
        elif isinstance(block, Table):
            blocks.append({"kind": "table", "header": list(block.header), "rows": [list(r) for r in block.rows]})
    return blocks


def html_for(doc: OfficialDocument) -> str:
    return render_to_string("documents/official.html", {
        "doc": doc,
        "blocks": _blocks(doc),
        "written_on": chinese_date(doc.date),
        "printed_on": f"{doc.date.year}年{doc.date.month}月{doc.date.day}日",
        "layout": layout,
        "issuer_pt": layout.issuer_size_pt(doc.issuer),
        "faces": {"title": layout.TITLE, "body": layout.BODY, "hei": layout.HEI, "kai": layout.KAI},
        "line_pitch": f"{layout.LINE_PITCH_PT:.2f}pt",
    })


def pdf_bytes(doc: OfficialDocument) -> bytes:
    return bytes(HTML(string=html_for(doc), url_fetcher=_refuse_fetch).write_pdf())
