"""The ledger's spreadsheet layout (DESIGN.md §5) and the reading of its cells.

The header row is the exchange format units already use, so it is fixed in zh-Hans whatever the
interface language; values (states, sources) are written in zh-Hans too and read back in zh-Hans,
English or as their codes.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import translation

from taizhang.cases.models import Case
from taizhang.cases.workflow import STATE_LABELS, State

LAYOUT_LANGUAGE = "zh-hans"
SHEET_NAME = "整改台账"
COLUMNS: list[tuple[str, str]] = [
    ("number", "序号/问题编号"),
    ("source", "来源(轮次)"),
    ("category", "问题类别"),
    ("title", "问题具体表现"),
    ("enterprises", "涉及企业/诉求人"),
    ("immediate", "是否立行立改"),
    ("goal", "整改目标/措施"),
    ("responsible_leader", "责任领导"),
    ("units", "责任单位(牵头)+配合单位"),
    ("responsible_person", "责任人"),
    ("deadline", "整改时限"),
    ("progress", "整改进展"),
    ("state", "完成情况/状态"),
    ("evidence", "佐证材料"),
    ("institution_building", "建章立制"),
    ("acceptance", "验收意见/验收人"),
    ("closure", "销号情况(日期/审签)"),
    ("followup", "回访/回头看结果"),
    ("remarks", "备注"),
]
COLUMN_KEYS = [key for key, _header in COLUMNS]
HEADERS = [header for _key, header in COLUMNS]
HEADER_OF = dict(COLUMNS)
DATE_COLUMNS = frozenset({"deadline"})
YES, NO = "是", "否"
REPORTER_PREFIX = "诉求人："
UNIT_SEPARATOR = " + "
LIST_SEPARATOR = "、"
LIST_SPLIT = re.compile(r"[、,，;；\n]+")
ROUND_SUFFIX = re.compile(r"^(?P<label>.*?)\s*[（(](?P<round>.+)[)）]\s*$")
CATEGORY_SPLIT = re.compile(r"\s*[›>/／]\s*")
EXCEL_EPOCH = dt.date(1899, 12, 30)
CHINESE_DATE = re.compile(r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*[日号]?$")
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@contextmanager
def layout_language() -> Iterator[None]:
    with translation.override(LAYOUT_LANGUAGE):
        yield


def normalise_header(text: Any) -> str:
    """Headers compare without spaces, line breaks and full-width/half-width differences."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


STANDARD_HEADERS = {normalise_header(header): key for key, header in COLUMNS}


def text(value: Any) -> str:
    """A cell as trimmed text with unified line breaks; dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time.min else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_date(value: Any) -> dt.date | None:
    """A date from a real date cell, an Excel serial number, or text such as 2023-01-15, 2023/1/15,
    2023.1.15, 2023年1月15日 or 20230115. None when empty; ValueError when it is no date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(value)
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw:
        return None
    match = CHINESE_DATE.match(raw) or COMPACT_DATE.match(raw)
    if match is None:
        raise ValueError(value)
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day)


def choice_lookup(choices: list[tuple[str, Any]]) -> dict[str, str]:
    """Label (zh-Hans or English) or code -> code, for reading cells back."""
    lookup: dict[str, str] = {}
    for language in ("en", LAYOUT_LANGUAGE):
        with translation.override(language):
            lookup.update({normalise_header(label): value for value, label in choices})
    lookup.update({value: value for value, _label in choices})
    return lookup


def state_choices() -> list[tuple[str, Any]]:
    return [(s.value, STATE_LABELS[s]) for s in State]


def source_choices() -> list[tuple[str, Any]]:
    return list(Case.Source.choices)


def split_list(value: str) -> list[str]:
    return [part.strip() for part in LIST_SPLIT.split(value) if part.strip()]


def split_units(value: str) -> tuple[list[str], list[str]]:
    """“lead + co1、co2” -> ([lead], [co1, co2])."""
    lead, _plus, co = value.partition("+")
    return split_list(lead), split_list(co)
