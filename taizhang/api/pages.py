"""Server-rendered token management for signed-in users: create (shown once), list, revoke."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from taizhang.accounts.models import User
from taizhang.api import selectors
from taizhang.api.tokens import create_token, revoke_token
from taizhang.core import clock
from taizhang.core.errors import DomainError, NotFound

MAX_EXPIRY_DAYS = 3650


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    created: str | None = None
    errors: list[str] = []
    if request.method == "POST":
        name = request.POST.get("name", "")
        raw_days = request.POST.get("expires_days", "").strip()
        expires_at = None
        if raw_days:
            if not raw_days.isascii() or not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_EXPIRY_DAYS:
                errors.append(_("Expiry is a number of days from 1 to 3650."))
            else:
                expires_at = clock.now() + dt.timedelta(days=int(raw_days))
        if not errors:
            try:
                _token, created = create_token(user=user, name=name, expires_at=expires_at)
            except DomainError as error:
                errors.append(str(error.message))
    status = 422 if errors else (201 if created else 200)
    response = render(request, "api/tokens.html", {
        "tokens": selectors.tokens_of(user), "created": created, "errors": errors, "now": clock.now(),
        "form": request.POST if errors else {},
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        token = selectors.token_of(user, pk)
    except NotFound:
        return render(request, "api/tokens.html", {"tokens": selectors.tokens_of(user), "errors": [_("Not found.")],
                                                   "now": clock.now(), "form": {}}, status=404)
    revoke_token(token, actor=user)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return HttpResponseRedirect(reverse("api:tokens"))
