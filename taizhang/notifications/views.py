"""The inbox pages (/inbox/): list, open (marks read, goes to the case), mark read, preferences.
Another user's notification is a 404."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.notifications import selectors, services, topics


def _user(request: HttpRequest) -> Any:
    """The signed-in user (login_required ran first); views reach the user model only through services."""
    return request.user


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unread_only = request.GET.get("unread") == "1"
    items = selectors.inbox_for(user, unread_only=unread_only, before=_int(request.GET.get("before")))
    more = len(items) == selectors.PAGE_SIZE
    return render(request, "notifications/inbox.html", {
        "items": items, "unread_only": unread_only, "next_before": items[-1].pk if more else None,
        "unread_total": selectors.unread_count(user),
    })


@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification to its case, marking it read on the way."""
    try:
        found = services.mark_read(notification_id, actor=_user(request))
    except NotFound as exc:
        raise Http404 from exc
    target = found.url if url_has_allowed_host_and_scheme(found.url, allowed_hosts=None) else ""
    return HttpResponseRedirect(target or reverse("notifications:inbox"))


@require_POST
@login_required
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        services.mark_read(notification_id, actor=_user(request))
    except NotFound as exc:
        raise Http404 from exc
    return HttpResponseRedirect(reverse("notifications:inbox"))


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(actor=_user(request))
    return HttpResponseRedirect(reverse("notifications:inbox"))


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    error = ""
    saved = False
    if request.method == "POST":
        chosen = set(request.POST.getlist("email"))
        try:
            unknown = dict.fromkeys(chosen - set(topics.TOPICS), True)
            choices = {name: name in chosen for name in topics.TOPICS} | unknown
            services.set_email_preferences(choices, actor=user)
            saved = True
        except ValidationFailed as exc:
            error = str(exc.message)
    current = services.email_preferences(user)
    rows = [{"topic": name, "label": topic.label, "email": current[name]} for name, topic in topics.TOPICS.items()]
    status = 422 if error else 200
    return render(request, "notifications/preferences.html", {
        "rows": rows, "error": error, "saved": saved, "has_email": bool(user.email),
        "saved_message": _("Your choices are saved."),
    }, status=status)
