"""Keeping the search index current, set-based.

`index_cases(ids)` (re)writes the documents of some cases with a fixed number of queries whatever
their count; the services call it inside their transaction, so the index commits or rolls back with
the change it reflects. `index_new_case()` writes the first document of a case just inserted from
the values in hand (one INSERT, nothing re-read). `reindex_all()` streams every case in primary-key
batches.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from django.db import transaction

from taizhang.cases.models import Case, ProgressReport
from taizhang.core import rows
from taizhang.orgs.models import Enterprise
from taizhang.search.models import SearchDocument
from taizhang.search.tokens import document_body, document_terms, serialise

BATCH_SIZE = 2000
# The fields a search looks in, per case: the case's own columns, then its enterprises and reports.
CASE_FIELDS = ("number", "title", "description", "progress_summary")


def case_fields(ids: Sequence[int]) -> dict[int, list[str]]:
    """The texts a search covers, per case id: number, title, description, progress summary,
    each enterprise's name and credit code, each progress report's text."""
    fields: dict[int, list[str]] = {}
    for row in Case.objects.filter(pk__in=ids).values_list("pk", *CASE_FIELDS).order_by("pk"):
        fields[row[0]] = _texts(row[1:])
    extra: dict[int, list[str]] = defaultdict(list)
    links = Case.enterprises.through.objects.filter(case_id__in=ids).order_by("pk")
    for case_id, name, code in links.values_list("case_id", "enterprise__name", "enterprise__credit_code"):
        extra[case_id] += [name, code]
    reports = ProgressReport.objects.filter(case_id__in=ids).order_by("pk")
    for case_id, text in reports.values_list("case_id", "text"):
        extra[case_id].append(text)
    for case_id, texts in extra.items():
        if case_id in fields:
            fields[case_id] += texts
    return fields


def _texts(values: Iterable[object]) -> list[str]:
    return [str(value or "") for value in values]


def document_columns(fields: Iterable[str]) -> dict[str, str]:
    """The body and terms of the search document of these texts."""
    values = list(fields)
    return {"body": document_body(values), "terms": serialise(document_terms(values))}


def index_new_case(case: Case, enterprises: Sequence[Enterprise]) -> None:
    """The first document of a case inserted in this transaction, with its enterprises linked in this
    order and no progress reports yet: the same document `index_cases` would build, without re-reading."""
    texts = _texts(getattr(case, name) for name in CASE_FIELDS)
    for enterprise in enterprises:
        texts += [enterprise.name, enterprise.credit_code]
    rows.insert(SearchDocument(case=case, **document_columns(texts)))  # in a `rows.batch()`, gets the case's key


@transaction.atomic(savepoint=False)  # no savepoint round trips; an error aborts the caller's transaction
def index_cases(ids: Iterable[int]) -> int:
    """(Re)index these cases; documents of cases that no longer exist go. Returns the number written."""
    wanted = sorted(set(ids))
    written = 0
    for start in range(0, len(wanted), BATCH_SIZE):
        batch = wanted[start:start + BATCH_SIZE]
        fields = case_fields(batch)
        SearchDocument.objects.filter(case_id__in=batch).delete()
        documents = [SearchDocument(case_id=case_id, **document_columns(texts)) for case_id, texts in fields.items()]
        SearchDocument.objects.bulk_create(documents, batch_size=500)
        written += len(fields)
    return written


def reindex_all(*, batch_size: int = BATCH_SIZE, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every document, one transaction per batch of cases in primary-key order (memory stays flat)."""
    total = Case.objects.count()
    done, last = 0, 0
    while True:
        ids = list(Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        done += index_cases(ids)
        last = ids[-1]
        if progress is not None:
            progress(done, total)
    return done
