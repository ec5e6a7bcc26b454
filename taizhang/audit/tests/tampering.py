"""Test helpers that act like an attacker with database rights: lift the append-only triggers,
rewrite rows with raw SQL, put the triggers back. The trigger SQL comes from the migrations, so the
triggers restored are exactly the ones deployed."""

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

MIGRATIONS = [importlib.import_module(f"taizhang.audit.migrations.{name}")
              for name in ("0002_append_only_triggers", "0003_truncate_only_when_empty")]


def _statements(direction: str) -> list[str]:
    vendor = {"sqlite": "SQLITE", "postgresql": "POSTGRES"}[connection.vendor]
    modules = MIGRATIONS if direction == "FORWARD" else list(reversed(MIGRATIONS))
    return [sql for module in modules for sql in getattr(module, f"{vendor}_{direction}", [])]


def sql(statement: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


@contextmanager
def triggers_lifted() -> Iterator[None]:
    for statement in _statements("BACKWARD"):
        sql(statement)
    try:
        yield
    finally:
        for statement in _statements("FORWARD"):
            sql(statement)


def trigger_names() -> set[str]:
    if connection.vendor == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'"
    else:
        query = ("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                 "AND tgrelid = 'audit_auditevent'::regclass")
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {name for (name,) in cursor.fetchall()}


def purge_audit_trail() -> None:
    """Empty the trail and its head so a transactional test database can be flushed."""
    with triggers_lifted():
        sql("DELETE FROM audit_auditevent")
        sql("DELETE FROM audit_auditchainhead")
