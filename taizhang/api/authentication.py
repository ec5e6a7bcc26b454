"""`Authorization: Bearer <token>` (or `Token <token>`) for the API."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from taizhang.accounts.models import User
from taizhang.api.tokens import authenticate_token

KEYWORDS = (b"bearer", b"token")


class TokenAuthentication(BaseAuthentication):
    """Personal API tokens. An unknown, expired or revoked token is a 401, never a silent anonymous request."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."), code="auth.malformed_header")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="auth.invalid_token") from None
        user = authenticate_token(raw)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."), code="auth.invalid_token")
        return user, getattr(user, "_taizhang_api_token", None)

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


class BrowserSessionAuthentication(SessionAuthentication):
    """The signed-in browser session (with CSRF checks on writes, as DRF does)."""


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "taizhang.api.authentication.TokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A personal API token (tzk_…)."}


class SessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "taizhang.api.authentication.BrowserSessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
