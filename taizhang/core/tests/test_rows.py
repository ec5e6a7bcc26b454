"""Rows written and read through statements built once give what the ORM writes and reads; a batch of
inserts is sent at once."""

import datetime as dt
from typing import cast

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from taizhang.cases.models import Case
from taizhang.core import clock, rows
from taizhang.core.models import NumberSequence, OutboxMessage
from taizhang.search.models import SearchDocument

FIELDS = [field.attname for field in OutboxMessage._meta.concrete_fields]


def values(message: OutboxMessage) -> dict[str, object]:
    return {name: getattr(message, name) for name in FIELDS}


def read(pk: int) -> OutboxMessage:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rows.columns(OutboxMessage, 'm')} FROM {OutboxMessage._meta.db_table} m "
                       "WHERE m.id = %s", [pk])
        row = cursor.fetchone()
    assert row is not None
    return rows.load(OutboxMessage, row)


@pytest.mark.django_db
def test_an_inserted_row_reads_back_through_the_orm_as_written():
    now = clock.now()
    pending = OutboxMessage(topic="case.created", payload={"case": "CC-2025-0001", "tags": ["a", 1]}, available_at=now)
    delivered = OutboxMessage(topic="case.closed", payload={}, available_at=now, delivered_at=now + dt.timedelta(1),
                              attempts=2, last_error="timeout")
    for message in (pending, delivered):  # with and without NULLs: two statements
        rows.insert(message)
        assert message.pk is not None
        assert not message._state.adding
        assert values(OutboxMessage.objects.get(pk=message.pk)) == values(message)
    assert pending.created_at is not None
    assert pending.delivered_at is None
    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_a_row_read_by_hand_equals_the_one_the_orm_reads():
    message = OutboxMessage.objects.create(topic="case.created", payload={"n": [1, 2]}, available_at=clock.now(),
                                           delivered_at=clock.now())
    loaded = read(message.pk)
    assert values(loaded) == values(OutboxMessage.objects.get(pk=message.pk))
    assert loaded.available_at.tzinfo is not None
    assert loaded.payload == {"n": [1, 2]}
    assert not loaded._state.adding
    assert loaded._state.db == "default"


@pytest.mark.django_db
def test_values_of_another_type_are_prepared_as_the_orm_prepares_them():
    now = clock.now()  # a lazy string for text, a boolean for a number, text for a moment
    message = OutboxMessage(topic=cast(str, gettext_lazy("case.created")), payload={}, available_at=now.isoformat(),
                            attempts=True)
    rows.insert(message)
    stored = OutboxMessage.objects.get(pk=message.pk)
    assert (stored.topic, stored.attempts, stored.available_at) == ("case.created", 1, now)


def _new_case(world, number: str) -> Case:
    return Case(number=number, title="路灯不亮", description="", source="hotline", found_on=clock.today(),
                supervising_org=world.city, registered_by=world.supervisor)


def _document_of(case: Case) -> SearchDocument:
    document = SearchDocument(body="路灯不亮", terms="路 路灯 灯")
    document.case = case  # no key yet
    return document


@pytest.mark.django_db
def test_a_batch_sends_its_rows_when_it_ends_with_the_keys_of_rows_inserted_before(world):
    NumberSequence.objects.create(prefix="ZZ", year=2026, last=3)
    case = _new_case(world, "ZZ-2026-0004")
    document = _document_of(case)
    message = OutboxMessage(topic="case.created", payload={"case": case.number}, available_at=clock.now())
    along = (f'UPDATE {NumberSequence._meta.db_table} SET "last" = %s WHERE "prefix" = %s', [4, "ZZ"])
    with CaptureQueriesContext(connection) as queries, rows.batch():
        rows.insert(case)
        rows.insert(document)
        rows.insert(message, along=along)
        assert (case._state.adding, document._state.adding) == (True, True)
        assert not queries.captured_queries
    # One statement on PostgreSQL; elsewhere each row and the accompanying statement in turn.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 4)
    assert None not in (case.pk, message.pk)
    assert document.case_id == case.pk
    assert (case._state.adding, document._state.adding) == (False, False)
    assert SearchDocument.objects.get(case=case).body == "路灯不亮"
    assert Case.objects.get(pk=case.pk).description == ""  # an empty text is written out, not bound
    assert OutboxMessage.objects.get(pk=message.pk).payload == {"case": "ZZ-2026-0004"}
    assert NumberSequence.objects.get(prefix="ZZ").last == 4


@pytest.mark.django_db
def test_a_batch_within_a_batch_is_sent_with_the_outer_one(world):
    case = _new_case(world, "ZZ-2026-0005")
    with rows.batch():
        rows.insert(case)
        with rows.batch():
            rows.insert(_document_of(case))
        assert case.pk is None
    assert SearchDocument.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_batch_that_raises_sends_nothing(world):
    def insert_and_fail() -> None:
        with rows.batch():
            rows.insert(_new_case(world, "ZZ-2026-0006"))
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        insert_and_fail()
    rows.insert(OutboxMessage(topic="after", payload={}, available_at=clock.now()))  # no batch is left behind
    assert not Case.objects.filter(number="ZZ-2026-0006").exists()
    assert OutboxMessage.objects.filter(topic="after").exists()


@pytest.mark.django_db
def test_a_row_pointing_at_a_row_never_inserted_is_refused_and_nothing_is_written(world):
    stray = _new_case(world, "ZZ-2026-0007")

    def insert_both() -> None:
        with transaction.atomic(), rows.batch():
            rows.insert(_new_case(world, "ZZ-2026-0008"))
            rows.insert(_document_of(stray))

    with pytest.raises(ValueError, match="not inserted"):
        insert_both()
    assert not Case.objects.filter(number__startswith="ZZ-").exists()
