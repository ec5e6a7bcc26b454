"""Word (.docx) of an official document with python-docx: the same structure as the PDF, with East Asian
font names set on every run (w:eastAsia) and odd/even page numbers in the footers."""

import io

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_PARAGRAPH_ALIGNMENT, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from taizhang.documents import layout
from taizhang.documents.official import Heading, OfficialDocument, Paragraph, Table, chinese_date

# The elements that follow w:pBdr inside w:pPr (ECMA-376 CT_PPrBase).
PBDR_SUCCESSORS = tuple(f"w:{name}" for name in (
    "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
    "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents",
    "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange"))


def _font(run_or_style: object, face: layout.Face, size_pt: float, *, bold: bool = False,
          red: bool = False) -> None:
    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = layout.LATIN_FONT
    font.size = Pt(size_pt)
    font.bold = bold
    if red:
        font.color.rgb = RGBColor.from_string(layout.RED)
    r_pr = run_or_style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, r_fonts)
    r_fonts.set(qn("w:eastAsia"), face.word)


def _paragraph(parent: object, text: str = "", *, face: layout.Face = layout.BODY, size_pt: float = layout.BODY_PT,
               align: WD_PARAGRAPH_ALIGNMENT | None = None, indent_chars: int = 0, bold: bool = False,
               red: bool = False, space_before_lines: int = 0) -> DocxParagraph:
    paragraph: DocxParagraph = parent.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if indent_chars:
        fmt.first_line_indent = Pt(size_pt * indent_chars)
    if space_before_lines:
        fmt.space_before = Pt(layout.LINE_PITCH_PT * space_before_lines)
    if text:
        _font(paragraph.add_run(text), face, size_pt, bold=bold, red=red)
    return paragraph


def _border(paragraph: DocxParagraph, side: str, *, eighths_pt: int, color: str = "000000") -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.insert_element_before(borders, *PBDR_SUCCESSORS)  # Word rejects pPr children out of order
    edge = OxmlElement(f"w:{side}")
    for key, value in {"w:val": "single", "w:sz": str(eighths_pt), "w:space": "1", "w:color": color}.items():
        edge.set(qn(key), value)
    borders.append(edge)


def _page_number(paragraph: DocxParagraph) -> None:
    """「— 7 —」 with a PAGE field between the dashes."""
    _font(paragraph.add_run("— "), layout.BODY, layout.FOOTER_PT)
    for part in ("begin", " PAGE ", "separate", "1", "end"):
        run = paragraph.add_run()
        _font(run, layout.BODY, layout.FOOTER_PT)
        if part in ("begin", "separate", "end"):
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), part)
            run._r.append(char)
        elif part == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = part
            run._r.append(instr)
        else:
            run.text = part  # shown until Word updates the field
    _font(paragraph.add_run(" —"), layout.BODY, layout.FOOTER_PT)


def _setup_page(document: Document) -> None:  # type: ignore[valid-type]
    section = document.sections[0]  # type: ignore[attr-defined]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(layout.PAGE_WIDTH_MM), Mm(layout.PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(layout.MARGIN_TOP_MM), Mm(layout.MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(layout.MARGIN_LEFT_MM), Mm(layout.MARGIN_RIGHT_MM)
    section.footer_distance = Mm(layout.MARGIN_BOTTOM_MM - 7 - 5)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(layout.LINE_PITCH_PT * 20)))
    document.settings.odd_and_even_pages_header_footer = True  # type: ignore[attr-defined]
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(layout.FOOTER_PT)
    _page_number(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(layout.FOOTER_PT)
    _page_number(even)

    normal = document.styles["Normal"]  # type: ignore[attr-defined]
    _font(normal, layout.BODY, layout.BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(layout.LINE_PITCH_PT)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _table(document: object, block: Table) -> None:
    columns = max([len(block.header), *(len(row) for row in block.rows)])
    table = document.add_table(rows=0, cols=columns)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row_index, row in enumerate([block.header, *block.rows]):
        cells = table.add_row().cells
        for cell, text in zip(cells, [*row, *[""] * (columns - len(row))], strict=True):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.line_spacing = 1.2
            paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
            if not row_index:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(paragraph.add_run(text), layout.HEI if not row_index else layout.BODY, layout.TABLE_PT,
                  bold=not row_index)


def docx_bytes(doc: OfficialDocument) -> bytes:
    document = Document()
    _setup_page(document)
    core = document.core_properties
    core.title, core.author, core.subject = doc.title, doc.signatory, doc.number
    if doc.classification:
        _paragraph(document, doc.classification, face=layout.HEI, bold=True)
    issuer = _paragraph(document, doc.issuer, face=layout.TITLE, size_pt=layout.issuer_size_pt(doc.issuer),
                        align=WD_ALIGN_PARAGRAPH.CENTER, red=True, bold=True)
    issuer.paragraph_format.space_before = Mm(35)
    issuer.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    number = _paragraph(document, doc.number, align=WD_ALIGN_PARAGRAPH.CENTER, space_before_lines=2)
    number.paragraph_format.space_after = Mm(4)
    _border(number, "bottom", eighths_pt=8, color=layout.RED)  # the red separator line, 1 pt under the number
    title = _paragraph(document, doc.title, face=layout.TITLE, size_pt=layout.TITLE_PT,
                       align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_before_lines=2)
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
    title.paragraph_format.space_after = Pt(layout.LINE_PITCH_PT)
    if doc.addressee:
        _paragraph(document, f"{doc.addressee}：")
    for block in doc.body:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 4)
            _paragraph(document, block.text, face=layout.HEADING_FACES[level], indent_chars=2, bold=level in (1, 3))
        elif isinstance(block, Paragraph):
            _paragraph(document, block.text, indent_chars=2)
        elif isinstance(block, Table):
            _table(document, block)
    for index, name in enumerate(doc.attachments):
        label = "附件：" if not index else "　　　"
        serial = f"{index + 1}．" if len(doc.attachments) > 1 else ""
        _paragraph(document, f"{label}{serial}{name}", indent_chars=2, space_before_lines=int(not index))
    # 成文日期 four characters from the right, the 署名 centred over it (GB/T 9704 7.3.5).
    written_on = chinese_date(doc.date)
    for text, other, lines_before in ((doc.signatory, written_on, 2), (written_on, doc.signatory, 0)):
        line = _paragraph(document, text, align=WD_ALIGN_PARAGRAPH.RIGHT, space_before_lines=lines_before)
        line.paragraph_format.right_indent = Pt(layout.BODY_PT * (4 + max(len(other) - len(text), 0) / 2))
    _record(document, doc)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _record(document: object, doc: OfficialDocument) -> None:
    """版记: 抄送 and the 印发 line between rules after the body."""
    first = True
    if doc.copy_to:
        copy = _paragraph(document, f"抄送：{'，'.join(doc.copy_to)}。", size_pt=layout.FOOTER_PT,
                          space_before_lines=2)
        copy.paragraph_format.left_indent = copy.paragraph_format.right_indent = Pt(layout.FOOTER_PT)
        _border(copy, "top", eighths_pt=8)
        first = False
    printed = _paragraph(document, f"{doc.signatory}\t{doc.date.year}年{doc.date.month}月{doc.date.day}日印发",
                         size_pt=layout.FOOTER_PT, space_before_lines=2 if first else 0)
    fmt = printed.paragraph_format
    fmt.left_indent = fmt.right_indent = Pt(layout.FOOTER_PT)
    fmt.tab_stops.add_tab_stop(Mm(layout.AREA_WIDTH_MM) - Pt(2 * layout.FOOTER_PT), alignment=WD_TAB_ALIGNMENT.RIGHT)
    _border(printed, "top", eighths_pt=8 if first else 4)
    _border(printed, "bottom", eighths_pt=8)
