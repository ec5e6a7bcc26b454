"""Small workbooks built in the tests, and the footprint an import must not change."""

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.audit.models import AuditEvent
from taizhang.cases.models import Case, ProgressReport
from taizhang.core.models import OutboxMessage
from taizhang.ledger import layout

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data: bytes, name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def workbook_bytes(rows: list[list[Any]], *, headers: list[str] | None = None, title: str | None = "台账",
                   sheet: str = "整改台账", before: list[str] = (), merge: str = "") -> bytes:  # type: ignore[assignment]
    """A ledger workbook: optional sheets before it, a title row, the header row, then `rows`."""
    book = openpyxl.Workbook()
    first: Any = book.active
    for name in before:
        other = first if first.title == "Sheet" else book.create_sheet()
        other.title = name
        other.append(["说明：本表为填报说明"])
    ws: Any = book.create_sheet(sheet) if before else first
    ws.title = sheet
    if title is not None:
        ws.append([title])
    ws.append(headers or layout.HEADERS)
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ledger_row(**cells: Any) -> list[Any]:
    return [cells.get(key, "") for key in layout.COLUMN_KEYS]


def read_back(path: Path | str) -> list[list[Any]]:
    book = openpyxl.load_workbook(path)
    rows: list[list[Any]] = []
    for ws in book.worksheets:
        rows += [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]
    return rows


def edit(path: Path | str, changes: dict[tuple[int, str], Any]) -> bytes:
    """The exported workbook with some cells changed: {(data row index, column key): value}."""
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    for (index, key), value in changes.items():
        ws.cell(row=3 + index, column=layout.COLUMN_KEYS.index(key) + 1, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 2**20))
    return buffer.getvalue()


def encrypted_workbook() -> bytes:
    """The start of an OLE compound file as Excel writes for a password-protected workbook."""
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le")
            + b"\0" * 64 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 2048)


def footprint() -> dict[str, Any]:
    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "state", "version", "progress_summary")),
        "reports": ProgressReport.objects.count(),
        "audit": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }
