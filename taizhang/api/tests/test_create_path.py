"""The case-creation write path stays lean: a bounded number of queries, nothing re-read, and the
document, audit event, outbox row and idempotency record all written in the one transaction."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.api.models import IdempotencyRecord
from taizhang.audit.models import AuditEvent
from taizhang.audit.verify import verify_chain
from taizhang.cases.models import Case
from taizhang.core.models import OutboxMessage
from taizhang.search.models import SearchDocument

NEW_CASE = {"source": "hotline", "title": "园区路灯不亮", "description": "群众来电反映园区道路路灯长期不亮。"}
# Token with the user's seats, idempotency claim, default supervising body, number, audit head lock, then
# the case, its search document, outbox row and audit event with the head's move (one statement on
# PostgreSQL, five on SQLite), idempotency answer; plus the enterprise links when given (in that statement
# on PostgreSQL).
CREATE_QUERIES = 7 if connection.vendor == "postgresql" else 11


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_a_creation_takes_a_fixed_number_of_queries_in_one_transaction(world, client_for):
    client = client_for(world.supervisor)
    client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="warm")  # token last-used time
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-lean")
    assert response.status_code == 201
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(_statements(queries)) == CREATE_QUERIES, "\n".join(sql)
    # One transaction for the request (a savepoint here only because the test runs inside a transaction).
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1
    number = response.json()["number"]
    case = Case.objects.get(number=number)
    assert SearchDocument.objects.filter(case=case).exists()
    assert AuditEvent.objects.filter(action="case.registered", object_id=number).count() == 1
    assert OutboxMessage.objects.filter(topic="case.created", payload__case=number).count() == 1
    record = IdempotencyRecord.objects.get(user=world.supervisor, key="k-lean")
    assert record.status == 201
    assert record.response_body == response.json()
    assert verify_chain().ok


def test_enterprises_cost_one_insert_and_are_answered_without_a_read(world, client_for):
    other = world.enterprise.__class__.objects.exclude(pk=world.enterprise.pk).first()
    wanted = [world.enterprise.pk] + ([other.pk] if other else [])
    client = client_for(world.supervisor)
    client.post("/api/v1/cases/", NEW_CASE, format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/cases/", {**NEW_CASE, "enterprises": wanted + wanted[:1]}, format="json")
    assert response.status_code == 201
    # Without a key: no claim and no answer to store; with enterprises: their read, and on SQLite an INSERT each.
    links = 0 if connection.vendor == "postgresql" else len(wanted)
    assert len(_statements(queries)) == CREATE_QUERIES - 2 + 1 + links
    assert [e["id"] for e in response.json()["enterprises"]] == wanted
    case = Case.objects.get(number=response.json()["number"])
    assert sorted(case.enterprises.values_list("pk", flat=True)) == sorted(wanted)


def test_a_retry_is_answered_from_the_record_without_the_write_path(world, client_for):
    client = client_for(world.supervisor)
    first = client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-again")
    with CaptureQueriesContext(connection) as queries:
        again = client.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-again")
    assert again.json() == first.json()
    assert not [q for q in queries.captured_queries if "cases_case" in q["sql"] or "audit" in q["sql"]]
    assert Case.objects.count() == 1


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_reporter_is_shown_as_before(world, client_for, anonymous):
    response = client_for(world.supervisor).post(
        "/api/v1/cases/", {**NEW_CASE, "reporter_name": "张三", "reporter_anonymous": anonymous}, format="json")
    assert response.status_code == 201
    assert response.json()["reporter_name"] == "张三"  # the registrar always sees whom they registered
