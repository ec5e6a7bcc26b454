"""The supervision pages: recommendations (list, draft, edit, issue, reply, evaluate, document), bulletins
(generate, edit with preview, issue, publish, public page) and meetings (record, decisions). Thin:
parse, call one service or selector, render."""

import io
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taizhang.core import clock
from taizhang.core.errors import DomainError, NotFound, ValidationFailed
from taizhang.supervision import documents, forms, selectors, services

PAGE_SIZE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


def _not_found() -> Http404:
    return Http404(_("Not found."))


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "supervision/forbidden.html", {"message": message}, status=403)


def _refused(form: Form, error: DomainError) -> int:
    """Put a service's refusal on the form; NotFound stays a 404."""
    if isinstance(error, NotFound):
        raise _not_found()
    field = error.field if isinstance(error, ValidationFailed) and error.field in form.fields else None
    form.add_error(field, str(error.message))
    return error.status


def _run(form: Form, perform: Callable[[], Any]) -> tuple[Any, int]:
    """Call the service; on refusal the form carries the message and the status says why."""
    try:
        return perform(), 200
    except DomainError as error:
        return None, _refused(form, error)


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _download(content: bytes, content_type: str, name: str) -> HttpResponseBase:
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=content_type)


def _versioned_step(request: HttpRequest, pk: int, perform: Callable[..., Any], done: str,
                    page: str) -> HttpResponse:
    """A one-button step on the object `pk` at the version the page showed; back to its page either way."""
    version = request.POST.get("version")
    try:
        perform(pk, actor=_user(request), version=int(version) if version and version.isdigit() else None)
    except NotFound:
        raise _not_found() from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse(page, args=[pk]), status=303)
    messages.success(request, done)
    return HttpResponseRedirect(reverse(page, args=[pk]))


# --- recommendations -----------------------------------------------------------------------------

@login_required
@require_GET
def recommendation_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    state = request.GET.get("state", "")
    rows = selectors.recommendations_visible_to(user, state=state).order_by("-created_at", "-pk")
    return render(request, "supervision/recommendation_list.html", {
        "page": _page(request, rows), "state": state, "states": selectors.RECOMMENDATION_STATES,
        "may_create": bool(selectors.issuing_orgs(user))})


def _recommendation_inputs(data: dict[str, Any]) -> dict[str, Any]:
    return {"addressed_org": data["addressed_org"], "kind": data["kind"], "title": data["title"],
            "problems": data["problems"], "causes": data["causes"], "recommendations": data["recommendations"],
            "cases": data["cases"], "inspection_round": data["inspection_round"]}


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    issuers = selectors.issuing_orgs(user)
    if not issuers:
        raise _not_found()
    form = forms.RecommendationForm(request.POST or None, issuers=issuers)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            rec, status = _run(form, lambda: services.create_recommendation(
                actor=user, issuing_org=data["issuing_org"], **_recommendation_inputs(data)))
            if rec is not None:
                messages.success(request, _("The draft recommendation was saved."))
                return HttpResponseRedirect(reverse("supervision:recommendation", args=[rec.pk]))
    return render(request, "supervision/form.html", {
        "form": form, "title": _("New supervision recommendation"),
        "back": reverse("supervision:recommendations")}, status=status)


@login_required
@require_GET
def recommendation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = _recommendation_or_404(request, pk)
    return render(request, "supervision/recommendation_detail.html", {"page": page, "rec": page.recommendation})


def _recommendation_or_404(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.recommendation_page(_user(request), pk)
    except NotFound:
        raise _not_found() from None


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    page = _recommendation_or_404(request, pk)
    rec = page.recommendation
    if not page.may_edit:
        return _forbidden(request, _("Only the issuing body edits a recommendation, and only while it is a draft."))
    initial = {"version": rec.version, "addressed_org": rec.addressed_org_id, "kind": rec.kind, "title": rec.title,
               "problems": rec.problems, "causes": rec.causes, "recommendations": rec.recommendations,
               "cases": " ".join(c["number"] for c in page.cases), "inspection_round": rec.inspection_round_id}
    form = forms.RecommendationForm(request.POST or None, initial=initial, issuers=[], editing=True)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            done, status = _run(form, lambda: services.update_recommendation(
                pk, actor=user, version=data["version"], **_recommendation_inputs(data)))
            if done is not None:
                messages.success(request, _("The draft was saved."))
                return HttpResponseRedirect(reverse("supervision:recommendation", args=[pk]))
    return render(request, "supervision/form.html", {
        "form": form, "title": _("Edit the draft recommendation"),
        "back": reverse("supervision:recommendation", args=[pk])}, status=status)


@login_required
@require_POST
def recommendation_issue(request: HttpRequest, pk: int) -> HttpResponse:
    _recommendation_or_404(request, pk)
    return _versioned_step(request, pk, services.issue_recommendation, _("The recommendation was issued."),
                           "supervision:recommendation")


def _recommendation_action(request: HttpRequest, pk: int, *, form_class: type[Form], title: str, allowed: str,
                           perform: Callable[[Any, dict[str, Any]], Any], done: str) -> HttpResponse:
    page = _recommendation_or_404(request, pk)
    rec = page.recommendation
    if not getattr(page, allowed):
        return _forbidden(request, _("This is not open to you at this stage of the recommendation."))
    form = form_class(request.POST or None, request.FILES or None, initial={"version": rec.version})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            result, status = _run(form, lambda: perform(rec, form.cleaned_data))
            if result is not None:
                messages.success(request, done)
                return HttpResponseRedirect(reverse("supervision:recommendation", args=[pk]))
    return render(request, "supervision/recommendation_action.html", {
        "form": form, "title": title, "rec": rec, "page": page}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    return _recommendation_action(
        request, pk, form_class=forms.ReplyForm, title=_("Reply to the recommendation"), allowed="may_reply",
        perform=lambda rec, data: services.reply_to_recommendation(
            rec.pk, actor=user, reply=data["reply"], evidence=data["evidence"],
            version=data["version"]),
        done=_("Your reply was recorded."))


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    return _recommendation_action(
        request, pk, form_class=forms.EvaluationForm, title=_("Evaluate the reply"), allowed="may_evaluate",
        perform=lambda rec, data: services.evaluate_recommendation(
            rec.pk, actor=user, outcome=data["outcome"], evaluation=data["evaluation"], version=data["version"]),
        done=_("The evaluation was recorded."))


@login_required
@require_GET
def recommendation_document(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    rec = _recommendation_or_404(request, pk).recommendation
    return _download(*documents.recommendation_file(rec, fmt, actor=_user(request)))


@login_required
@require_GET
def recommendation_evidence(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponseBase:
    try:
        evidence = selectors.recommendation_evidence(_user(request), pk, evidence_id)
    except NotFound:
        raise _not_found() from None
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.original_name,
                        content_type=evidence.content_type)


# --- bulletins -----------------------------------------------------------------------------------

@login_required
@require_GET
def bulletin_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = selectors.bulletins_visible_to(user).order_by("-created_at", "-pk")
    return render(request, "supervision/bulletin_list.html", {
        "page": _page(request, rows), "may_create": bool(selectors.issuing_orgs(user))})


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    issuers = selectors.issuing_orgs(user)
    if not issuers:
        raise _not_found()
    form = forms.BulletinGenerateForm(request.POST or None, issuers=issuers)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            bulletin, status = _run(form, lambda: services.generate_bulletin(
                actor=user, issuing_org=data["issuing_org"], period_start=data["period_start"],
                period_end=data["period_end"], units=list(data["units"]), title=data["title"]))
            if bulletin is not None:
                messages.success(request, _("The draft bulletin was generated. Review and edit it before issuing."))
                return HttpResponseRedirect(reverse("supervision:bulletin", args=[bulletin.pk]))
    return render(request, "supervision/form.html", {
        "form": form, "title": _("Generate a bulletin"), "back": reverse("supervision:bulletins")}, status=status)


def _bulletin_or_404(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.bulletin_for(_user(request), pk)
    except NotFound:
        raise _not_found() from None


def _edit_form(bulletin: Any, data: Any = None) -> forms.BulletinEditForm:
    return forms.BulletinEditForm(data, bulletin=bulletin, initial={
        "version": bulletin.version, "title": bulletin.title,
        "distribution": list(bulletin.distribution.values_list("pk", flat=True))})


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The bulletin; for its writers while it is a draft, the editor with a live preview."""
    user = _user(request)
    bulletin = _bulletin_or_404(request, pk)
    may_write = selectors.may_write_bulletin(user, bulletin)
    form = _edit_form(bulletin, request.POST or None) if may_write else None
    status = 200
    if request.method == "POST":
        if form is None:
            return _forbidden(request, _("You may not edit this bulletin."))
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            done, status = _run(form, lambda: services.edit_bulletin(
                pk, actor=user, version=data["version"], title=data["title"], sections=form.section_texts(),
                distribution=list(data["distribution"])))
            if done is not None:
                messages.success(request, _("The draft bulletin was saved."))
                return HttpResponseRedirect(reverse("supervision:bulletin", args=[pk]))
    return render(request, "supervision/bulletin_detail.html", {
        "bulletin": bulletin, "form": form, "may_write": may_write, "sections": bulletin.sections,
        "timeline": selectors.bulletin_timeline(bulletin),
        "distribution": list(bulletin.distribution.order_by("path"))}, status=status)


@login_required
@require_POST
def bulletin_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The edited sections as they would read, without saving (htmx)."""
    bulletin = _bulletin_or_404(request, pk)
    form = _edit_form(bulletin, request.POST)
    form.is_valid()
    texts = {name.removeprefix("section_"): str(request.POST.get(name, "")) for name in form.fields
             if name.startswith("section_")}
    sections = [{**s, "text": texts.get(s["key"], s["text"])} for s in bulletin.sections]
    return render(request, "supervision/bulletin_sections.html", {
        "bulletin": bulletin, "sections": sections, "title": request.POST.get("title") or bulletin.title})


def _bulletin_step(request: HttpRequest, pk: int, perform: Callable[..., Any], done: str) -> HttpResponse:
    _bulletin_or_404(request, pk)
    return _versioned_step(request, pk, perform, done, "supervision:bulletin")


@login_required
@require_POST
def bulletin_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _bulletin_step(request, pk, services.issue_bulletin, _("The bulletin was issued."))


@login_required
@require_POST
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _bulletin_step(request, pk, services.publish_bulletin, _("The public version was published."))


@login_required
@require_GET
def bulletin_document(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    bulletin = _bulletin_or_404(request, pk)
    return _download(*documents.bulletin_file(bulletin, fmt, actor=_user(request)))


@require_GET
def bulletin_public(request: HttpRequest, pk: int) -> HttpResponse:
    """The redacted public version, open to everyone once published."""
    try:
        bulletin = selectors.published_bulletin(pk)
    except NotFound:
        raise _not_found() from None
    return render(request, "supervision/bulletin_public.html", {"bulletin": bulletin,
                                                                "sections": bulletin.public_sections})


# --- meetings ------------------------------------------------------------------------------------

@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = selectors.meetings_visible_to(user).order_by("-held_on", "-pk")
    return render(request, "supervision/meeting_list.html", {
        "page": _page(request, rows), "may_create": bool(selectors.issuing_orgs(user))})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    issuers = selectors.issuing_orgs(user)
    if not issuers:
        raise _not_found()
    form = forms.MeetingForm(request.POST or None, issuers=issuers)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            meeting, status = _run(form, lambda: services.record_meeting(
                actor=user, convening_org=data["convening_org"], kind=data["kind"], title=data["title"],
                held_on=data["held_on"], location=data["location"], topics=data["topics"],
                participant_orgs=list(data["participant_orgs"]), participants=list(data["participants"])))
            if meeting is not None:
                messages.success(request, _("The meeting was recorded. Add its decisions."))
                return HttpResponseRedirect(reverse("supervision:meeting", args=[meeting.pk]))
    return render(request, "supervision/form.html", {
        "form": form, "title": _("Record a meeting"), "back": reverse("supervision:meetings")}, status=status)


def _meeting_page(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.meeting_page(_user(request), pk, today=clock.today())
    except NotFound:
        raise _not_found() from None


@login_required
@require_http_methods(["GET", "POST"])
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting with its decisions; its writers add decisions here."""
    user = _user(request)
    page = _meeting_page(request, pk)
    form = forms.DecisionForm(request.POST or None, initial={"version": page.meeting.version})
    status = 200
    if request.method == "POST":
        if not page.may_add_decision:
            return _forbidden(request, _("You may not add decisions to this meeting."))
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            decision, status = _run(form, lambda: services.add_decision(
                pk, actor=user, text=data["text"], assignee_org=data["assignee_org"], due_on=data["due_on"],
                cases=data["cases"], version=data["version"]))
            if decision is not None:
                messages.success(request, _("The decision was recorded."))
                return HttpResponseRedirect(reverse("supervision:meeting", args=[pk]))
    return render(request, "supervision/meeting_detail.html", {
        "page": page, "meeting": page.meeting, "form": form if page.may_add_decision else None,
        "done_form": forms.DecisionDoneForm()}, status=status)


@login_required
@require_POST
def decision_done(request: HttpRequest, pk: int, decision_id: int) -> HttpResponse:
    _meeting_page(request, pk)
    form = forms.DecisionDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how the decision was carried out."))
        return HttpResponseRedirect(reverse("supervision:meeting", args=[pk]), status=303)
    try:
        services.complete_decision(decision_id, actor=_user(request), note=form.cleaned_data["note"])
    except NotFound:
        raise _not_found() from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("supervision:meeting", args=[pk]), status=303)
    messages.success(request, _("The decision was marked carried out."))
    return HttpResponseRedirect(reverse("supervision:meeting", args=[pk]))
