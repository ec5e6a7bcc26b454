"""Checking every row of an uploaded ledger against the database, without writing anything.

Rows are matched by case number (问题编号) against the cases the user may see; each row becomes a
`RowResult`: a new case, an update (the changes and the service calls that make them), unchanged,
or errors. Cells are compared with the ledger as it would be exported now, so re-importing an
export changes nothing. Only 整改进展 (through `report_progress`) and 完成情况/状态 (through a
workflow action that needs no further input) are changed by import; a differing cell in another
column is reported and left alone. Rows are looked up in chunks, set-based.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from taizhang.accounts.models import User
from taizhang.cases import policies, services
from taizhang.cases.models import Case
from taizhang.cases.workflow import State, action_label, actions_from
from taizhang.core.credit_code import credit_code_error, normalise
from taizhang.ledger import errors, export, layout
from taizhang.ledger.workbook import SheetRow
from taizhang.orgs.models import Enterprise, InspectionRound, Organisation

CHUNK_SIZE = 1000
MAX_TITLE = 200
MAX_TEXT = 10_000
SUGGESTIONS = 3
SUGGESTION_CUTOFF = 60
CREDIT_CODE_LIKE = re.compile(r"^[0-9A-Za-z]{18}$")
NAME_WITH_CODE = re.compile(r"^(?P<name>.+?)\s*[（(](?P<code>[0-9A-Za-z]{18})[)）]$")
IMPORTED_COLUMNS = ("progress", "state")
COLUMN_INDEX = {key: index for index, key in enumerate(layout.COLUMN_KEYS)}
NEW_CASE_COLUMNS = frozenset({"number", "source", "category", "title", "enterprises", "remarks", "state"})


class CellError(Exception):
    def __init__(self, code: str, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.suggestions = code, message, suggestions or []


@dataclass
class Problem:
    column: str
    code: str
    message: str
    error: bool = True
    suggestions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "header": layout.HEADER_OF.get(self.column, ""), "code": self.code,
                "message": self.message, "error": self.error, "suggestions": self.suggestions}


@dataclass
class Operation:
    """One service call the commit makes: `register` (a new case) or a workflow action."""

    action: str
    number: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowResult:
    sheet: str
    row: int
    number: str
    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(p.error for p in self.problems)

    @property
    def action(self) -> str:
        if self.has_errors:
            return "error"
        if any(op.action == "register" for op in self.operations):
            return "create"
        return "update" if self.operations else "unchanged"

    def error(self, column: str, code: str, message: str, suggestions: list[str] | None = None) -> None:
        self.problems.append(Problem(column, code, message, True, suggestions or []))

    def warn(self, column: str, code: str, message: str) -> None:
        self.problems.append(Problem(column, code, message, False))


def suggest(name: str, choices: Iterable[str]) -> list[str]:
    found = process.extract(name, list(choices), scorer=fuzz.WRatio, limit=SUGGESTIONS,
                            score_cutoff=SUGGESTION_CUTOFF)
    return [match[0] for match in found]


def _did_you_mean(message: str, suggestions: list[str]) -> str:
    if not suggestions:
        return message
    return message + " " + _("Did you mean: %(names)s?") % {"names": "、".join(suggestions)}


def _plain(value: str) -> str:
    """Free text compared line by line, without trailing spaces or blank edges."""
    return "\n".join(line.strip() for line in value.split("\n")).strip()


class References:
    """Organisations, categories, rounds and enterprises by the names a spreadsheet uses."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.orgs: dict[str, int] = {}
        for pk, name, short in Organisation.objects.filter(is_active=True).order_by("path").values_list(
                "pk", "name", "short_name"):
            self.orgs.setdefault(layout.normalise_header(name), pk)
            if short:
                self.orgs.setdefault(layout.normalise_header(short), pk)
        self.org_names = list(Organisation.objects.filter(is_active=True).values_list("name", flat=True))
        self.category_full = export.category_names()
        self.categories: dict[str, int] = {}
        self.leaves: dict[str, list[int]] = {}
        for pk, full in self.category_full.items():
            parts = layout.CATEGORY_SPLIT.split(full)
            self.categories[layout.normalise_header("›".join(parts))] = pk
            self.leaves.setdefault(layout.normalise_header(parts[-1]), []).append(pk)
        self.rounds = {layout.normalise_header(name): (pk, name)
                       for pk, name in InspectionRound.objects.values_list("pk", "name")}
        with layout.layout_language():
            self.sources = layout.choice_lookup(layout.source_choices())
            self.states = layout.choice_lookup(layout.state_choices())
            self.source_labels = {value: str(label) for value, label in layout.source_choices()}
            self.state_labels = {value: str(label) for value, label in layout.state_choices()}
        self._enterprises: dict[str, int | None] = {}
        self._enterprise_names: list[str] | None = None

    def org(self, name: str) -> int:
        pk = self.orgs.get(layout.normalise_header(name))
        if pk is None:
            suggestions = suggest(name, self.org_names)
            raise CellError(errors.UNKNOWN_ORG, _did_you_mean(
                _("Unknown organisation “%(name)s”.") % {"name": name}, suggestions), suggestions)
        return pk

    def category(self, text: str) -> int:
        parts = layout.CATEGORY_SPLIT.split(text.strip())
        pk = self.categories.get(layout.normalise_header("›".join(parts)))
        if pk is not None:
            return pk
        leaves = self.leaves.get(layout.normalise_header(parts[-1]), []) if len(parts) == 1 else []
        if len(leaves) == 1:
            return leaves[0]
        if len(leaves) > 1:
            names = [self.category_full[pk] for pk in leaves]
            raise CellError(errors.AMBIGUOUS_CATEGORY, _("Several categories are called “%(name)s”; write the full "
                                                         "name, e.g. %(names)s.") % {"name": text,
                                                                                      "names": "、".join(names)}, names)
        suggestions = suggest(text, self.category_full.values())
        raise CellError(errors.UNKNOWN_CATEGORY, _did_you_mean(
            _("Unknown category “%(name)s”.") % {"name": text}, suggestions), suggestions)

    def source(self, text: str) -> tuple[str, int | None]:
        label, round_name = text, ""
        match = layout.ROUND_SUFFIX.match(text)
        if match and layout.normalise_header(match.group("label")) in self.sources:
            label, round_name = match.group("label"), match.group("round")
        value = self.sources.get(layout.normalise_header(label))
        if value is None:
            choices = list(self.source_labels.values())
            raise CellError(errors.UNKNOWN_SOURCE, _("Unknown source “%(value)s”. Use one of: %(choices)s.")
                            % {"value": text, "choices": "、".join(choices)}, suggest(label, choices))
        if not round_name:
            return value, None
        found = self.rounds.get(layout.normalise_header(round_name))
        if found is None:
            suggestions = suggest(round_name, [name for _pk, name in self.rounds.values()])
            raise CellError(errors.UNKNOWN_ROUND, _did_you_mean(
                _("Unknown inspection round “%(name)s”.") % {"name": round_name}, suggestions), suggestions)
        return value, found[0]

    def state(self, text: str) -> str:
        value = self.states.get(layout.normalise_header(text))
        if value is None:
            raise CellError(errors.UNKNOWN_STATE, _("Unknown state “%(value)s”. Use one of: %(choices)s.")
                            % {"value": text, "choices": "、".join(self.state_labels.values())})
        return value

    def enterprise_names(self) -> list[str]:
        """Names the user may be told about, for suggestions."""
        if self._enterprise_names is None:
            from taizhang.web.selectors import enterprises_for

            self._enterprise_names = list(enterprises_for(self.user).values_list("name", flat=True)[:20_000])
        return self._enterprise_names

    def enterprise(self, token: str) -> int:
        match = NAME_WITH_CODE.match(token)
        code = normalise(match.group("code")) if match else (normalise(token) if CREDIT_CODE_LIKE.match(token)
                                                             else "")
        key = "code:" + code if code else "name:" + token
        if key not in self._enterprises:
            if code:
                reason = credit_code_error(code)
                if reason:
                    raise CellError(errors.INVALID_CREDIT_CODE, _("“%(code)s”: %(reason)s")
                                    % {"code": code, "reason": reason})
                found = Enterprise.objects.filter(credit_code=code).values_list("pk", flat=True).first()
            else:
                found = Enterprise.objects.filter(name=token).order_by("pk").values_list("pk", flat=True).first()
            self._enterprises[key] = found
        pk = self._enterprises[key]
        if pk is None:
            if code:
                raise CellError(errors.UNKNOWN_ENTERPRISE, _("No enterprise with the credit code %(code)s is "
                                                             "registered.") % {"code": code})
            suggestions = suggest(token, self.enterprise_names())
            raise CellError(errors.UNKNOWN_ENTERPRISE, _did_you_mean(
                _("Unknown enterprise “%(name)s”.") % {"name": token}, suggestions), suggestions)
        return pk


@dataclass
class Parsed:
    """A cell read into its meaning, and its canonical text (as an export would write it)."""

    value: Any
    canonical: str


class Validator:
    """Validates ledger rows for `user` (the rows they may change are those in their scope)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.refs = References(user)
        self.may_register = policies.registering_seat(user) is not None
        self.seen_numbers: dict[str, str] = {}
        self.seen_new: dict[tuple[Any, ...], str] = {}

    # --- cells -------------------------------------------------------------------------------

    def parse(self, key: str, raw: Any) -> Parsed:
        """Parse one cell; CellError when it is invalid."""
        if key == "deadline":
            try:
                day = layout.parse_date(raw)
            except ValueError:
                raise CellError(errors.INVALID_DATE, _("“%(value)s” is not a date. Write it as 2023-01-15, "
                                                       "2023/1/15, 2023.1.15 or 2023年1月15日.")
                                % {"value": layout.text(raw)}) from None
            return Parsed(day, day.isoformat() if day else "")
        text = _plain(layout.text(raw))
        if len(text) > MAX_TEXT:
            raise CellError(errors.TOO_LONG, _("The text is longer than %(n)d characters.") % {"n": MAX_TEXT})
        if not text:
            return Parsed(None, "")
        refs = self.refs
        match key:
            case "category":
                pk = refs.category(text)
                return Parsed(pk, refs.category_full[pk])
            case "source":
                source, round_id = refs.source(text)
                label = refs.source_labels[source]
                if round_id is not None:
                    label = f"{label}（{next(n for p, n in refs.rounds.values() if p == round_id)}）"
                return Parsed((source, round_id), label)
            case "state":
                state = refs.state(text)
                return Parsed(state, refs.state_labels[state])
            case "immediate":
                answer = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False,
                          "true": True, "false": False}.get(text.lower())
                if answer is None:
                    raise CellError(errors.INVALID_YES_NO, _("Answer 是 (yes) or 否 (no)."))
                return Parsed(answer, layout.YES if answer else layout.NO)
            case "units":
                lead, co = layout.split_units(text)
                problems = []
                for name in lead + co:
                    try:
                        refs.org(name)
                    except CellError as error:
                        problems.append(error)
                if problems:
                    raise CellError(problems[0].code, " ".join(p.message for p in problems),
                                    [s for p in problems for s in p.suggestions])
                canonical = layout.LIST_SEPARATOR.join(lead)
                if co:
                    canonical += layout.UNIT_SEPARATOR + layout.LIST_SEPARATOR.join(co)
                return Parsed((lead, co), canonical)
            case "enterprises":
                return self._enterprises(text)
        return Parsed(text, text)

    def _enterprises(self, text: str) -> Parsed:
        ids: list[int] = []
        reporter = ""
        names: list[str] = []
        problems: list[CellError] = []
        for token in layout.split_list(text):
            if token.startswith(layout.REPORTER_PREFIX.rstrip("：")):
                reporter = token[len(layout.REPORTER_PREFIX):].strip(" ：:")
                names.append(layout.REPORTER_PREFIX + reporter)
                continue
            try:
                ids.append(self.refs.enterprise(token))
                names.append(token)
            except CellError as error:
                problems.append(error)
        if problems:
            raise CellError(problems[0].code, " ".join(p.message for p in problems),
                            [s for p in problems for s in p.suggestions])
        return Parsed((ids, reporter), layout.LIST_SEPARATOR.join(names))

    # --- rows --------------------------------------------------------------------------------

    def validate(self, rows: Iterable[SheetRow], progress: Callable[[int], None] | None = None
                 ) -> Iterator[RowResult]:
        chunk: list[SheetRow] = []
        done = 0
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK_SIZE:
                yield from self._chunk(chunk)
                done += len(chunk)
                chunk = []
                if progress:
                    progress(done)
        if chunk:
            yield from self._chunk(chunk)
            if progress:
                progress(done + len(chunk))

    def _chunk(self, rows: list[SheetRow]) -> Iterator[RowResult]:
        numbers = {layout.text(row.values.get("number")) for row in rows} - {""}
        current: dict[str, list[Any]] = {}
        states: dict[str, str] = {}
        if numbers:
            visible = policies.scope(self.user).filter(number__in=numbers)
            for cells in export.ledger_rows(self.user, visible):
                current[cells[0]] = cells
            states = dict(visible.values_list("number", "state"))
        for row in rows:
            yield self._row(row, current, states)

    def _row(self, row: SheetRow, current: dict[str, list[Any]], states: dict[str, str]) -> RowResult:
        number = layout.text(row.values.get("number"))
        values = {key: layout.text(value) for key, value in row.values.items()}
        result = RowResult(row.sheet, row.row, number, values)
        for key in sorted(row.formulas):
            result.error(key, errors.FORMULA, _("This cell holds a formula. Type the value itself."))
        for key in sorted(row.merged - row.formulas):
            result.warn(key, errors.MERGED_CELL, _("Read from a merged cell above; each row now has its own value."))
        if number:
            first = self.seen_numbers.setdefault(number, f"{row.sheet}!{row.row}")
            if first != f"{row.sheet}!{row.row}":
                result.error("number", errors.DUPLICATE, _("The case number %(number)s is also in row %(row)s.")
                             % {"number": number, "row": first})
                return result
            if number not in current:
                result.error("number", errors.UNKNOWN_CASE, _("There is no case %(number)s in your ledger. Leave "
                                                              "the number empty to register a new case.")
                             % {"number": number})
                return result
            self._update(result, row, current[number], State(states[number]))
        else:
            self._create(result, row)
        return result

    def _parsed(self, result: RowResult, row: SheetRow, keys: Iterable[str]) -> dict[str, Parsed]:
        parsed: dict[str, Parsed] = {}
        for key in keys:
            if key in row.formulas or key not in row.values:
                continue
            try:
                parsed[key] = self.parse(key, row.values[key])
            except CellError as error:
                result.error(key, error.code, error.message, error.suggestions)
        return parsed

    def _update(self, result: RowResult, row: SheetRow, cells: list[Any], state: State) -> None:
        now: dict[str, str] = {}
        for key, value in result.values.items():
            # An empty cell is “not given”, never a wish to erase (nothing can be erased by import).
            if not value or key == "number" or key in row.formulas:
                continue
            current = layout.text(cells[COLUMN_INDEX[key]])
            if value != current and _plain(value) != _plain(current):
                now[key] = _plain(current)
        parsed = self._parsed(result, row, now)
        changed = [key for key in now if key in parsed and parsed[key].canonical != now[key]]
        for key in changed:
            if key in IMPORTED_COLUMNS:
                result.changes.append({"column": key, "header": layout.HEADER_OF[key], "old": now[key],
                                       "new": parsed[key].canonical})
            else:
                result.warn(key, errors.NOT_IMPORTED, _("This column is not changed by import; change it on the "
                                                        "case page. The cell is left as it was."))
        wanted = [key for key in IMPORTED_COLUMNS if key in changed]
        if not wanted or result.has_errors:
            return
        case = services.get_case_for(self.user, result.number)
        if "progress" in wanted:
            text = parsed["progress"].canonical
            if not policies.can(self.user, "report_progress", case):
                result.error("progress", errors.NOT_ALLOWED, _(
                    "You cannot report progress on this case while it is “%(state)s”.") % {"state": state.label})
            else:
                result.operations.append(Operation("report_progress", result.number, {"text": text}))
        if "state" in wanted:
            self._state_change(result, case, state, State(parsed["state"].value))

    def _state_change(self, result: RowResult, case: Case, state: State, target: State) -> None:
        leading = [t for t in actions_from(state) if t.targets == {"": target}]
        direct = [t for t in leading if not t.required_inputs and policies.can(self.user, t.action, case)]
        if direct:
            result.operations.append(Operation(direct[0].action, result.number))
            return
        if leading:
            message = _("Going from “%(from)s” to “%(to)s” takes “%(action)s” with its details; do it on the "
                        "case page.") % {"from": state.label, "to": target.label,
                                         "action": action_label(leading[0].action)}
        else:
            message = _("A case cannot go from “%(from)s” to “%(to)s”.") % {"from": state.label, "to": target.label}
        result.error("state", errors.ILLEGAL_STATE_CHANGE, message)

    def _create(self, result: RowResult, row: SheetRow) -> None:
        if not self.may_register:
            result.error("number", errors.NOT_ALLOWED, _("You may not register cases; only rows with the number "
                                                         "of a case in your ledger can be imported."))
            return
        parsed = self._parsed(result, row, [key for key in row.values if key != "number"])
        for key in ("title", "source"):
            missing = key not in row.formulas and not (key in parsed and parsed[key].value)
            if missing and not any(p.column == key for p in result.problems):
                result.error(key, errors.REQUIRED, _("A new case needs this column: %(header)s.")
                                 % {"header": layout.HEADER_OF[key]})
        state = parsed.get("state")
        if state and state.value and state.value != State.REGISTERED:
            result.error("state", errors.ILLEGAL_STATE_CHANGE, _(
                "A new case starts as “%(state)s”; leave the state empty.") % {"state": State.REGISTERED.label})
        for key, cell in parsed.items():
            if key not in NEW_CASE_COLUMNS and cell.canonical:
                result.warn(key, errors.NOT_IMPORTED, _("Not used when registering a new case; fill it in during "
                                                        "handover and rectification."))
        if result.has_errors:
            return
        description = parsed["title"].value
        source, round_id = parsed["source"].value
        enterprises = parsed.get("enterprises")
        enterprise_ids, reporter = enterprises.value if enterprises and enterprises.value else ([], "")
        category = parsed.get("category")
        identity = (description, source, category.value if category else None, tuple(sorted(enterprise_ids)))
        first = self.seen_new.setdefault(identity, f"{row.sheet}!{row.row}")
        if first != f"{row.sheet}!{row.row}":
            result.error("title", errors.DUPLICATE, _("The same new case is already in row %(row)s.") % {"row": first})
            return
        remarks = parsed.get("remarks")
        result.operations.append(Operation("register", inputs={
            "source": source, "inspection_round": round_id, "category": category.value if category else None,
            "title": description.split("\n", 1)[0][:MAX_TITLE], "description": description,
            "enterprises": enterprise_ids, "reporter_name": reporter, "remarks": remarks.value if remarks else "",
        }))
