"""Documents issued at the same moment on PostgreSQL: the same subject is issued once, different subjects
draw consecutive numbers without gaps."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from taizhang.core.models import NumberSequence
from taizhang.documents import services
from taizhang.documents.drafts import Draft
from taizhang.documents.models import IssuedDocument
from taizhang.documents.official import OfficialDocument, Paragraph

WORKERS = 6

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]


def _draft(world, subject_id):
    def compose(number):
        return OfficialDocument(kind="transfer_letter", issuer=world.city.name, number=number, title="并发测试",
                                addressee=world.district.name, body=[Paragraph("正文")], signatory=world.city.name,
                                date=dt.date(2026, 3, 2))

    return Draft(kind="transfer_letter", subject_type="test", subject_id=subject_id, issuer=world.city, case=None,
                 issued_on=dt.date(2026, 3, 2), compose=compose)


def _issue_in_parallel(world, subject_ids):
    start = threading.Barrier(len(subject_ids))
    results: list[object] = [None] * len(subject_ids)

    def work(index):
        try:
            start.wait(timeout=30)
            results[index] = services.issue_document(_draft(world, subject_ids[index]), actor=world.supervisor).number
        except BaseException as exc:  # reported by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(subject_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture(autouse=True)
def _cheap_rendering(monkeypatch):
    """Numbering and the unique constraint are under test here, not typesetting."""
    monkeypatch.setattr(services, "render_pdf", lambda doc: f"%PDF-{doc.number}".encode())
    monkeypatch.setattr(services, "render_docx", lambda doc: doc.number.encode())


@pytest.mark.django_db(transaction=True)
def test_one_subject_requested_at_once_is_issued_once(world):
    results = _issue_in_parallel(world, ["same"] * WORKERS)
    assert results == ["CC移〔2026〕1号"] * WORKERS
    assert IssuedDocument.objects.count() == 1
    assert NumberSequence.objects.get(prefix="CC移", year=2026).last == 1


@pytest.mark.django_db(transaction=True)
def test_different_subjects_at_once_draw_consecutive_numbers(world):
    results = _issue_in_parallel(world, [f"s{i}" for i in range(WORKERS)])
    assert sorted(results, key=str) == sorted((f"CC移〔2026〕{n}号" for n in range(1, WORKERS + 1)), key=str)
    assert NumberSequence.objects.get(prefix="CC移", year=2026).last == WORKERS
