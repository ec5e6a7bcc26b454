"""The database itself refuses to rewrite history, whatever the ORM or raw SQL asks."""

import pytest
from django.db import DatabaseError, connection, transaction

from taizhang.audit.models import AuditEvent
from taizhang.audit.tests.tampering import sql, trigger_names, triggers_lifted

REFUSED = pytest.raises(DatabaseError, match="append-only")


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no TRUNCATE statement")


def test_orm_update_is_refused(ten_events):
    with REFUSED, transaction.atomic():
        AuditEvent.objects.filter(seq=4).update(object_repr="forged")
    assert AuditEvent.objects.get(seq=4).object_repr == "企业反映供电不稳 4"


def test_orm_save_of_an_existing_event_is_refused(ten_events):
    event = AuditEvent.objects.get(seq=2)
    event.actor_name = "someone else"
    with REFUSED, transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(seq=2).actor_name == "王监督"


def test_orm_delete_is_refused(ten_events):
    with REFUSED, transaction.atomic():
        AuditEvent.objects.filter(seq__gte=8).delete()
    with REFUSED, transaction.atomic():
        AuditEvent.objects.get(seq=1).delete()
    assert AuditEvent.objects.count() == 10


def test_raw_sql_update_and_delete_are_refused(ten_events):
    with REFUSED, transaction.atomic():
        sql("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["case.closed", 3])
    with REFUSED, transaction.atomic():
        sql("DELETE FROM audit_auditevent WHERE seq = %s", [10])
    assert AuditEvent.objects.get(seq=3).action == "case.assessed"
    assert AuditEvent.objects.count() == 10


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(ten_events):
    needs_postgres()
    with REFUSED, transaction.atomic():
        sql("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 10


@pytest.mark.postgres
def test_truncate_of_an_empty_trail_is_allowed_on_postgresql(db):
    needs_postgres()
    sql("TRUNCATE audit_auditevent")
    assert "audit_event_no_truncate" in trigger_names()


def test_lifting_the_triggers_restores_the_same_ones(ten_events):
    deployed = trigger_names()
    assert len(deployed) >= 2
    with triggers_lifted():
        assert trigger_names() == set()
        assert sql("UPDATE audit_auditevent SET object_repr = 'x' WHERE seq = 1") == 1
    assert trigger_names() == deployed
    with REFUSED, transaction.atomic():
        sql("UPDATE audit_auditevent SET object_repr = 'y' WHERE seq = 1")
