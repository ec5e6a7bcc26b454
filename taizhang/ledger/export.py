"""Streaming the ledger out: rows read from the database in keyset chunks (plain values, related
names fetched set-based per chunk, no per-row queries) and written by xlsxwriter in `constant_memory`
mode or as CSV (UTF-8 with BOM, so Excel opens it in Chinese). Memory stays flat as the ledger grows.
"""

import csv
import datetime as dt
import itertools
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.cases import listing, policies
from taizhang.cases.models import Acceptance, Assignment, Case, Category, Evidence, FollowUp, PlanItem, Recheck
from taizhang.core import clock
from taizhang.ledger import layout

CHUNK_SIZE = 5000
EXCEL_MAX_ROWS = 1_048_576
TITLE_ROWS = 2  # the title row and the header row on every sheet
DATA_ROWS_PER_SHEET = EXCEL_MAX_ROWS - TITLE_ROWS
WIDTHS = {"number": 16, "source": 22, "category": 20, "title": 40, "enterprises": 26, "immediate": 8, "goal": 36,
          "responsible_leader": 10, "units": 30, "responsible_person": 10, "deadline": 12, "progress": 40,
          "state": 14, "evidence": 10, "institution_building": 24, "acceptance": 24, "closure": 20,
          "followup": 18, "remarks": 20}
DATE_FORMAT = "yyyy-mm-dd"
WORKBOOK_OPTIONS = {
    "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
    # Every cell wraps and sits at the top by default, so text cells need no format of their own (a format
    # per cell costs xlsxwriter more than the rest of the cell); dates get the date format.
    "default_format_properties": {"font_name": "Calibri", "font_size": 11, "text_wrap": True, "valign": "top"},
    "default_date_format": DATE_FORMAT,
}
CASE_FIELDS = ("id", "number", "title", "source", "mode", "category_id", "inspection_round__name", "goal",
               "responsible_leader", "responsible_person", "deadline_on", "progress_summary", "state",
               "institution_building", "closed_at", "closed_by__display_name", "closed_by__username", "remarks",
               "reporter_name", "reporter_anonymous", "registered_by_id")
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
STATE_COLUMN = layout.COLUMN_KEYS.index("state")
IMMEDIATE = Case.Mode.IMMEDIATE.value

Progress = Callable[[int], None]


def category_names() -> dict[int, str]:
    """Every category's full name (营商环境 › 要素保障 › 供电), from one query."""
    rows = list(Category.objects.values_list("pk", "name", "parent_id"))
    by_id = {pk: (name, parent) for pk, name, parent in rows}
    names: dict[int, str] = {}
    for pk in by_id:
        parts: list[str] = []
        node: int | None = pk
        while node is not None and len(parts) < 20:
            name, node = by_id[node]
            parts.append(name)
        names[pk] = " › ".join(reversed(parts))
    return names


def _display(name: str | None, username: str | None) -> str:
    return name or username or ""


def _chunk_filter(ids: list[int]) -> dict[str, Any]:
    """Related rows of one chunk: an id range when the chunk is dense (a large export, where a range
    scan is cheaper than a long IN list), the ids themselves otherwise."""
    if ids[-1] - ids[0] < 2 * len(ids):
        return {"case_id__gte": ids[0], "case_id__lte": ids[-1]}
    return {"case_id__in": ids}


class _Related:
    """Names and texts of one chunk's related rows, each kind in one query."""

    def __init__(self, ids: list[int]) -> None:
        where = _chunk_filter(ids)
        self.lead: dict[int, list[str]] = defaultdict(list)
        self.co: dict[int, list[str]] = defaultdict(list)
        self.enterprises: dict[int, list[str]] = defaultdict(list)
        self.plan: dict[int, list[str]] = defaultdict(list)
        lead = Assignment.Role.LEAD.value
        assignments = Assignment.objects.filter(status__in=listing.LIVE_ASSIGNMENT, **where)
        for case_id, role, name in assignments.order_by("pk").values_list("case_id", "role", "org__name"):
            (self.lead if role == lead else self.co)[case_id].append(name)
        links = Case.enterprises.through.objects.filter(**where).order_by("pk")
        for case_id, name in links.values_list("case_id", "enterprise__name"):
            self.enterprises[case_id].append(name)
        for case_id, text in PlanItem.objects.filter(**where).order_by("position", "pk").values_list(
                "case_id", "text"):
            self.plan[case_id].append(text)
        self.evidence = dict(Evidence.objects.filter(**where).order_by().values("case_id")
                             .annotate(n=Count("pk")).values_list("case_id", "n"))
        self.acceptance = {case_id: f"{opinion}（{_display(name, username)}）" for case_id, opinion, name, username in
                           Acceptance.objects.filter(**where).order_by("decided_at", "pk").values_list(
                               "case_id", "opinion", "accepted_by__display_name", "accepted_by__username")}
        solved = {value: str(label) for value, label in FollowUp.Solved.choices}
        satisfaction = {value: str(label) for value, label in FollowUp.Satisfaction.choices}
        self.followup = {case_id: solved.get(s, s) + (f" · {satisfaction[level]}" if level else "")
                         for case_id, s, level in FollowUp.objects.filter(**where)
                         .order_by("recorded_at", "pk").values_list("case_id", "solved", "satisfaction")}
        held, relapsed = _("held"), _("relapsed")
        self.recheck = {case_id: held if ok else relapsed for case_id, ok in
                        Recheck.objects.filter(**where).order_by("checked_at", "pk").values_list(
                            "case_id", "held")}


(ID, NUMBER, TITLE, SOURCE, MODE, CATEGORY, ROUND, GOAL, LEADER, PERSON, DEADLINE, PROGRESS, STATE, INSTITUTIONS,
 CLOSED_AT, CLOSED_BY_NAME, CLOSED_BY_USERNAME, REMARKS, REPORTER, ANONYMOUS, REGISTERED_BY) = range(len(CASE_FIELDS))


class RowBuilder:
    """Turns a case's plain values and its chunk's related names into the cells of one ledger row."""

    def __init__(self, user: User) -> None:
        self.user_id = user.pk
        self.sees_reporters = policies.sees_internal_notes(user)
        self.categories = category_names()
        self.states = {value: str(label) for value, label in layout.state_choices()}
        self.sources = {value: str(label) for value, label in layout.source_choices()}
        self.files = _("%(n)s files")
        self.zone = timezone.get_current_timezone()

    def reporter(self, case: tuple[Any, ...]) -> str:
        if not case[REPORTER]:
            return ""
        if case[REGISTERED_BY] == self.user_id or (self.sees_reporters and not case[ANONYMOUS]):
            return layout.REPORTER_PREFIX + str(case[REPORTER])
        return ""

    def cells(self, case: tuple[Any, ...], related: _Related) -> list[Any]:
        pk = case[ID]
        source = self.sources.get(case[SOURCE], case[SOURCE])
        if case[ROUND]:
            source = f"{source}（{case[ROUND]}）"
        enterprises = layout.LIST_SEPARATOR.join(related.enterprises.get(pk, ()))
        if case[REPORTER]:
            reporter = self.reporter(case)
            if reporter:
                enterprises = f"{enterprises}{layout.LIST_SEPARATOR}{reporter}" if enterprises else reporter
        mode = case[MODE]
        goal = case[GOAL]
        plan = related.plan.get(pk)
        if plan:
            goal = "\n".join([goal, *(f"{i}. {text}" for i, text in enumerate(plan, 1))]).strip()
        units = layout.LIST_SEPARATOR.join(related.lead.get(pk, ()))
        co = related.co.get(pk)
        if co:
            units = f"{units}{layout.UNIT_SEPARATOR}{layout.LIST_SEPARATOR.join(co)}"
        evidence = related.evidence.get(pk)
        closure = ""
        if case[CLOSED_AT]:
            closed_on = case[CLOSED_AT].astimezone(self.zone).date().isoformat()
            closure = f"{closed_on} {_display(case[CLOSED_BY_NAME], case[CLOSED_BY_USERNAME])}".strip()
        followup = related.followup.get(pk, "")
        recheck = related.recheck.get(pk)
        if recheck:
            followup = f"{followup}；{recheck}" if followup else recheck
        return [
            case[NUMBER], source, self.categories.get(case[CATEGORY], ""), case[TITLE], enterprises,
            (layout.YES if mode == IMMEDIATE else layout.NO) if mode else "", goal,
            case[LEADER], units, case[PERSON], case[DEADLINE], case[PROGRESS],
            self.states.get(case[STATE], case[STATE]),
            self.files % {"n": evidence} if evidence else "", case[INSTITUTIONS],
            related.acceptance.get(pk, ""), closure, followup, case[REMARKS],
        ]


def ledger_rows(user: User, cases: Any, *, chunk_size: int | None = None) -> Iterator[list[Any]]:
    """The ledger rows of `cases` (a scoped queryset), in registration order, chunk by chunk."""
    with layout.layout_language():
        builder = RowBuilder(user)
        for chunk in _case_chunks(cases, chunk_size or CHUNK_SIZE):
            related = _Related([case[ID] for case in chunk])
            for case in chunk:
                yield builder.cells(case, related)


def _case_chunks(cases: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The cases' values in id order, `size` at a time (keyset). After the first chunk each query also stays
    within a window of ids twice as wide as the last full chunk needed, so it costs one chunk however many
    cases follow: told only `id > last`, PostgreSQL may sort all of them when it misjudges how many of them
    the scope keeps."""
    top = cases.order_by("-id").values_list("id", flat=True).first()
    last, window = 0, top or 0
    while top is not None and last < top:
        chunk = list(cases.filter(id__gt=last, id__lte=last + window).order_by("id")
                     .values_list(*CASE_FIELDS)[:size])
        if len(chunk) == size:
            window = 2 * (chunk[-1][ID] - last)
            last = chunk[-1][ID]
        else:
            last += window
            window *= 2
        if chunk:
            yield chunk


def filtered_rows(user: User, filters: listing.LedgerFilters, **options: Any) -> Iterator[list[Any]]:
    """The ledger as the user sees it with these filters (scope applied by `listing.filtered_cases`)."""
    return ledger_rows(user, listing.filtered_cases(user, filters), **options)


def title_for(user: User) -> str:
    seat = next(iter(policies.seats(user)), None)
    with layout.layout_language():
        return str(_("%(unit)s rectification ledger (exported %(date)s)") % {
            "unit": seat.org_name if seat else "", "date": clock.today().isoformat()})


# --- writers -------------------------------------------------------------------------------------

def write_xlsx(path: Path | str, rows: Iterable[list[Any]], *, title: str, progress: Progress | None = None,
               rows_per_sheet: int = DATA_ROWS_PER_SHEET) -> int:
    """Write the ledger workbook; a new sheet starts every `rows_per_sheet` data rows. Returns the row count.
    The rows are built on this thread, where the database connection lives."""
    with layout.layout_language():
        states = [str(label) for _value, label in layout.state_choices()]
    sheets = _Sheets(path, title=title, states=states, rows_per_sheet=rows_per_sheet)
    writer = _BackgroundWriter(sheets) if _writes_in_background() else _inline(sheets)
    written = 0
    with writer as add:
        for batch in itertools.batched(rows, CHUNK_SIZE):
            add(batch)
            written += len(batch)
            if progress is not None:
                progress(written)
    return written


def _writes_in_background() -> bool:
    """Whether xlsxwriter gets a thread of its own: it pays off while this thread waits for a database
    server. SQLite reads in this process and hands the GIL over on every row, so there the rows are
    written in turn."""
    return connection.vendor != "sqlite"


class _Sheets:
    """The workbook being written: sheets of up to `rows_per_sheet` data rows, each with the title row, the
    header row and the state dropdown. Left unwritten unless closed."""

    def __init__(self, path: Path | str, *, title: str, states: list[str], rows_per_sheet: int) -> None:
        self.workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.formats = _Formats(self.workbook)
        self.title, self.states, self.rows_per_sheet = title, states, rows_per_sheet
        self.sheet = _new_sheet(self.workbook, title, self.formats)
        self.row_index = TITLE_ROWS

    def add(self, batch: Sequence[list[Any]]) -> None:
        for cells in batch:
            if self.row_index >= TITLE_ROWS + self.rows_per_sheet:
                _state_dropdown(self.sheet, self.row_index - 1, self.states)
                self.sheet = _new_sheet(self.workbook, self.title, self.formats)
                self.row_index = TITLE_ROWS
            self.sheet.write_row(self.row_index, 0, cells)
            self.row_index += 1

    def close(self) -> None:
        _state_dropdown(self.sheet, self.row_index - 1, self.states)
        self.workbook.close()


Add = Callable[[Sequence[list[Any]]], None]


@contextmanager
def _inline(sheets: _Sheets) -> Iterator[Add]:
    yield sheets.add
    sheets.close()


class _BackgroundWriter(threading.Thread):
    """Adds batches to the sheets on a thread of its own. A failure on either side stops both: the writer's
    is raised on the caller's thread; after the caller's own, the workbook is left unwritten."""

    def __init__(self, sheets: _Sheets) -> None:
        super().__init__(name="ledger-xlsx", daemon=True)
        self.sheets = sheets
        self.batches: queue.Queue[Sequence[list[Any]] | None] = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.abandoned = False

    def __enter__(self) -> Add:
        self.start()
        return self.add

    def __exit__(self, error_type: type[BaseException] | None, *exc: Any) -> None:
        self.abandoned = error_type is not None
        self.batches.put(None)
        self.join()
        if self.failure is not None and not self.abandoned:
            raise self.failure

    def add(self, batch: Sequence[list[Any]]) -> None:
        if self.failure is not None:
            raise self.failure
        self.batches.put(batch)

    def run(self) -> None:
        batches = iter(self.batches.get, None)
        try:
            for batch in batches:
                self.sheets.add(batch)
            if not self.abandoned:
                self.sheets.close()
        except BaseException as error:  # raised on the caller's thread
            self.failure = error
            for _batch in batches:  # keep taking them until the end, so the caller never blocks
                pass


class _Formats:
    def __init__(self, workbook: Any) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.header = workbook.add_format({"bold": True, "text_wrap": True, "align": "center",
                                           "valign": "vcenter", "bg_color": "#DDEBF7", "border": 1})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})


def _state_dropdown(sheet: Any, last_row: int, states: list[str]) -> None:
    sheet.data_validation(TITLE_ROWS, STATE_COLUMN, max(last_row, TITLE_ROWS), STATE_COLUMN,
                          {"validate": "list", "source": states})


def _new_sheet(workbook: Any, title: str, formats: _Formats) -> Any:
    number = len(workbook.worksheets()) + 1
    sheet = workbook.add_worksheet(layout.SHEET_NAME if number == 1 else f"{layout.SHEET_NAME}{number}")
    for column, key in enumerate(layout.COLUMN_KEYS):
        sheet.set_column(column, column, WIDTHS[key], formats.date if key in layout.DATE_COLUMNS else None)
    sheet.set_row(0, 28)
    sheet.set_row(1, 32)
    sheet.merge_range(0, 0, 0, len(layout.COLUMNS) - 1, title, formats.title)
    sheet.write_row(1, 0, layout.HEADERS, formats.header)
    sheet.freeze_panes(TITLE_ROWS, 1)
    return sheet


def _csv_safe(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value  # a spreadsheet must not run a cell as a formula
    return value


def write_csv(path: Path | str, rows: Iterable[list[Any]], *, progress: Progress | None = None) -> int:
    written = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(layout.HEADERS)
        for cells in rows:
            writer.writerow([_csv_safe(value) for value in cells])
            written += 1
            if progress is not None and written % CHUNK_SIZE == 0:
                progress(written)
    return written
