"""Malformed, hostile and sloppy files: refused or reported cell by cell, and nothing applied."""

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest

from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import ValidationFailed
from taizhang.ledger import layout, selectors, services
from taizhang.ledger.models import LedgerImport
from taizhang.ledger.tests.helpers import (
    encrypted_workbook,
    footprint,
    ledger_row,
    upload,
    workbook_bytes,
    zip_bomb,
)
from taizhang.testing.matrix import Cast, drive


@pytest.fixture
def case(world):
    return drive(Cast.own(world), State.RECTIFYING)


def refused_code(user, data, name="台账.xlsx"):
    before = footprint()
    with pytest.raises(ValidationFailed) as refused:
        services.upload_import(actor=user, upload=upload(data, name))
    assert footprint() == before
    assert not LedgerImport.objects.exists()
    return refused.value.code


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "code"), [
    (b"", "ledger.not_a_workbook"),
    (b"name,title\n1,2\n", "ledger.not_a_workbook"),
    (b"%PDF-1.4 pretending to be a workbook", "ledger.not_a_workbook"),
    (encrypted_workbook(), "ledger.encrypted"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096, "ledger.legacy_xls"),
    (zip_bomb(), "ledger.zip_bomb"),
])
def test_files_that_are_no_sane_workbook_are_refused(world, data, code):
    assert refused_code(world.supervisor, data) == code


@pytest.mark.django_db
def test_many_formulas_are_refused_and_a_few_are_cell_errors(world, case):
    book = openpyxl.Workbook()
    ws: Any = book.active
    ws.append(["台账"])
    ws.append(layout.HEADERS)
    for i in range(1200):
        ws.append([f"=CONCAT(\"CC\",{i})"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = services.upload_import(actor=world.handler, upload=upload(buffer.getvalue()))
    assert (job.status, job.error_code) == (LedgerImport.Status.REFUSED, "ledger.too_many_formulas")
    few = workbook_bytes([ledger_row(number=case.number, progress="=1+1")])
    job = services.upload_import(actor=world.handler, upload=upload(few))
    row = selectors.all_import_rows(job).get()
    assert row.problems[0]["code"] == "ledger.formula"
    assert row.problems[0]["column"] == "progress"


@pytest.mark.django_db
def test_sloppy_file_reports_each_bad_cell_and_applies_nothing(world, case):
    rows = [
        [],  # blank rows are skipped
        ledger_row(number=case.number, deadline="2023年1月15日"),
        ledger_row(number="CC-2099-9999", progress="x"),
        ledger_row(source="巡察发现", title="日期错误", deadline="明年春天"),
        ledger_row(source="巡察发现", title="单位错误", units="区建设发展厅 + 国网长春供电公司"),
        ledger_row(number=case.number, progress="重复"),
    ]
    data = workbook_bytes([[*r, "多余的列"] if r else r for r in rows],
                          headers=[*layout.HEADERS, "附加列"],
                          before=["填报说明"])
    before = footprint()
    job = services.upload_import(actor=world.supervisor, upload=upload(data))
    assert job.status == LedgerImport.Status.VALIDATED
    assert any("附加列" in note for note in job.notes)
    assert any("填报说明" in note for note in job.notes)
    report = {r.row: r for r in selectors.all_import_rows(job)}
    assert 3 not in report  # the blank row
    codes = {row: [p["code"] for p in r.errors] for row, r in report.items()}
    assert codes[4] == []
    assert report[4].warnings[0]["code"] == "ledger.column_not_imported"
    assert codes[5] == ["ledger.unknown_case"]
    assert codes[6] == ["ledger.invalid_date"]
    assert codes[7] == ["ledger.unknown_org"]
    assert "区建设发展局" in report[7].errors[0]["suggestions"]
    assert codes[8] == ["ledger.duplicate_row"]
    with pytest.raises(ValidationFailed):
        services.commit_import(actor=world.supervisor, ledger_import=job)
    assert footprint() == before

    out = services.media_path("errors.xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    assert services.write_error_workbook(job, out) == 4
    sheet = openpyxl.load_workbook(out).worksheets[0]
    date_cell = sheet.cell(row=5, column=11)  # the row of the bad date, 整改时限
    assert date_cell.value == "明年春天"
    assert date_cell.comment is not None
    assert date_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "整改时限" in str(sheet.cell(row=5, column=20).value)


@pytest.mark.django_db
def test_text_dates_in_common_chinese_forms(world):
    from taizhang.ledger.layout import parse_date

    for text in ("2023-01-15", "2023/1/15", "2023.1.15", "2023年1月15日", "２０２３年１月１５日", "20230115",
                 44941, dt.datetime(2023, 1, 15)):
        assert parse_date(text) == dt.date(2023, 1, 15), text
    for bad in ("2023-13-01", "15/01/2023x", "明天"):
        with pytest.raises(ValueError):  # noqa: PT011 - parse_date's contract is a plain ValueError
            parse_date(bad)


@pytest.mark.django_db
def test_merged_cells_are_filled_down_with_a_warning(world):
    rows = [ledger_row(source="巡察发现", category="供电", title="合并单元格一"),
            ledger_row(source="", title="合并单元格二")]
    data = workbook_bytes(rows, merge="B3:B4")
    job = services.upload_import(actor=world.supervisor, upload=upload(data))
    report = list(selectors.all_import_rows(job))
    assert [r.action for r in report] == ["create", "create"]
    assert report[1].values["source"] == "巡察发现"
    assert report[1].warnings[0]["code"] == "ledger.merged_cell"


@pytest.mark.django_db
def test_wrong_sheet_needs_a_mapping_which_is_saved_for_next_time(world, case):
    headers = ["编号", "进展情况", "说明"]
    data = workbook_bytes([[case.number, "按自己的表格报告进展", "x"]], headers=headers, title=None, sheet="Sheet1")
    job = services.upload_import(actor=world.handler, upload=upload(data, "自己的表.xlsx"))
    assert job.status == LedgerImport.Status.NEEDS_MAPPING
    assert job.found_headers == headers
    services.map_columns(actor=world.handler, ledger_import=job,
                         columns={"编号": "number", "进展情况": "progress", "说明": ""}, save_as="我的表")
    job.refresh_from_db()
    assert (job.status, job.updates) == (LedgerImport.Status.VALIDATED, 1)
    again = services.upload_import(actor=world.handler, upload=upload(data, "自己的表.xlsx"))
    assert (again.status, again.updates) == (LedgerImport.Status.VALIDATED, 1)  # the saved mapping applied
    services.commit_import(actor=world.handler, ledger_import=again)
    assert Case.objects.get(pk=case.pk).progress_summary == "按自己的表格报告进展"
