"""Readers of ledger jobs and mappings. A job is its owner's alone: anyone else gets NotFound."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from taizhang.accounts.models import User
from taizhang.core.errors import NotFound
from taizhang.ledger.models import ColumnMapping, ImportRow, LedgerExport, LedgerImport

RECENT = 10


def active_user(username: str) -> User | None:
    """The active account with this login name (for the command line's --as)."""
    return User.objects.filter(username=username, is_active=True).first()


def export_for(user: User, pk: Any) -> LedgerExport:
    try:
        return LedgerExport.objects.get(owner=user, pk=pk)
    except (LedgerExport.DoesNotExist, ValidationError, ValueError):
        raise NotFound() from None


def import_for(user: User, pk: Any) -> LedgerImport:
    try:
        return LedgerImport.objects.get(owner=user, pk=pk)
    except (LedgerImport.DoesNotExist, ValidationError, ValueError):
        raise NotFound() from None


def recent_exports(user: User) -> list[LedgerExport]:
    return list(LedgerExport.objects.filter(owner=user).order_by("-created_at")[:RECENT])


def recent_imports(user: User) -> list[LedgerImport]:
    return list(LedgerImport.objects.filter(owner=user).order_by("-created_at")[:RECENT])


def mappings_for(user: User) -> list[ColumnMapping]:
    return list(ColumnMapping.objects.filter(owner=user).order_by("name"))


def import_rows(job: LedgerImport, *, action: str = "", after: int = 0, limit: int = 200) -> QuerySet[ImportRow]:
    """A page of an import's row report, in file order (keyset on the row id)."""
    rows = ImportRow.objects.filter(ledger_import=job, pk__gt=after).order_by("pk")
    if action:
        rows = rows.filter(action=action)
    return rows[:limit]


def all_import_rows(job: LedgerImport) -> QuerySet[ImportRow]:
    return ImportRow.objects.filter(ledger_import=job).order_by("pk")
