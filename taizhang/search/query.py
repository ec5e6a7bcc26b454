"""Searching the index: the cases whose indexed texts contain a query, exactly as `LIKE '%q%'` would.

The index proposes candidates (documents holding every term of the query); unless the query is a
single self-standing term, an exact substring check on the folded text confirms each (bigrams can
co-occur without being adjacent). `filter_cases(cases, q)` narrows any case queryset — always a
scoped one from `policies.scope()` — so search never widens what a user sees.

The check is written against the case row (a correlated read of its document), so it runs only on
the rows the page actually visits. A narrow query (fewer than BROAD candidates, counted first with a
LIMIT) drives the lookup from the candidates; a broad one becomes a membership probe while the ledger
walks its order index (SQLite: the candidate ids are materialised once; PostgreSQL: each visited row's
tsvector is matched), since the planners underestimate how many documents share common bigrams.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex

from taizhang.cases.models import Case
from taizhang.search.models import SearchDocument
from taizhang.search.tokens import FIELD_SEPARATOR, fold, needs_confirmation, query_terms

BROAD = 2000  # candidates from which SQLite probes rather than drives


@dataclass(frozen=True)
class SearchSQL:
    """The parts of a search as SQL: candidate ids, and the folded text to confirm (or "")."""

    candidates: str
    params: tuple[str, ...]
    confirm: str


def _fts5_match(terms: list[str]) -> str:
    # Terms hold no ASCII punctuation (see tokens.py), so a double quote never needs escaping.
    return " AND ".join(f'"{term}"' for term in terms)


def _tsquery(terms: list[str]) -> str:
    # Terms hold no quote or backslash (see tokens.py).
    return " & ".join(f"'{term}'" for term in terms)


def search_sql(query: str) -> SearchSQL | None:
    """The SQL of a search, or None when the query matches everything (empty, like `LIKE '%%'`)."""
    if not query:
        return None
    if FIELD_SEPARATOR in query or "\x00" in query:  # no indexed text holds either (PostgreSQL text cannot)
        return SearchSQL("SELECT case_id FROM search_searchdocument WHERE 1 = 0", (), "")
    terms = query_terms(query)
    confirm = fold(query) if needs_confirmation(query) else ""
    if connection.vendor == "sqlite":
        return SearchSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", (_fts5_match(terms),), confirm)
    if connection.vendor == "postgresql":
        return SearchSQL("SELECT case_id FROM search_searchdocument WHERE vector @@ %s::tsquery", (_tsquery(terms),),
                         confirm)
    raise NotImplementedError(connection.vendor)


def _is_broad(search: SearchSQL) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({search.candidates} LIMIT {BROAD}) AS candidates", search.params)
        row = cursor.fetchone()
    return bool(row and row[0] >= BROAD)


def filter_cases(cases: QuerySet[Case], query: str) -> QuerySet[Case]:
    """`cases` narrowed to those matching `query` (all of them for an empty query). Apply it to the
    outermost case queryset (the PostgreSQL probe names the case table)."""
    search = search_sql(query)
    if search is None:
        return cases
    candidates = RawSQL(search.candidates, search.params)
    broad = _is_broad(search)
    if broad and connection.vendor == "postgresql":
        # Probe each row the ledger visits in its order; OFFSET 0 keeps the planner from turning this
        # into a join driven by the (underestimated) GIN matches.
        sql = ("EXISTS (SELECT 1 FROM search_searchdocument d WHERE d.case_id = cases_case.id "
               "AND d.vector @@ %s::tsquery")
        params = list(search.params)
        if search.confirm:
            sql += " AND strpos(d.body, %s) > 0"
            params.append(search.confirm)
        return cases.filter(RawSQL(sql + " OFFSET 0)", params, output_field=BooleanField()))
    if broad:
        # `id + 0` keeps SQLite from driving the query by the candidates: it probes them instead.
        cases = cases.alias(_search_id=F("pk") + 0).filter(_search_id__in=candidates)
    else:
        cases = cases.filter(pk__in=candidates)
    if search.confirm:
        body = Subquery(SearchDocument.objects.filter(case_id=OuterRef("pk")).values("body")[:1])
        cases = cases.alias(_search_at=StrIndex(body, Value(search.confirm))).filter(_search_at__gt=0)
    return cases
