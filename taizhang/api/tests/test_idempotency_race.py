import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from taizhang.api.tokens import create_token
from taizhang.cases.models import Case
from taizhang.core.models import OutboxMessage
from taizhang.testing.personas import build_world

THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_exactly_one_case(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    settings.SECURE_SSL_REDIRECT = False
    world = build_world()
    _token, raw = create_token(user=world.supervisor, name="race")
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str]] = []

    def retry() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            barrier.wait()
            response = client.post("/api/v1/cases/", {"source": "hotline", "title": "并发", "description": "重试"},
                                   format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((response.status_code, response.json().get("number", "")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * THREADS
    assert len({number for _, number in results}) == 1
    assert Case.objects.count() == 1
    assert OutboxMessage.objects.filter(topic="case.created").count() == 1
