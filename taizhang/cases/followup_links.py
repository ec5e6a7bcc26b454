"""Signed, expiring, single-use links through which an enterprise answers a follow-up (回访) without
signing in. The token carries the case, the acceptance it follows up, the enterprise, a random nonce and
the expiry; it is signed with the project's secret. A used nonce is stored on the answer (FollowUp.link_nonce,
unique), so a link works once; a new acceptance makes earlier links stale."""

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core import signing

from taizhang.core import clock

SALT = "taizhang.followup.link"
LINK_VALID_DAYS = 14


@dataclass(frozen=True)
class LinkClaims:
    case_number: str
    acceptance_id: int
    enterprise_id: int
    nonce: str
    expires_at: dt.datetime


class LinkInvalid(Exception):
    """The token was not issued by this site or was altered."""


class LinkExpired(Exception):
    """The token is genuine but past its expiry."""


def make_token(case_number: str, acceptance_id: int, enterprise_id: int) -> tuple[str, dt.datetime]:
    expires_at = clock.now() + dt.timedelta(days=LINK_VALID_DAYS)
    payload = {"c": case_number, "a": acceptance_id, "e": enterprise_id, "n": secrets.token_hex(16),
               "x": int(expires_at.timestamp())}
    return signing.dumps(payload, salt=SALT, compress=True), expires_at


def read_token(token: str) -> LinkClaims:
    try:
        payload = signing.loads(token, salt=SALT)
        claims = LinkClaims(case_number=str(payload["c"]), acceptance_id=int(payload["a"]),
                            enterprise_id=int(payload["e"]), nonce=str(payload["n"]),
                            expires_at=dt.datetime.fromtimestamp(int(payload["x"]), tz=dt.UTC))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid() from None
    if claims.expires_at <= clock.now():
        raise LinkExpired()
    return claims
