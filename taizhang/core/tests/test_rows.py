"""Rows written and read through statements built once give what the ORM writes and reads."""

import datetime as dt
from typing import cast

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy

from taizhang.core import clock, rows
from taizhang.core.models import OutboxMessage

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
