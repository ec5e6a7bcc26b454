"""Reading an uploaded ledger workbook safely: the file is checked before any parser sees it
(not a workbook, encrypted, macros, zip bomb, too big), then streamed with openpyxl `read_only`.

The sheet XML is scanned once, raw, for what read-only mode cannot tell: the declared size, the
number of formulas and the merged cells (whose value openpyxl gives only to the top-left cell).
"""

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils.cell import column_index_from_string, range_boundaries

from taizhang.ledger import errors, layout

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
MAX_MEMBERS = 10_000
MAX_UNCOMPRESSED_BYTES = 512 * 2**20
MAX_SHARED_STRINGS_BYTES = 100 * 2**20
MAX_RATIO = 100  # uncompressed ÷ compressed, for parts over RATIO_FLOOR bytes
RATIO_FLOOR = 2**20
MAX_COLUMNS = 64
MAX_FORMULAS = 1000
HEADER_SEARCH_ROWS = 10
MIN_HEADER_MATCHES = 3
SCAN_CHUNK = 2**20
DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
MERGE_REF = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
FORMULA_TAG = re.compile(rb"<f[ >/]")


def max_rows() -> int:
    return int(getattr(settings, "TAIZHANG_LEDGER_IMPORT_MAX_ROWS", 200_000))


def check_file(path: Path | str) -> None:
    """Refuse anything that is not a plain .xlsx workbook of sane size, before parsing it."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise errors.refused(errors.NOT_A_WORKBOOK, _("The file is empty."))
    if size > settings.TAIZHANG_MAX_UPLOAD_BYTES:
        raise errors.refused(errors.TOO_LARGE, _("The file is too large (%(size).1f MB); the limit is %(limit).0f MB.")
                             % {"size": size / 2**20, "limit": settings.TAIZHANG_MAX_UPLOAD_BYTES / 2**20})
    with open(path, "rb") as handle:
        head = handle.read(8)
        if head == OLE_MAGIC:
            data = handle.read()
            if any(marker in data for marker in ENCRYPTION_MARKERS):
                raise errors.refused(errors.ENCRYPTED, _(
                    "The workbook is protected by a password. Remove the password in Excel (File › Info › "
                    "Protect Workbook) and upload it again."))
            raise errors.refused(errors.LEGACY_XLS, _(
                "This is an old Excel 97–2003 file (.xls). Save it as an Excel workbook (.xlsx) and upload it again."))
    not_a_workbook = errors.refused(errors.NOT_A_WORKBOOK, _(
        "This file is not an Excel workbook (.xlsx). Export or save the ledger as .xlsx and upload it again."))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_a_workbook from None
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_a_workbook
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise errors.refused(errors.MACROS, _("Workbooks with macros are not accepted. Save it as .xlsx without "
                                              "macros and upload it again."))
    bomb = errors.refused(errors.ZIP_BOMB, _("The workbook unpacks to far more data than it holds; it looks "
                                             "damaged or malicious and was not opened."))
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise bomb
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise bomb
        if member.filename == "xl/sharedStrings.xml" and member.file_size > MAX_SHARED_STRINGS_BYTES:
            raise bomb


@dataclass
class SheetScan:
    formulas: int = 0
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row


def scan_sheet(archive: zipfile.ZipFile, part: str) -> SheetScan:
    """Declared size, formula count and merged ranges of one sheet, from its raw XML in one pass."""
    scan = SheetScan()
    tail = b""
    first = True
    with archive.open(part) as stream:
        while chunk := stream.read(SCAN_CHUNK):
            window = tail + chunk
            if first:
                first = False
                dimension = DIMENSION.search(window[:4096])
                if dimension:
                    if column_index_from_string(dimension.group(1).decode()) > MAX_COLUMNS:
                        raise _too_many_columns()
                    if int(dimension.group(2)) > max_rows() + HEADER_SEARCH_ROWS:
                        raise _too_many_rows()
            scan.formulas += len(FORMULA_TAG.findall(window)) - len(FORMULA_TAG.findall(tail))
            if scan.formulas > MAX_FORMULAS:
                raise errors.refused(errors.TOO_MANY_FORMULAS, _(
                    "The workbook holds more than %(n)d formulas. Copy the ledger and paste it as values "
                    "(Paste Special › Values), then upload it again.") % {"n": MAX_FORMULAS})
            scan.merges += [_bounds(ref.decode()) for ref in MERGE_REF.findall(window) if ref not in tail]
            tail = window[-64:]
    return scan


def _bounds(ref: str) -> tuple[int, int, int, int]:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return min_col or 1, min_row or 1, max_col or MAX_COLUMNS, max_row or 1


def _too_many_rows() -> Exception:
    return errors.refused(errors.TOO_MANY_ROWS, _("The workbook has more than %(n)d rows; split it into smaller "
                                                  "files.") % {"n": max_rows()})


def _too_many_columns() -> Exception:
    return errors.refused(errors.TOO_MANY_COLUMNS, _("The sheet has more than %(n)d columns; keep only the ledger "
                                                     "columns.") % {"n": MAX_COLUMNS})


@dataclass
class SheetRow:
    sheet: str
    row: int
    values: dict[str, Any]  # column key -> cell value
    formulas: set[str] = field(default_factory=set)
    merged: set[str] = field(default_factory=set)  # columns whose value came from a merged cell above


@dataclass
class LedgerSheet:
    title: str
    header_row: int
    columns: dict[int, str]  # 0-based column index -> ledger column key
    ignored: list[str]  # header texts of columns that are not ledger columns
    worksheet: Any
    scan: SheetScan


class NeedsMapping(Exception):
    """No sheet carries the ledger header row: the user maps the columns of their layout once."""

    def __init__(self, headers: list[str]) -> None:
        super().__init__("needs mapping")
        self.headers = headers


def _match_header(values: tuple[Any, ...], mapping: dict[str, str]) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, value in enumerate(values):
        header = layout.normalise_header(value)
        if not header:
            continue
        key = mapping.get(header) or layout.STANDARD_HEADERS.get(header)
        if key and key not in columns.values():
            columns[index] = key
        else:
            ignored.append(str(value))
    return columns, ignored


class LedgerWorkbook:
    """An uploaded ledger, checked and opened read-only. Use as a context manager."""

    def __init__(self, path: Path | str, mapping: dict[str, str] | None = None) -> None:
        check_file(path)
        self.path = Path(path)
        self.mapping = {layout.normalise_header(k): v for k, v in (mapping or {}).items() if v in layout.COLUMN_KEYS}
        try:
            self.book = openpyxl.load_workbook(self.path, read_only=True, data_only=False, keep_links=False)
        except Exception:  # openpyxl raises many kinds for damaged files; none of them is the user's to read
            raise errors.refused(errors.NOT_A_WORKBOOK, _(
                "The workbook could not be read; it may be damaged. Open it in Excel, save it as .xlsx and "
                "upload it again.")) from None
        self.sheets: list[LedgerSheet] = []

    def __enter__(self) -> "LedgerWorkbook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.book.close()

    def find_sheets(self) -> list[LedgerSheet]:
        """The sheets carrying the ledger header row (a long export spans several). NeedsMapping when none does."""
        candidates: list[str] = []
        archive = self.book._archive  # type: ignore[attr-defined]  # the zip openpyxl reads from
        enough = min(MIN_HEADER_MATCHES, len(self.mapping)) if self.mapping else MIN_HEADER_MATCHES
        for worksheet in self.book.worksheets:
            for offset, values in enumerate(worksheet.iter_rows(max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS,
                                                                values_only=True)):
                columns, ignored = _match_header(values, self.mapping)
                if len(columns) >= enough:
                    scan = scan_sheet(archive, worksheet._worksheet_path)  # type: ignore[attr-defined]
                    self.sheets.append(LedgerSheet(worksheet.title, offset + 1, columns, ignored, worksheet, scan))
                    break
                texts = [str(v).strip() for v in values if isinstance(v, str) and v.strip()]
                if len(texts) > len(candidates):
                    candidates = texts
        if not self.sheets:
            raise NeedsMapping(candidates)
        return self.sheets

    def rows(self) -> Iterator[SheetRow]:
        """The data rows of every ledger sheet; blank rows skipped, merged cells filled down."""
        count = 0
        for sheet in self.sheets or self.find_sheets():
            merges = sorted((m for m in sheet.scan.merges if m[3] > sheet.header_row), key=lambda m: m[1])
            active: list[tuple[int, int, int, int]] = []
            tops: dict[tuple[int, int], Any] = {}
            width = max(sheet.columns) + 1
            for number, cells in enumerate(sheet.worksheet.iter_rows(min_row=sheet.header_row + 1, max_col=width),
                                           start=sheet.header_row + 1):
                while merges and merges[0][1] <= number:
                    active.append(merges.pop(0))
                active = [m for m in active if m[3] >= number]
                values: dict[str, Any] = {}
                formulas: set[str] = set()
                merged: set[str] = set()
                for index, cell in enumerate(cells):
                    key = sheet.columns.get(index)
                    if key is None:
                        continue
                    if getattr(cell, "data_type", None) == "f":
                        formulas.add(key)
                    values[key] = cell.value
                for min_col, min_row, _max_col, _max_row in active:
                    key = sheet.columns.get(min_col - 1)
                    if key is None:
                        continue
                    if min_row == number:
                        tops[(min_col, min_row)] = values.get(key)
                    elif values.get(key) in (None, ""):
                        values[key] = tops.get((min_col, min_row))
                        merged.add(key)
                if all(layout.text(v) == "" for v in values.values()):
                    continue
                count += 1
                if count > max_rows():
                    raise _too_many_rows()
                yield SheetRow(sheet.title, number, values, formulas, merged)

    def ignored_headers(self) -> list[str]:
        return sorted({header for sheet in self.sheets for header in sheet.ignored})
