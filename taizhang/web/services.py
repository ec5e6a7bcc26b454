"""Writers of the workspace's own data: saved filters and column choices. Case writes go through
taizhang.cases.services only."""

from django.db import transaction
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.core import clock
from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.web.models import LedgerPreference, SavedFilter


@transaction.atomic
def save_filter(*, actor: User, name: str, query: str) -> SavedFilter:
    """Keep the ledger query under a name; saving a name again replaces its query."""
    name = (name or "").strip()[:60]
    if not name:
        raise ValidationFailed(_("Give the filter a name."), code="validation.required", field="name")
    query = (query or "").lstrip("?")[:2000]
    saved, _created = SavedFilter.objects.update_or_create(user=actor, name=name,
                                                           defaults={"query": query, "created_at": clock.now()})
    return saved


@transaction.atomic
def delete_filter(*, actor: User, pk: int) -> None:
    deleted, _rows = SavedFilter.objects.filter(user=actor, pk=pk).delete()
    if not deleted:
        raise NotFound()


@transaction.atomic
def set_ledger_columns(*, actor: User, columns: list[str], allowed: list[str]) -> list[str]:
    chosen = [c for c in allowed if c in set(columns)]
    if not chosen:
        raise ValidationFailed(_("Choose at least one column."), code="validation.required", field="columns")
    LedgerPreference.objects.update_or_create(user=actor, defaults={"columns": chosen})
    return chosen
