"""Personal API tokens: created once, stored hashed, checked in constant time."""

import datetime as dt
import hashlib
import hmac
import itertools
import secrets

from django.db import connection, transaction
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.api.models import ApiToken
from taizhang.audit.services import ActorContext, record_event
from taizhang.cases import policies
from taizhang.core import clock, rows
from taizhang.core.errors import ValidationFailed

TOKEN_PREFIX = "tzk_"
PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Read on every API request: written out, since building it through the ORM costs many times what it takes to run.
# With the user's seats, which every request needs (one row per seat).
TOKENS_SQL = (f"SELECT {rows.columns(ApiToken, 't')}, {rows.columns(User, 'u')}, {policies.SEAT_COLUMNS} "
              f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
              f"{policies.SEATS_JOIN} WHERE t.key_prefix = %s ORDER BY t.id, m.id")
TOKEN_COLUMNS = len(ApiToken._meta.concrete_fields)
SEAT_START = TOKEN_COLUMNS + len(User._meta.concrete_fields)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _actor(user: User) -> ActorContext:
    return ActorContext(user_id=user.pk, name=str(user))


@transaction.atomic
def create_token(*, user: User, name: str, expires_at: dt.datetime | None = None,
                 actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`. The raw value is returned here once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."), code="validation.required", field="name")
    if len(name) > 100:
        raise ValidationFailed(_("The name is too long."), code="validation.too_long", field="name")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(_("The expiry must be in the future."), code="validation.date_not_future",
                               field="expires_at")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_prefix=raw[:PREFIX_LENGTH], key_hash=hash_token(raw),
                                    created_at=now, expires_at=expires_at)
    record_event(actor=_actor(actor or user), action="api_token.created", object_type="api_token",
                 object_id=token.pk, object_repr=token.name,
                 after={"user": user.pk, "name": token.name, "key_prefix": token.key_prefix,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    return token, raw


def authenticate_token(raw: str) -> User | None:
    """The active user behind a valid, unexpired, unrevoked token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    digest = hash_token(raw)
    now = clock.now()
    with connection.cursor() as cursor:
        cursor.execute(TOKENS_SQL, [raw[:PREFIX_LENGTH]])
        found = cursor.fetchall()
    for _token_id, grouped in itertools.groupby(found, key=lambda row: row[0]):
        token_rows = list(grouped)  # one per seat
        row = token_rows[0]
        token = rows.load(ApiToken, row[:TOKEN_COLUMNS])
        if not hmac.compare_digest(token.key_hash, digest):
            continue
        token.user = rows.load(User, row[TOKEN_COLUMNS:SEAT_START])
        if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
            return None
        if not token.user.is_active:
            return None
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        user = token.user
        user._taizhang_api_token = token  # type: ignore[attr-defined]
        policies.keep_seats(user, (seat_row[SEAT_START:] for seat_row in token_rows))
        return user
    return None


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: User) -> ApiToken:
    """Revoke `token` (its owner, or an operator). Revoking twice changes nothing."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = clock.now()
    locked.save(update_fields=["revoked_at"])
    record_event(actor=_actor(actor), action="api_token.revoked", object_type="api_token", object_id=locked.pk,
                 object_repr=locked.name, after={"user": locked.user_id, "revoked_at": locked.revoked_at.isoformat()})
    return locked


def tokens_of(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))
