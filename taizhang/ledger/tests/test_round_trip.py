import datetime as dt
from typing import Any

import pytest

from taizhang.audit.models import AuditEvent
from taizhang.cases.listing import LedgerFilters
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import ValidationFailed
from taizhang.ledger import layout, selectors, services
from taizhang.ledger.models import ImportRow, LedgerImport
from taizhang.ledger.tests.helpers import edit, footprint, read_back, upload
from taizhang.testing.matrix import Cast, drive


@pytest.fixture
def ledger(world):
    cast = Cast.own(world)
    first = drive(cast, State.RECTIFYING, title="供电频繁闪断")
    second = drive(cast, State.RECTIFYING, title="道路积水")
    registered = drive(cast, State.REGISTERED, title="尚未交办的问题")
    return world, [first, second], registered


def state_label(state):
    with layout.layout_language():
        return state.label


def export_file(user, tmp_path, name="ledger.xlsx", query=""):
    path = tmp_path / name
    services.write_export(user, services.parse_filters(query), path)
    return path


def import_bytes(user, data, name="台账.xlsx"):
    return services.upload_import(actor=user, upload=upload(data, name))


@pytest.mark.django_db
def test_export_has_the_layout_and_only_visible_cases(ledger, tmp_path):
    world, (first, second), registered = ledger
    path = export_file(world.handler, tmp_path)
    import openpyxl

    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[2]] == layout.HEADERS
    assert sheet["A1"].value.startswith("区建设发展局")
    assert sheet.freeze_panes == "B3"
    rows = read_back(path)
    assert sorted(r[0] for r in rows) == sorted([first.number, second.number])  # not the registered case
    row = next(r for r in rows if r[0] == first.number)
    assert isinstance(row[layout.COLUMN_KEYS.index("deadline")], dt.datetime)
    assert sheet.cell(3, layout.COLUMN_KEYS.index("title") + 1).alignment.wrap_text
    assert sheet.cell(3, layout.COLUMN_KEYS.index("deadline") + 1).number_format == "yyyy-mm-dd"
    with layout.layout_language():
        assert row[layout.COLUMN_KEYS.index("state")] == State.RECTIFYING.label
    assert sheet.data_validations.dataValidation[0].type == "list"
    supervisor_rows = read_back(export_file(world.supervisor, tmp_path, "all.xlsx"))
    assert registered.number in {r[0] for r in supervisor_rows}
    assert read_back(export_file(world.outsider, tmp_path, "none.xlsx")) == []


@pytest.mark.django_db
def test_reimporting_an_export_changes_nothing(ledger, tmp_path):
    world, _cases, _registered = ledger
    path = export_file(world.handler, tmp_path)
    before = footprint()
    job = import_bytes(world.handler, path.read_bytes())
    assert job.status == LedgerImport.Status.VALIDATED, job.error
    assert (job.creates, job.updates, job.unchanged, job.invalid) == (0, 0, 2, 0)
    job = services.commit_import(actor=world.handler, ledger_import=job)
    assert job.status == LedgerImport.Status.COMMITTED
    after = footprint()
    assert after["cases"] == before["cases"]
    assert after["reports"] == before["reports"]
    assert list(AuditEvent.objects.filter(request_id=job.audit_id).values_list("action", flat=True)) == [
        "ledger.imported"]


@pytest.mark.django_db
def test_edited_progress_cells_become_exactly_those_reports(ledger, tmp_path):
    world, (first, second), _registered = ledger
    path = export_file(world.handler, tmp_path)
    index = {r[0]: i for i, r in enumerate(read_back(path))}
    data = edit(path, {(index[first.number], "progress"): "新建外线已完工，1月15日切改"})
    job = import_bytes(world.handler, data)
    assert (job.updates, job.unchanged, job.invalid) == (1, 1, 0)
    row = ImportRow.objects.get(ledger_import=job, action="update")
    assert row.number == first.number
    assert row.changes[0]["column"] == "progress"
    other_version = Case.objects.get(pk=second.pk).version
    services.commit_import(actor=world.handler, ledger_import=job)
    first.refresh_from_db()
    assert first.progress_summary == "新建外线已完工，1月15日切改"
    assert Case.objects.get(pk=second.pk).version == other_version
    events = list(AuditEvent.objects.filter(request_id=job.audit_id).values_list("action", "object_id"))
    assert events == [("case.progress_reported", first.number), ("ledger.imported", job.pk.hex)]
    # The same file again is now unchanged.
    again = import_bytes(world.handler, data)
    assert (again.updates, again.unchanged) == (0, 2)


@pytest.mark.django_db
def test_state_change_through_an_action_without_inputs_and_illegal_ones(ledger, tmp_path):
    world, _cases, registered = ledger
    path = export_file(world.supervisor, tmp_path)
    index = {r[0]: i for i, r in enumerate(read_back(path))}
    rectifying = next(n for n in index if n != registered.number)
    data = edit(path, {(index[registered.number], "state"): state_label(State.ASSESSING),
                       (index[rectifying], "state"): state_label(State.CLOSED)})
    before = footprint()
    job = import_bytes(world.supervisor, data)
    assert job.invalid == 1
    bad = ImportRow.objects.get(ledger_import=job, action="error")
    assert bad.number == rectifying
    assert bad.problems[0]["code"] == "ledger.illegal_state_change"
    with pytest.raises(ValidationFailed) as refused:
        services.commit_import(actor=world.supervisor, ledger_import=job)
    assert refused.value.code == "ledger.rows_invalid"
    assert footprint() == before
    assessing = edit(path, {(index[registered.number], "state"): state_label(State.ASSESSING)})
    good = import_bytes(world.supervisor, assessing)
    assert good.updates == 1
    services.commit_import(actor=world.supervisor, ledger_import=good)
    registered.refresh_from_db()
    assert registered.state == State.ASSESSING


@pytest.mark.django_db
def test_new_rows_register_cases_with_references_checked(ledger, tmp_path):
    from taizhang.ledger.tests.helpers import ledger_row, workbook_bytes

    world, _cases, _registered = ledger
    rows = [
        ledger_row(source=f"巡察发现（{world.round.name}）", category="供电", title="新发现：路灯不亮\n多处路灯损坏",
                   enterprises=world.enterprise.name, remarks="导入"),
        ledger_row(source="巡察发现", category="不存在的类别", title="类别错误"),
        ledger_row(source="巡察发现", title="企业错误", enterprises="长春精工零部件公司"),
        ledger_row(source="巡察发现", title="信用代码错误", enterprises="91220101MA17Q8X3X1"),
        ledger_row(source="巡察发现", title="状态错误", state="已销号"),
        ledger_row(source="巡察发现", category="供电", title="新发现：路灯不亮\n多处路灯损坏",
                   enterprises=world.enterprise.name),
    ]
    job = import_bytes(world.supervisor, workbook_bytes(rows))
    report = {r.row: r for r in selectors.all_import_rows(job)}
    assert report[3].action == "create"
    assert report[4].problems[0]["code"] == "ledger.unknown_category"
    assert report[5].problems[0]["code"] == "ledger.unknown_enterprise"
    assert world.enterprise.name in report[5].problems[0]["suggestions"]
    assert report[6].problems[0]["code"] == "ledger.invalid_credit_code"
    assert report[7].problems[0]["code"] == "ledger.illegal_state_change"
    assert report[8].problems[0]["code"] == "ledger.duplicate_row"
    only_good = import_bytes(world.supervisor, workbook_bytes(rows[:1]))
    count = Case.objects.count()
    services.commit_import(actor=world.supervisor, ledger_import=only_good)
    assert Case.objects.count() == count + 1
    created = Case.objects.order_by("-pk")[0]
    assert created.title == "新发现：路灯不亮"
    assert created.inspection_round_id == world.round.pk
    assert list(created.enterprises.all()) == [world.enterprise]
    assert AuditEvent.objects.filter(request_id=only_good.audit_id, action="case.registered").count() == 1


@pytest.mark.django_db
def test_csv_export_starts_with_a_bom(ledger, tmp_path):
    world, (first, _second), _registered = ledger
    path = tmp_path / "ledger.csv"
    services.write_export(world.handler, LedgerFilters(), path, format="csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == layout.HEADERS
    assert first.number in text


@pytest.mark.django_db
def test_a_new_sheet_starts_when_one_is_full_and_the_import_reads_them_all(ledger, tmp_path):
    from taizhang.ledger import export

    world, _cases, _registered = ledger
    path = tmp_path / "sheets.xlsx"
    rows = export.filtered_rows(world.supervisor, LedgerFilters())
    assert export.write_xlsx(path, rows, title="台账", rows_per_sheet=2) == 3
    import openpyxl

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["整改台账", "整改台账2"]
    assert [c.value for c in book.worksheets[1][2]] == layout.HEADERS
    job = import_bytes(world.supervisor, path.read_bytes())
    assert (job.unchanged, job.invalid) == (3, 0)


@pytest.mark.django_db
def test_chunks_keep_the_order_across_cases_the_user_does_not_see(ledger):
    from taizhang.ledger import export

    world, (first, second), _registered = ledger
    later = drive(Cast.own(world), State.RECTIFYING, title="排水管网堵塞")
    for size in (1, 2, 1000):
        rows = export.filtered_rows(world.handler, LedgerFilters(), chunk_size=size)
        assert [r[0] for r in rows] == [first.number, second.number, later.number]


@pytest.mark.parametrize("background", [True, False])
def test_a_failure_on_either_side_stops_the_export_without_a_file(tmp_path, monkeypatch, background):
    from taizhang.ledger import export

    monkeypatch.setattr(export, "_writes_in_background", lambda: background)

    def failing_rows():
        yield ["CC-2023-0001", *[""] * 18]
        raise RuntimeError("connection lost")

    path = tmp_path / "ledger.xlsx"
    with pytest.raises(RuntimeError, match="connection lost"):
        export.write_xlsx(path, failing_rows(), title="台账")
    assert not path.exists()
    monkeypatch.setattr(export, "CHUNK_SIZE", 1)
    unwritable: list[list[Any]] = [[object()], *[["CC-2023-0002"]] * 10]  # the writer fails on the first row
    with pytest.raises(TypeError):
        export.write_xlsx(path, unwritable, title="台账")
    assert not path.exists()
