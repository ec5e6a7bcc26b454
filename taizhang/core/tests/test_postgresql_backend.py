"""The PostgreSQL backend checks a persistent connection before a request only after it has idled."""

import time
from typing import cast

import psycopg
import pytest
from django.db import OperationalError, connection

from taizhang.core.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def terminate(pid: int) -> None:
    """End the server process behind a connection, as a database restart would, and wait until it is gone."""
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                         port=settings["PORT"] or 5432, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is not None:
            assert time.monotonic() < deadline, "the backend was not terminated"
            time.sleep(0.05)


def wrapper() -> DatabaseWrapper:
    return cast(DatabaseWrapper, connection)


def next_request() -> None:
    wrapper().health_check_done = False  # as at the start of every request


@pytest.mark.django_db(transaction=True)
def test_a_connection_used_a_moment_ago_is_not_checked(monkeypatch):
    checks = []

    def is_usable() -> bool:
        checks.append(1)
        return True

    backend_pid()
    monkeypatch.setattr(connection, "is_usable", is_usable)
    next_request()
    backend_pid()
    assert checks == []
    wrapper().last_used = time.monotonic() - 2
    next_request()
    backend_pid()
    assert checks == [1]


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_while_idle_is_replaced_before_the_request_uses_it():
    lost = backend_pid()
    terminate(lost)
    wrapper().last_used = time.monotonic() - 2
    next_request()
    assert backend_pid() != lost


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_between_busy_requests_fails_that_request_only():
    lost = backend_pid()
    terminate(lost)
    next_request()
    with pytest.raises(OperationalError):
        backend_pid()
    connection.close_if_unusable_or_obsolete()  # what Django does when the request ends
    next_request()
    assert backend_pid() != lost
