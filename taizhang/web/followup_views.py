"""Follow-up (回访) pages: a supervisor issues a signed link; the enterprise answers through it without
signing in, or on its own follow-up page when signed in."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from taizhang.cases import services
from taizhang.core.errors import DomainError, NotFound, ValidationFailed
from taizhang.web import closing
from taizhang.web.forms import FollowUpAnswerForm

# A link that cannot be used says why: unknown or altered (404), or gone for good (410).
LINK_ERROR_STATUS = {"followup.link_invalid": 404}
LINK_GONE_STATUS = 410


@login_required
@require_POST
def issue_link(request: HttpRequest, number: str) -> HttpResponse:
    user: Any = request.user
    try:
        issued = services.issue_followup_link(number, actor=user)
    except NotFound:
        raise Http404(_("Not found.")) from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("web:case", args=[number]))
    return render(request, "web/followup_link_issued.html", {
        "number": number, "url": request.build_absolute_uri(issued.url), "expires_at": issued.expires_at,
        "enterprise": issued.enterprise,
    })


def _link_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    status = LINK_ERROR_STATUS.get(error.code, LINK_GONE_STATUS)
    return render(request, "web/followup_link_error.html", {"message": error.message, "code": error.code},
                  status=status)


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The enterprise answers through its signed link; no sign-in needed. Nothing internal is shown."""
    try:
        target = closing.link_target(token, request.user)
    except DomainError as error:
        return _link_error(request, error)
    form = FollowUpAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.answer_followup_by_link(token, solved=form.cleaned_data["solved"],
                                                 satisfaction=form.cleaned_data["satisfaction"],
                                                 note=form.cleaned_data["note"], viewer=request.user)
            except ValidationFailed as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
            except DomainError as error:
                return _link_error(request, error)
            else:
                return render(request, "web/followup_link_thanks.html", {"case": target.case})
    return render(request, "web/followup_answer.html", {
        "case": target.case, "enterprise": target.enterprise, "expires_at": target.claims.expires_at, "form": form,
    }, status=status)


@login_required
def my_followups(request: HttpRequest) -> HttpResponse:
    """An enterprise's cases awaiting its follow-up answer, each with the answer form."""
    cases = closing.followups_awaiting_answer(request.user)  # type: ignore[arg-type]
    return render(request, "web/my_followups.html", {
        "items": [(case, FollowUpAnswerForm(auto_id=f"id_{case.number}_%s")) for case in cases],
    })
