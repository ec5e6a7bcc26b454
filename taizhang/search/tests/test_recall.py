"""Search recall equals a LIKE scan over the same fields, for any query (runs on SQLite and PostgreSQL)."""

import random

import pytest
from django.db import connection
from django.db.models import Q

from taizhang.cases import services
from taizhang.cases.models import Case, ProgressReport
from taizhang.core.credit_code import make_credit_code
from taizhang.orgs.models import Enterprise, Organisation
from taizhang.search import query as search_query
from taizhang.search.indexing import index_cases
from taizhang.search.models import SearchDocument
from taizhang.search.tokens import document_terms, grams, needs_confirmation, query_terms

CODE_A = make_credit_code("91", "220173", "MA0CC207")
CODE_B = make_credit_code("91", "220101", "MA17Q8X4")

CORPUS = [
    # (title, description, progress summary, report texts, enterprises (indexes into ENTERPRISES))
    ("净月大街雨季积水倒灌厂房", "每逢强降雨净月大街路面积水，雨水倒灌厂区，去年损失约50万元。", "", [], [0]),
    ("路面破损影响货车通行", "路面破损严重，面积约300平方米，水泥修补后又开裂。", "已完成路面勘察",
     ["路面修复完成，恢复通行。"], [1]),
    ("供电频繁跳闸", "近3个月内发生停电或闪断12次，生产线被迫停机。", "改造工程已开工",
     ["线路改造完成，运行平稳。", "CC-2022-0007 复查"], [0, 1]),
    ("5G基站选址受阻", "IPv6 改造与5G 基站选址（二期）手续停滞；进度50%，见附件_1。", "", [], []),
    ("面积与水平测量误差", "测量面积较大，水平误差大：积 水 分开写。", "", [], [1]),
    ("A区3号楼供水压力不足", "a区3号楼高峰时段水压不足，清洗和冷却工序受影响。", "加压泵站安装调试中", [], []),
    ("涉企检查频次过多", "企业反映近6个月接受各类检查9次。编号cc-2022-00071备查。", "", ["已梳理检查事项清单"], [0]),
]
ENTERPRISES = [("长春鑫华精密机械有限公司", CODE_A), ("长春恒泰光电科技有限公司", CODE_B)]

SPECIAL_QUERIES = [
    "积水", "路面积水", "路面积", "面积水", "积", "水", "面积", "CC-2022", "cc-2022-0007", "CC-2022-00071", "2022",
    "0007", "007", "12", "3", "5g", "5G基站", "IPv6 改造", "ipv6", "积 水", "（二期）", "50%", "%", "_", "_1",
    "附件_1", "a区3号", "A区", "长春", "鑫华精密", CODE_A[:2], CODE_A[:8], CODE_A[:12], CODE_A, CODE_A.lower(),
    CODE_B[-6:], "，", "。", " ", "水压不足，", "路面 积水", "不存在的问题", "xyz", "积水倒灌厂房，", "复查",
    "恢复通行", "加压泵站", "已梳理", "MA", "ma0cc", "\x1f",
]


def like_scan(query: str) -> set[int]:
    """The reference: a case-insensitive LIKE '%q%' over every indexed field (Django escapes % and _)."""
    fields = ["number", "title", "description", "progress_summary", "enterprises__name", "enterprises__credit_code",
              "progress_reports__text"]
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": query})
    return set(Case.objects.filter(condition).values_list("pk", flat=True))


def searched(query: str) -> set[int]:
    return set(search_query.filter_cases(Case.objects.all(), query).values_list("pk", flat=True))


@pytest.fixture(params=["narrow", "broad"])
def corpus(request, world, monkeypatch):
    """The corpus, searched with either plan: candidates driving the query, or probed row by row."""
    if request.param == "broad":
        monkeypatch.setattr(search_query, "BROAD", 1)
    enterprises = []
    for name, code in ENTERPRISES:
        org = Organisation.objects.create(name=name, kind=Organisation.Kind.ENTERPRISE, parent=world.district)
        enterprises.append(Enterprise.objects.create(org=org, name=name, credit_code=code))
    cases = []
    for title, description, summary, reports, linked in CORPUS:
        case = services.register_case(actor=world.supervisor, source="supervision", title=title,
                                      description=description, enterprises=[enterprises[i] for i in linked])
        if summary:
            Case.objects.filter(pk=case.pk).update(progress_summary=summary)
        for text in reports:
            ProgressReport.objects.create(case=case, org=world.lead_unit, author=world.handler, text=text,
                                          reported_at=case.created_at)
        cases.append(case)
    index_cases([c.pk for c in cases])
    return cases


def test_every_case_has_a_document(corpus):
    assert SearchDocument.objects.count() == len(CORPUS)


@pytest.mark.parametrize("query", SPECIAL_QUERIES)
def test_special_queries_match_exactly_the_like_scan(corpus, query):
    assert searched(query) == like_scan(query)


def test_jieba_trap_积水_inside_路面积水(corpus):
    found = searched("积水")
    assert corpus[0].pk in found  # 路面积水 holds 积水 though a word segmenter cuts it 路/面积/水
    assert corpus[4].pk not in found  # 积 and 水 both present, never adjacent
    assert found == like_scan("积水")


def test_co_occurring_bigrams_are_not_a_match(corpus):
    # 路面 and 面积 both occur in the second case, but never as 路面积.
    assert corpus[1].pk not in searched("路面积")
    assert searched("路面积") == {corpus[0].pk} == like_scan("路面积")


def test_one_and_two_character_queries(corpus):
    assert searched("积") == like_scan("积")
    assert len(searched("积")) >= 2
    assert searched("面积") == like_scan("面积")
    assert len(searched("面积")) >= 2


def test_case_numbers_and_credit_codes_whole_and_by_parts(corpus):
    number = corpus[2].number
    assert searched(number) == like_scan(number)
    assert corpus[2].pk in searched(number)
    assert searched(number.lower()) == searched(number)
    for prefix in (CODE_A[:4], CODE_A[:9], CODE_A[:17], CODE_A):
        assert searched(prefix) == like_scan(prefix)
        assert {corpus[0].pk, corpus[2].pk, corpus[6].pk} <= searched(prefix)


def test_a_query_with_a_nul_or_the_field_separator_matches_nothing(corpus):
    assert searched("积水\x00") == set()
    assert searched("\x1f") == set()


def test_the_empty_query_matches_everything(corpus):
    assert searched("") == {c.pk for c in corpus} == like_scan("")


def test_random_substrings_and_near_misses_match_the_like_scan(corpus):
    rng = random.Random(20221107)
    texts = list(SearchDocument.objects.values_list("body", flat=True))
    substrings: set[str] = set()
    for text in texts:
        for length in (1, 2, 3, 4, 5, 8):
            for start in range(0, max(1, len(text) - length + 1)):
                piece = text[start:start + length]
                if "\x1f" not in piece:
                    substrings.add(piece)
    queries = rng.sample(sorted(substrings), 250)
    # Near misses: real substrings with one character swapped, and two substrings glued together.
    pool = sorted(substrings)
    queries += [q[:-1] + rng.choice("水积面路2cC-") for q in queries[:60] if len(q) > 1]
    queries += [rng.choice(pool) + rng.choice(pool) for _ in range(40)]
    mismatches = [q for q in queries if searched(q) != like_scan(q)]
    assert mismatches == []


def test_query_terms_are_a_subset_of_the_terms_of_any_text_containing_the_query():
    rng = random.Random(7)
    alphabet = "路面积水供电aB3-_ %，。\ue02d"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        start = rng.randrange(len(text))
        query = text[start:start + rng.randint(1, 8)]
        assert set(query_terms(query)) <= set(document_terms([text])), (text, query)


def test_no_term_spans_two_fields():
    terms = set(document_terms(["路面", "积水"]))
    assert "面积" not in terms
    assert {"路", "面", "积", "水", "路面", "积水"} <= terms


def test_terms_never_contain_a_space_or_ascii_punctuation():
    for term in grams("CC-2022-0007 路面（积水）% _\"'\\").all():
        assert not any(c.isascii() and not c.isalnum() for c in term), term


def test_confirmation_is_skipped_only_for_self_standing_terms():
    assert not needs_confirmation("积")
    assert not needs_confirmation("积水")
    assert not needs_confirmation("cc2")
    assert needs_confirmation("路面积")
    assert needs_confirmation("c-2")
    assert needs_confirmation("-")
    assert needs_confirmation("\ue02d")


def test_the_index_is_the_database_engine_of_the_vendor(corpus):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH %s", ['"积水"'])
        else:
            cursor.execute("SELECT count(*) FROM search_searchdocument WHERE vector @@ %s::tsquery", ["'积水'"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
def test_postgres_uses_a_gin_index_on_the_tsvector(corpus):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the tsvector column and its GIN index exist only there")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'search_searchdocument' "
                       "AND indexname = 'search_document_vector_gin'")
        assert "gin (vector)" in cursor.fetchone()[0]
