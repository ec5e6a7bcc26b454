"""The zh-Hans catalogue is complete, compiled and used."""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from taizhang.accounts.roles import Role
from taizhang.cases.models import Case, FollowUp
from taizhang.cases.selectors import EVENT_VERBS
from taizhang.cases.workflow import State
from taizhang.core.credit_code import credit_code_error

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

# Python-format conversions, e.g. %(name)s, %(n)d, %(size).1f; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[#0 +-]*\d*(?:\.\d+)?[a-zA-Z%]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[k] for k in sorted(self.msgstr)]


def parse_po(path: Path) -> list[Entry]:
    """A small reader for the gettext PO format (what makemessages writes); obsolete `#~` entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int] | None = None

    def text(quoted: str) -> str:
        value = ast.literal_eval(quoted.strip())
        assert isinstance(value, str)
        return value

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert entry is not None, f"line {number}: continuation outside an entry"
            assert target is not None, f"line {number}: continuation without a keyword"
            keyword, rest = "", line
        elif keyword in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
            entry = Entry(flags=pending_flags, line=number)
            entries.append(entry)
            pending_flags = set()
        assert entry is not None, f"line {number}: {line!r} outside an entry"
        if keyword == "msgctxt":
            entry.msgctxt, target = "", ("msgctxt", 0)
        elif keyword == "msgid":
            target = ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = "", ("msgid_plural", 0)
        elif keyword == "msgstr":
            entry.msgstr[0], target = "", ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            entry.msgstr[index], target = "", ("msgstr", index)
        elif keyword:
            raise AssertionError(f"line {number}: unknown keyword {keyword!r}")
        assert target is not None
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] += text(rest)
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text(rest))
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO_FILE)


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    header = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(header) == 1, "the catalogue needs exactly one header entry"
    return [e for e in entries if e is not header[0]]


def test_parser_reads_the_whole_catalogue(entries, messages):
    header = next(e for e in entries if e.msgid == "")
    assert "Content-Type: text/plain; charset=UTF-8" in header.msgstr[0]
    assert "Language: zh_Hans" in header.msgstr[0]
    ids = {e.msgid for e in messages}
    assert {"Rectifying", "Responsible unit leader", "signed for the case"} <= ids
    keys = {(e.msgctxt, e.msgid) for e in messages}
    assert len(keys) == len(messages), "a msgid appears twice in the same context"
    assert len(messages) == sum(1 for line in PO_FILE.read_text(encoding="utf-8").splitlines()
                                if line.startswith("msgid ")) - 1


def test_every_msgid_is_translated(messages):
    untranslated = [e.msgid for e in messages if not all(s.strip() for s in e.translations) or not e.msgstr]
    assert untranslated == []


def test_no_fuzzy_entries(entries):
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == []


def test_translations_keep_every_placeholder(messages):
    broken = []
    for e in messages:
        if "python-format" not in e.flags:
            continue
        wanted = sorted(PLACEHOLDER.findall(e.msgid))
        broken += [(e.msgid, s) for s in e.translations if sorted(PLACEHOLDER.findall(s)) != wanted]
    assert broken == []


def test_translations_are_chinese(messages):
    """Every msgstr carries Chinese text (catches an English msgid copied into msgstr)."""
    han = re.compile(r"[\u4e00-\u9fff]")
    assert [e.msgid for e in messages if not any(han.search(s) for s in e.translations)] == []


def test_compiled_catalogue_is_current(messages):
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in messages:
        if e.msgid_plural is not None:
            for n, expected in e.msgstr.items():
                got = (compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n) if e.msgctxt is not None
                       else compiled.ngettext(e.msgid, e.msgid_plural, n))
                if got != expected:
                    stale.append(e.msgid)
        else:
            got = compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else compiled.gettext(e.msgid)
            if got != e.msgstr[0]:
                stale.append(e.msgid)
    assert stale == [], "django.mo is out of date: run `manage.py compilemessages -l zh_Hans`"


def test_key_strings_render_in_chinese():
    with translation.override("zh-hans"):
        assert State.RECTIFYING.label == "整改中"
        assert State.HANDED_OVER.label == "已交办·待签收"
        assert State.CLOSED.label == "已销号"
        assert Role.UNIT_LEADER.label == "责任单位负责人"
        assert Role.LIAISON.label == "助企专员"
        assert str(Case.Mode.IMMEDIATE.label) == "立行立改"
        assert str(FollowUp.Satisfaction.BASICALLY_SATISFIED.label) == "基本满意"
        assert str(EVENT_VERBS["case.signed_for"]) == "签收了该问题"
        assert credit_code_error("91440300") == "统一社会信用代码应为18位（当前为 8 位）。"
    with translation.override("en"):
        assert State.RECTIFYING.label == "Rectifying"
        assert Role.UNIT_LEADER.label == "Responsible unit leader"
