"""督办 in the workspace: the case page's supervision panel, escalating a case by hand, answering a
supervision order and the parent leadership's response to a level-2 escalation. Thin: parse, call one
service or selector, render."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from taizhang.cases import policies
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.sla import selectors
from taizhang.sla import services as sla_services
from taizhang.sla.models import Escalation
from taizhang.web import selectors as web_selectors

FORM_TEMPLATE = "web/escalation/form.html"


class EscalateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    level = forms.TypedChoiceField(
        label=gettext_lazy("Escalate to"), coerce=int, widget=forms.RadioSelect,
        choices=[(Escalation.Level.LEADERSHIP.value, gettext_lazy("Level 2: tell the parent leadership")),
                 (Escalation.Level.SUPERVISION_ORDER.value, gettext_lazy("Level 3: issue a supervision order"))])
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 4}),
                             max_length=2000, strip=True)


class AnswerForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000,
                           strip=True)


def _not_found() -> Http404:
    return Http404(_("Not found."))


def _forbidden(request: HttpRequest, case: Any, message: str) -> HttpResponse:
    return render(request, "web/escalation/forbidden.html", {"case": case, "message": message}, status=403)


def _case_url(number: str) -> str:
    return reverse("web:case", args=[number]) + "#supervision"


@login_required
@require_GET
def supervision_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The 督办 panel: loaded into the case page by htmx, or shown on its own without JavaScript."""
    try:
        panel = selectors.supervision_panel(request.user, number)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    template = ("web/escalation/panel.html" if getattr(request, "htmx", False)
                else "web/escalation/panel_page.html")
    return render(request, template, {"panel": panel, "case": panel.case})


@login_required
@require_http_methods(["GET", "POST"])
def escalate(request: HttpRequest, number: str) -> HttpResponse:
    user: Any = request.user
    try:
        case, clocks = web_selectors.case_header(user, number)
    except NotFound:
        raise _not_found() from None
    if policies.escalating_seat(user, case) is None:
        return _forbidden(request, case, _("You may not escalate this case."))
    conflict, status = False, 200
    if request.method == "POST":
        form = EscalateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                sla_services.escalate_case(number, actor=user, level=data["level"], reason=data["reason"],
                                           version=data["version"])
            except Conflict:
                conflict, status = True, 409
                case, clocks = web_selectors.case_header(user, number)
                fresh = request.POST.copy()
                fresh["version"] = str(case.version)
                form = EscalateForm(fresh)
                form.is_valid()
            except ValidationFailed as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
                status = 422
            except IllegalTransition as error:
                form.add_error(None, str(error.message))
                status = 409
            except PermissionDenied as error:
                return _forbidden(request, case, str(error.message))
            except NotFound:
                raise _not_found() from None
            else:
                messages.success(request, _("The case was escalated."))
                return HttpResponseRedirect(_case_url(number))
        else:
            status = 422
    else:
        form = EscalateForm(initial={"version": case.version})
    return render(request, FORM_TEMPLATE, {
        "case": case, "clocks": clocks, "form": form, "conflict": conflict, "title": _("Escalate (督办)"),
        "action_url": reverse("web:case_escalate", args=[number]), "form_id": "escalate-form",
    }, status=status)


def _answer(request: HttpRequest, number: str, *, title: str, action_url: str, allowed: bool,
            refusal: str, perform: Any, done: str, subject: dict[str, Any]) -> HttpResponse:
    """The reply and response forms: one text, answered once."""
    user: Any = request.user
    case, clocks = web_selectors.case_header(user, number)
    if not allowed:
        return _forbidden(request, case, refusal)
    status = 200
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                perform(form.cleaned_data["text"])
            except ValidationFailed as error:
                form.add_error("text" if error.field == "text" else None, str(error.message))
                status = 422
            except (IllegalTransition, Conflict) as error:
                form.add_error(None, str(error.message))
                status = 409
            except PermissionDenied as error:
                return _forbidden(request, case, str(error.message))
            except NotFound:
                raise _not_found() from None
            else:
                messages.success(request, done)
                return HttpResponseRedirect(_case_url(number))
        else:
            status = 422
    return render(request, FORM_TEMPLATE, {
        "case": case, "clocks": clocks, "form": form, "conflict": False, "title": title, "action_url": action_url,
        "form_id": "answer-form", **subject,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reply_to_order(request: HttpRequest, number: str, order_id: int) -> HttpResponse:
    user: Any = request.user
    try:
        order = selectors.order_for(user, order_id)
    except NotFound:
        raise _not_found() from None
    if order.case.number != number:
        raise _not_found()
    if order.replied_at is not None and request.method == "GET":
        messages.info(request, _("This supervision order has been answered already."))
        return HttpResponseRedirect(_case_url(number))
    return _answer(
        request, number, title=_("Reply to supervision order %(number)s") % {"number": order.number},
        action_url=reverse("web:order_reply", args=[number, order.pk]),
        allowed=policies.lead_unit_leader_seat(user, order.case) is not None,
        refusal=_("Only the leader of the lead unit answers a supervision order."),
        perform=lambda text: sla_services.reply_to_supervision_order(order.pk, actor=user, text=text),
        done=_("The supervision order was answered."), subject={"order": order})


@login_required
@require_http_methods(["GET", "POST"])
def respond_to_escalation(request: HttpRequest, number: str, escalation_id: int) -> HttpResponse:
    user: Any = request.user
    try:
        escalation = selectors.escalation_for(user, escalation_id)
    except NotFound:
        raise _not_found() from None
    if escalation.case.number != number or escalation.level != Escalation.Level.LEADERSHIP:
        raise _not_found()
    if escalation.responded_at is not None and request.method == "GET":
        messages.info(request, _("The response has been recorded already."))
        return HttpResponseRedirect(_case_url(number))
    return _answer(
        request, number, title=_("Respond to the escalation"),
        action_url=reverse("web:escalation_respond", args=[number, escalation.pk]),
        allowed=selectors.may_respond(user, escalation),
        refusal=_("Only the leadership the case was escalated to responds."),
        perform=lambda text: sla_services.respond_to_escalation(escalation.pk, actor=user, text=text),
        done=_("The response was recorded."), subject={"escalation": escalation})
