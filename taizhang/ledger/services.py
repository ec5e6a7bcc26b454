"""The writers of the ledger app: export jobs, import jobs, column mappings — and the import's commit,
which changes cases only through `taizhang.cases.services` (register_case, report_progress and the
workflow actions), in one transaction, with the import's id on every audit event.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.audit.services import record_event
from taizhang.cases import listing, policies
from taizhang.cases import services as case_services
from taizhang.cases.models import Category
from taizhang.core import clock
from taizhang.core.errors import DomainError, NotFound, ValidationFailed
from taizhang.core.middleware import current_request_id
from taizhang.ledger import errors, export, layout
from taizhang.ledger.models import ColumnMapping, ImportRow, LedgerExport, LedgerImport
from taizhang.ledger.validation import RowResult, Validator
from taizhang.ledger.workbook import LedgerWorkbook, NeedsMapping, check_file
from taizhang.orgs.models import Enterprise, InspectionRound

IMMEDIATE_EXPORT_ROWS = 5000
IMMEDIATE_IMPORT_BYTES = 512 * 1024
IMMEDIATE_COMMIT_CHANGES = 500
ROW_BATCH = 1000
EXPORT_DIR = "ledger/exports"
IMPORT_DIR = "ledger/imports"
CONTENT_TYPES: dict[str, str] = {
    LedgerExport.Format.XLSX.value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    LedgerExport.Format.CSV.value: "text/csv; charset=utf-8",
}


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def _audit(actor: User, action: str, object_type: str, object_id: str, after: dict[str, Any]) -> None:
    seat = next(iter(policies.seats(actor)), None)
    record_event(actor=case_services.actor_context(actor, seat), action=action, object_type=object_type,
                 object_id=object_id, after=after)


def _check_format(format: str) -> str:
    if format not in LedgerExport.Format.values:
        raise ValidationFailed(_("Choose the format xlsx or csv."), code="validation.invalid_choice", field="format")
    return format


# --- export --------------------------------------------------------------------------------------

def parse_filters(query: str) -> listing.LedgerFilters:
    return listing.LedgerFilters.from_query(QueryDict(query))


def write_export(actor: User, filters: listing.LedgerFilters, path: Path | str, *, format: str = "xlsx",
                 progress: export.Progress | None = None) -> int:
    """Write the user's filtered ledger to `path`; returns the number of rows."""
    rows = export.filtered_rows(actor, filters)
    if _check_format(format) == LedgerExport.Format.CSV:
        return export.write_csv(path, rows, progress=progress)
    return export.write_xlsx(path, rows, title=export.title_for(actor), progress=progress)


def is_small_export(actor: User, filters: listing.LedgerFilters) -> bool:
    return not listing.count_capped(actor, filters, cap=IMMEDIATE_EXPORT_ROWS).capped


@dataclass
class ImmediateExport:
    path: Path
    rows: int
    filename: str


def export_immediately(*, actor: User, query: str, format: str = "xlsx") -> ImmediateExport:
    """A small export written at once to a temporary file (the caller streams and removes it)."""
    filters = parse_filters(query)
    _check_format(format)
    handle, name = tempfile.mkstemp(suffix=f".{format}", prefix="ledger-")
    os.close(handle)
    try:
        rows = write_export(actor, filters, name, format=format)
    except BaseException:
        os.unlink(name)
        raise
    with transaction.atomic():
        _audit(actor, "ledger.exported", "ledger_export", "immediate", {"query": query, "format": format,
                                                                        "rows": rows})
    return ImmediateExport(Path(name), rows, download_name(format))


def download_name(format: str) -> str:
    return f"整改台账-{clock.today().isoformat()}.{format}"


@transaction.atomic
def create_export(*, actor: User, query: str, format: str = "xlsx") -> LedgerExport:
    """Queue a background export of the user's filtered ledger; a bad filter changes nothing."""
    filters = parse_filters(query)
    _check_format(format)
    total = listing.filtered_cases(actor, filters).count()
    job = LedgerExport.objects.create(owner=actor, query=query[:2000], format=format, total=total)
    _audit(actor, "ledger.export_requested", "ledger_export", job.pk.hex, {"query": query, "format": format,
                                                                           "rows": total})
    transaction.on_commit(lambda: _enqueue("run_export", str(job.pk)))
    return job


def _enqueue(name: str, job_id: str) -> None:
    from taizhang.ledger import tasks

    getattr(tasks, name).enqueue(job_id)


def run_export(job_id: str) -> None:
    """The task's work: write the file, reporting progress; a failure is recorded on the job."""
    job = LedgerExport.objects.select_related("owner").get(pk=job_id)
    if job.status == LedgerExport.Status.DONE:
        return
    LedgerExport.objects.filter(pk=job.pk).update(status=LedgerExport.Status.RUNNING, written=0)
    relative = f"{EXPORT_DIR}/{job.pk.hex}.{job.format}"
    path = media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(written: int) -> None:
        LedgerExport.objects.filter(pk=job.pk).update(written=written)

    try:
        rows = write_export(job.owner, parse_filters(job.query), path, format=job.format, progress=progress)
    except DomainError as error:
        LedgerExport.objects.filter(pk=job.pk).update(status=LedgerExport.Status.FAILED, error=str(error.message),
                                                      finished_at=clock.now())
        return
    LedgerExport.objects.filter(pk=job.pk).update(status=LedgerExport.Status.DONE, written=rows,
                                                  total=max(rows, job.total), file=relative, finished_at=clock.now())


# --- import: upload and validation ---------------------------------------------------------------

def _save_upload(upload: Any) -> tuple[str, int]:
    relative = f"{IMPORT_DIR}/{uuid.uuid4().hex}.xlsx"
    path = media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    limit: int = settings.TAIZHANG_MAX_UPLOAD_BYTES
    size = 0
    with open(path, "wb") as handle:
        chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(2**20), b"")
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                break
            handle.write(chunk)
    if size > limit:
        path.unlink()
        raise errors.refused(errors.TOO_LARGE, _("The file is too large; the limit is %(limit).0f MB.")
                             % {"limit": limit / 2**20})
    return relative, size


def upload_import(*, actor: User, upload: Any, name: str = "", validate_now: bool | None = None) -> LedgerImport:
    """Store an uploaded ledger and check it. A file that is no sane workbook is refused outright:
    no record, no file kept. Small files are validated at once, larger ones by a task."""
    relative, size = _save_upload(upload)
    original = (name or str(getattr(upload, "name", "") or "ledger.xlsx"))[:200]
    try:
        check_file(media_path(relative))
    except ValidationFailed:
        media_path(relative).unlink(missing_ok=True)
        raise
    job = LedgerImport.objects.create(owner=actor, original_name=original, file=relative, size=size)
    if validate_now is None:
        validate_now = size <= IMMEDIATE_IMPORT_BYTES
    if validate_now:
        validate_import(str(job.pk))
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: _enqueue("validate_import_task", str(job.pk)))
    return job


def _saved_mapping_for(owner: User, headers: list[str]) -> dict[str, str] | None:
    present = {layout.normalise_header(h) for h in headers}
    for mapping in ColumnMapping.objects.filter(owner=owner).order_by("-created_at"):
        wanted = {layout.normalise_header(h) for h, key in mapping.columns.items() if key}
        if wanted and wanted <= present:
            return dict(mapping.columns)
    return None


def _open(job: LedgerImport) -> LedgerWorkbook:
    return LedgerWorkbook(media_path(job.file), job.mapping or None)


def _results(job: LedgerImport, book: LedgerWorkbook, validator: Validator,
             progress: bool = True) -> Iterator[RowResult]:
    def report(done: int) -> None:
        LedgerImport.objects.filter(pk=job.pk).update(processed=done)

    return validator.validate(book.rows(), report if progress else None)


def validate_import(job_id: str) -> None:
    """Check every row and store the per-row report (nothing else is written)."""
    job = LedgerImport.objects.select_related("owner").get(pk=job_id)
    ImportRow.objects.filter(ledger_import=job).delete()
    try:
        with _open(job) as book:
            try:
                sheets = book.find_sheets()
            except NeedsMapping as needs:
                saved = None if job.mapping else _saved_mapping_for(job.owner, needs.headers)
                if saved is None:
                    LedgerImport.objects.filter(pk=job.pk).update(status=LedgerImport.Status.NEEDS_MAPPING,
                                                                  found_headers=needs.headers)
                    return
                LedgerImport.objects.filter(pk=job.pk).update(mapping=saved)
                sheets = []
            if sheets:
                counts = _store_results(job, book, sheets)
    except ValidationFailed as error:
        ImportRow.objects.filter(ledger_import=job).delete()
        LedgerImport.objects.filter(pk=job.pk).update(status=LedgerImport.Status.REFUSED, error_code=error.code,
                                                      error=str(error.message))
        return
    if not sheets:  # read again with the saved mapping of this layout
        validate_import(job_id)
        return
    processed = sum(counts.values())
    status = LedgerImport.Status.VALIDATED
    error_code = message = ""
    if processed == 0:
        status, error_code = LedgerImport.Status.REFUSED, errors.NO_ROWS
        message = _("The ledger sheet has no data rows.")
    LedgerImport.objects.filter(pk=job.pk).update(status=status, processed=processed, total=processed,
                                                  error_code=error_code, error=message, **counts)


ACTION_COUNTS = {"create": "creates", "update": "updates", "unchanged": "unchanged", "error": "invalid"}


def _store_results(job: LedgerImport, book: LedgerWorkbook, sheets: list[Any]) -> dict[str, int]:
    notes = []
    ignored = book.ignored_headers()
    if ignored:
        notes.append(_("Columns not in the ledger layout were ignored: %(names)s.") % {"names": "、".join(ignored)})
    titles = {sheet.title for sheet in sheets}
    skipped = [ws.title for ws in book.book.worksheets if ws.title not in titles]
    if skipped:
        notes.append(_("Sheets without the ledger header row were skipped: %(names)s.")
                     % {"names": "、".join(skipped)})
    LedgerImport.objects.filter(pk=job.pk).update(
        total=sum(max((sheet.worksheet.max_row or 0) - sheet.header_row, 0) for sheet in sheets), notes=notes)
    counts = dict.fromkeys(ACTION_COUNTS.values(), 0)
    batch: list[ImportRow] = []
    for result in _results(job, book, Validator(job.owner)):
        counts[ACTION_COUNTS[result.action]] += 1
        batch.append(ImportRow(ledger_import=job, sheet=result.sheet[:31], row=result.row,
                               number=result.number[:32], action=result.action, values=result.values,
                               changes=result.changes, problems=[p.as_dict() for p in result.problems]))
        if len(batch) >= ROW_BATCH:
            ImportRow.objects.bulk_create(batch)
            batch = []
    ImportRow.objects.bulk_create(batch)
    return counts


def map_columns(*, actor: User, ledger_import: LedgerImport, columns: dict[str, str], save_as: str = "") -> None:
    """Read the user's own layout with this header → ledger column mapping (kept under `save_as`), and check again."""
    job = _own_import(actor, ledger_import)
    clean = {header: key for header, key in columns.items() if key in layout.COLUMN_KEYS}
    if "number" not in clean.values() and "title" not in clean.values():
        raise ValidationFailed(_("Map at least the case number or the problem description column."),
                               code="validation.mapping_incomplete", field="columns")
    if len(set(clean.values())) != len(clean):
        raise ValidationFailed(_("Map each ledger column at most once."), code="validation.mapping_duplicate",
                               field="columns")
    with transaction.atomic():
        if save_as.strip():
            ColumnMapping.objects.update_or_create(owner=actor, name=save_as.strip()[:60],
                                                   defaults={"columns": clean, "created_at": clock.now()})
        LedgerImport.objects.filter(pk=job.pk).update(mapping=clean, status=LedgerImport.Status.VALIDATING,
                                                      processed=0)
    validate_import(str(job.pk))


def delete_mapping(*, actor: User, pk: int) -> None:
    deleted, _rows = ColumnMapping.objects.filter(owner=actor, pk=pk).delete()
    if not deleted:
        raise NotFound()


def _own_import(actor: User, ledger_import: LedgerImport) -> LedgerImport:
    if ledger_import.owner_id != actor.pk:
        raise NotFound()
    return ledger_import


# --- import: commit ------------------------------------------------------------------------------

@contextmanager
def audit_request_id(value: str) -> Iterator[None]:
    """Audit events written inside carry `value` as their request id (the import's id)."""
    token = current_request_id.set(value)
    try:
        yield
    finally:
        current_request_id.reset(token)


def commit_import(*, actor: User, ledger_import: LedgerImport, apply_now: bool | None = None) -> LedgerImport:
    """Apply a checked import: all of it or nothing. Large ones are applied by a task."""
    job = _own_import(actor, ledger_import)
    if job.status != LedgerImport.Status.VALIDATED:
        raise ValidationFailed(_("This import cannot be applied now (it is “%(status)s”).")
                               % {"status": job.get_status_display()}, code=errors.NOT_READY)
    if job.invalid:
        raise ValidationFailed(_("%(n)d rows have errors. Correct them and upload the file again; nothing was "
                                 "applied.") % {"n": job.invalid}, code=errors.HAS_ERRORS)
    claimed = LedgerImport.objects.filter(pk=job.pk, status=LedgerImport.Status.VALIDATED).update(
        status=LedgerImport.Status.COMMITTING, processed=0)
    if claimed != 1:
        raise ValidationFailed(_("This import is already being applied."), code=errors.NOT_READY)
    if apply_now is None:
        apply_now = job.creates + job.updates <= IMMEDIATE_COMMIT_CHANGES
    if apply_now:
        apply_import(str(job.pk))
    else:
        transaction.on_commit(lambda: _enqueue("apply_import_task", str(job.pk)))
    job.refresh_from_db()
    return job


class _Invalid(Exception):
    def __init__(self, result: RowResult) -> None:
        super().__init__("invalid row")
        self.result = result


def apply_import(job_id: str) -> None:
    """Re-check the file against the database as it is now and apply every row in one transaction;
    any problem rolls everything back and is recorded on the import."""
    job = LedgerImport.objects.select_related("owner").get(pk=job_id)
    actor = job.owner
    counts = {"creates": 0, "updates": 0, "unchanged": 0}
    try:
        with transaction.atomic(), audit_request_id(job.audit_id), _open(job) as book:
            book.find_sheets()
            for result in _results(job, book, Validator(actor), progress=False):
                if result.has_errors:
                    raise _Invalid(result)
                for operation in result.operations:
                    try:
                        _apply(actor, operation)
                    except DomainError as error:
                        result.error("number", error.code, str(error.message))
                        raise _Invalid(result) from None
                counts[ACTION_COUNTS[result.action]] += 1
            _audit(actor, "ledger.imported", "ledger_import", job.pk.hex,
                   {"file": job.original_name, **counts})
            LedgerImport.objects.filter(pk=job.pk).update(status=LedgerImport.Status.COMMITTED,
                                                          committed_at=clock.now(), **counts)
    except _Invalid as invalid:
        problem = next(p for p in invalid.result.problems if p.error)
        LedgerImport.objects.filter(pk=job.pk).update(
            status=LedgerImport.Status.FAILED, error_code=problem.code,
            error=_("Nothing was applied: row %(row)s changed since it was checked — %(message)s")
            % {"row": f"{invalid.result.sheet}!{invalid.result.row}", "message": problem.message})
    except (NeedsMapping, ValidationFailed) as error:
        message = str(getattr(error, "message", "")) or _("The file could not be read again.")
        LedgerImport.objects.filter(pk=job.pk).update(status=LedgerImport.Status.FAILED, error=message)


def _apply(actor: User, operation: Any) -> None:
    if operation.action == "register":
        inputs = dict(operation.inputs)
        category = Category.objects.get(pk=inputs.pop("category")) if inputs.get("category") else None
        rnd = InspectionRound.objects.select_related("group").get(pk=inputs.pop("inspection_round")) \
            if inputs.get("inspection_round") else None
        inputs.pop("category", None)
        inputs.pop("inspection_round", None)
        enterprises = list(Enterprise.objects.filter(pk__in=inputs.pop("enterprises")))
        case_services.register_case(actor=actor, category=category, inspection_round=rnd, enterprises=enterprises,
                                    **inputs)
        return
    case_services.perform_action(operation.number, operation.action, actor=actor, **operation.inputs)


# --- import: the error workbook ------------------------------------------------------------------

def write_error_workbook(job: LedgerImport, path: Path | str) -> int:
    """The uploaded rows in the ledger layout, each bad cell filled red with a comment saying what is
    wrong (warnings yellow), and a last column explaining the row. Returns the number of rows with errors."""
    import xlsxwriter  # type: ignore[import-untyped]

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
    header = workbook.add_format({"bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1})
    plain = workbook.add_format({"text_wrap": True, "valign": "top"})
    bad = workbook.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FFC7CE", "font_color": "#9C0006"})
    warned = workbook.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FFEB9C"})
    sheet = workbook.add_worksheet(layout.SHEET_NAME)
    explain = len(layout.COLUMNS)
    for column, key in enumerate(layout.COLUMN_KEYS):
        sheet.set_column(column, column, export.WIDTHS[key])
    sheet.set_column(explain, explain, 50)
    sheet.set_column(explain + 1, explain + 1, 14)
    with layout.layout_language():
        title = _("Rows of “%(file)s” with their problems; correct the marked cells and upload again.") % {
            "file": job.original_name}
        explain_header, where_header = _("Problems"), _("Sheet and row")
    sheet.write(0, 0, title)
    sheet.write_row(1, 0, [*layout.HEADERS, explain_header, where_header], header)
    sheet.freeze_panes(2, 1)
    failing = 0
    for index, row in enumerate(ImportRow.objects.filter(ledger_import=job).order_by("pk").iterator(2000), start=2):
        by_column: dict[str, list[dict[str, Any]]] = {}
        for problem in row.problems:
            by_column.setdefault(problem["column"], []).append(problem)
        failing += bool(row.errors)
        for column, key in enumerate(layout.COLUMN_KEYS):
            problems = by_column.get(key, [])
            cell_format = bad if any(p["error"] for p in problems) else warned if problems else plain
            sheet.write_string(index, column, str(row.values.get(key, "")), cell_format)
            if problems:
                sheet.write_comment(index, column, "\n".join(p["message"] for p in problems),
                                    {"x_scale": 2, "y_scale": 1.5})
        sheet.write_string(index, explain, "\n".join(f"{p['header']}：{p['message']}" for p in row.problems), plain)
        sheet.write_string(index, explain + 1, f"{row.sheet}!{row.row}", plain)
    workbook.close()
    return failing
