"""`taizhang export-ledger` and `taizhang import-ledger`, through the console script's dispatch."""

import sys

import pytest
from django.db import connections

from taizhang import cli
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.ledger.tests.helpers import edit, footprint, ledger_row, read_back, workbook_bytes
from taizhang.testing.matrix import Cast, drive


def taizhang(monkeypatch, *argv: str) -> int:
    monkeypatch.setattr(sys, "argv", ["taizhang", *argv])
    monkeypatch.setattr(connections, "close_all", lambda: None)  # a command closes them; the test's stays open
    try:
        cli.main()
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


@pytest.fixture
def case(world):
    return drive(Cast.own(world), State.RECTIFYING)


@pytest.mark.django_db
def test_export_then_import_from_the_command_line(monkeypatch, world, case, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    assert taizhang(monkeypatch, "export-ledger", "-o", str(out), "--as", "handler", "--state", "rectifying") == 0
    assert [r[0] for r in read_back(out)] == [case.number]
    assert taizhang(monkeypatch, "export-ledger", "-o", str(tmp_path / "l.csv"), "--as", "handler") == 0
    assert (tmp_path / "l.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert taizhang(monkeypatch, "export-ledger", "-o", str(out), "--as", "handler", "--state", "bogus") == 1

    edited = tmp_path / "edited.xlsx"
    edited.write_bytes(edit(out, {(0, "progress"): "命令行报告的进展"}))
    capsys.readouterr()
    assert taizhang(monkeypatch, "import-ledger", str(edited), "--dry-run", "--as", "handler") == 0
    assert "命令行报告的进展" in capsys.readouterr().out
    assert Case.objects.get(pk=case.pk).progress_summary != "命令行报告的进展"
    assert taizhang(monkeypatch, "import-ledger", str(edited), "--as", "handler") == 0
    assert Case.objects.get(pk=case.pk).progress_summary == "命令行报告的进展"


@pytest.mark.django_db
def test_import_exits_non_zero_on_invalid_rows_and_refused_files(monkeypatch, world, case, tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes([ledger_row(number=case.number, progress="新进展"),
                                    ledger_row(number="CC-1999-0001", progress="x")]))
    before = footprint()
    assert taizhang(monkeypatch, "import-ledger", str(bad), "--as", "handler") == 1
    report = capsys.readouterr().out
    assert "CC-1999-0001" in report
    assert "✗" in report
    assert footprint() == before
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    assert taizhang(monkeypatch, "import-ledger", str(fake), "--as", "handler") == 1
    assert "ledger.not_a_workbook" in capsys.readouterr().err
    assert taizhang(monkeypatch, "import-ledger", str(bad), "--as", "nobody") == 1
