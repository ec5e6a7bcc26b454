"""The renderers on their own: a 公文 with every part, as PDF (text, embedded CJK fonts, page image) and Word."""

import datetime as dt
import io
import re

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from taizhang.documents.official import (
    Heading,
    OfficialDocument,
    Paragraph,
    Table,
    chinese_date,
    document_number,
    render_docx,
    render_pdf,
)
from taizhang.documents.tests.pdf_tools import pdf_fonts, pdf_text, save_first_page

DOC = OfficialDocument(
    kind="supervision_order", issuer="中共长春市纪律检查委员会", number="长纪督〔2026〕3号",
    title="关于督促解决精密零部件企业供电闪断问题的督办通知书", addressee="中共净月高新技术产业开发区工作委员会",
    body=[
        Paragraph("市委第二巡察组在机动式巡察中发现，企业厂区供电频繁闪断，造成在制品报废。"),
        Heading("一、问题情况", 1),
        Table(["问题编号", "牵头单位"], [["CC-2026-0007", "区建设发展局"]]),
        Heading("（一）督办要求", 2),
        Paragraph("请于2026年12月10日前书面报告办理情况。"),
    ],
    signatory="中共长春市纪律检查委员会", date=dt.date(2026, 11, 29), attachments=["问题清单"],
    copy_to=["市委巡察办", "净月区管委会"], classification="内部",
)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("day", "written"), [
    (dt.date(2026, 11, 29), "二〇二六年十一月二十九日"),
    (dt.date(2030, 1, 10), "二〇三〇年一月十日"),
    (dt.date(2022, 12, 31), "二〇二二年十二月三十一日"),
    (dt.date(2026, 10, 20), "二〇二六年十月二十日"),
])
def test_the_date_is_written_in_chinese_numerals(day, written):
    assert chinese_date(day) == written


def test_a_document_number_has_hexagonal_brackets_and_no_leading_zeros():
    assert document_number("CC移", 2026, 3) == "CC移〔2026〕3号"


def test_the_pdf_carries_every_part_in_embedded_cjk_fonts(tmp_path, artifacts):
    data = render_pdf(DOC)
    assert data.startswith(b"%PDF-")
    text = flat(pdf_text(data))
    for part in [DOC.issuer, DOC.number, DOC.title, f"{DOC.addressee}：", "一、问题情况", "（一）督办要求",
                 "CC-2026-0007", "区建设发展局", "请于2026年12月10日前书面报告办理情况。", "附件：问题清单",
                 "二〇二六年十一月二十九日", "抄送：市委巡察办，净月区管委会。", "2026年11月29日印发", "—1—", "内部"]:
        assert part in text, part
    fonts = pdf_fonts(data, tmp_path)
    assert fonts
    assert all(embedded for _name, embedded in fonts), fonts
    assert any("CJK" in name for name, _embedded in fonts), fonts
    image = save_first_page(data, artifacts / "official-sample.png")
    assert image.read_bytes().startswith(b"\x89PNG")


def test_the_word_file_has_the_same_parts_with_east_asian_fonts():
    document = docx.Document(io.BytesIO(render_docx(DOC)))
    paragraphs = [p.text for p in document.paragraphs]
    for part in [DOC.issuer, DOC.number, DOC.title, f"{DOC.addressee}：", "一、问题情况", "附件：问题清单",
                 "二〇二六年十一月二十九日", "抄送：市委巡察办，净月区管委会。"]:
        assert part in paragraphs, part
    assert document.tables[0].rows[1].cells[0].text == "CC-2026-0007"
    section = document.sections[0]
    top, left, right, width = section.top_margin, section.left_margin, section.right_margin, section.page_width
    assert None not in (top, left, right, width)
    assert (round(top.mm), round(left.mm), round(width.mm - left.mm - right.mm)) == (37, 28, 156)  # type: ignore[union-attr]
    issuer_run = document.paragraphs[paragraphs.index(DOC.issuer)].runs[0]
    assert str(issuer_run.font.color.rgb) == "E60012"
    body_run = document.paragraphs[paragraphs.index("请于2026年12月10日前书面报告办理情况。")].runs[0]
    r_pr = body_run.element.rPr
    assert r_pr is not None
    assert r_pr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"
    assert body_run.font.size == Pt(16)
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml
    assert "— " in footer_xml
