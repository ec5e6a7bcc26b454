"""The workspace pages. Thin: parse, call one service or selector, render."""

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from taizhang.cases import services as case_services
from taizhang.cases.workflow import TRANSITIONS, action_label, transition_for
from taizhang.core.errors import Conflict, DomainError, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.followup import selectors as followup_selectors
from taizhang.orgs import services as org_services
from taizhang.web import closing, ledger, selectors
from taizhang.web import services as web_services
from taizhang.web.forms import SOURCE_CHANNELS, ActionForm, EnterpriseForm, RegistrationForm, SavedFilterForm

INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _not_found() -> Http404:
    return Http404(_("Not found."))


# --- home ----------------------------------------------------------------------------------------

@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "web/home.html", {
        "tiles": selectors.home_tiles(user),  # type: ignore[arg-type]
        "activity": selectors.recent_activity(user),  # type: ignore[arg-type]
        "pending_rechecks": followup_selectors.pending_checks_count(user),  # type: ignore[arg-type]
    })


# --- ledger --------------------------------------------------------------------------------------

@login_required
def ledger_list(request: HttpRequest) -> HttpResponse:
    context = ledger.ledger_context(request)
    template = "web/ledger_results.html" if getattr(request, "htmx", False) else "web/ledger.html"
    return render(request, template, context, status=context.get("status", 200))


@login_required
@require_POST
def ledger_save_filter(request: HttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        try:
            web_services.save_filter(actor=request.user, name=form.cleaned_data["name"],  # type: ignore[arg-type]
                                     query=form.cleaned_data["query"])
            messages.success(request, _("Filter saved."))
        except ValidationFailed as error:
            messages.error(request, str(error.message))
    else:
        messages.error(request, str(next(iter(form.errors.values()))[0]))  # the first field error
    return HttpResponseRedirect(reverse("web:ledger") + "?" + form.data.get("query", ""))


@login_required
@require_POST
def ledger_delete_filter(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        web_services.delete_filter(actor=request.user, pk=pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    messages.success(request, _("Filter deleted."))
    return HttpResponseRedirect(reverse("web:ledger"))


@login_required
@require_POST
def ledger_columns(request: HttpRequest) -> HttpResponse:
    try:
        web_services.set_ledger_columns(actor=request.user, columns=request.POST.getlist("columns"),  # type: ignore[arg-type]
                                        allowed=[key for key, _label in ledger.COLUMNS])
    except ValidationFailed as error:
        messages.error(request, str(error.message))
    return HttpResponseRedirect(reverse("web:ledger") + "?" + request.POST.get("query", ""))


# --- case page -----------------------------------------------------------------------------------

@login_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        page = selectors.case_page(request.user, number)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    return render(request, "web/case_detail.html", {"page": page, "case": page.case, "clocks": page.clocks})


def _action_form(request: HttpRequest, case: Any, transition: Any, data: Any = None, files: Any = None,
                 initial: Any = None) -> ActionForm:
    names = set(transition.input_names)
    user: Any = request.user
    return ActionForm(data, files, initial=initial, transition=transition,
                      orgs=selectors.handover_orgs() if names & {"responsible_org", "lead_org", "co_orgs"} else (),
                      categories=selectors.categories() if "category" in names else (),
                      checklist=closing.acceptance_checklist(case) if "checklist" in names else (),
                      team=closing.acceptance_team_choices(user, case) if "team" in names else (),
                      acting_role=closing.acting_role(user, transition.action, case)
                      if transition.action == "record_followup" else "")


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user: Any = request.user
    try:
        case, clocks = selectors.case_header(user, number)
    except NotFound:
        raise _not_found() from None
    transition = transition_for(case.state, action)
    allowed = {t.action for t in case_services.available_actions(user, case)}
    if transition is not None and action not in allowed:
        # The action exists in this state but is not the user's to take.
        messages.error(request, _("“%(action)s” is not possible for you now.") % {"action": action_label(action)})
        return HttpResponseRedirect(reverse("web:case", args=[number]))
    if transition is None and request.method == "GET":
        messages.error(request, _("“%(action)s” is not possible for you now.") % {"action": action_label(action)})
        return HttpResponseRedirect(reverse("web:case", args=[number]))
    conflict = False
    status = 200
    if request.method == "POST":
        if transition is None:
            # The case moved on since the form was shown: say so, show the fresh state and keep the input.
            shape = next((t for t in TRANSITIONS if t.action == action), None)
            if shape is None:
                raise _not_found()
            form = _action_form(request, case, shape, request.POST, request.FILES)
            form.is_valid()
            return _render_action(request, case, clocks, form, conflict=True, stale_action=True, status=409)
        form = _action_form(request, case, transition, request.POST, request.FILES)
        if form.is_valid():
            try:
                case_services.perform_action(number, action, actor=user, version=form.cleaned_data["version"],
                                             **form.service_inputs())
            except Conflict:
                conflict, status = True, 409
                case, clocks = selectors.case_header(user, number)
                fresh = request.POST.copy()
                fresh["version"] = str(case.version)
                form = _action_form(request, case, transition, fresh, request.FILES)
                form.is_valid()
            except ValidationFailed as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, str(error.message))
                status = 422
            except (IllegalTransition, PermissionDenied) as error:
                form.add_error(None, str(error.message))
                status = 409
            except NotFound:
                raise _not_found() from None
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": transition.label})
                return HttpResponseRedirect(reverse("web:case", args=[number]))
        else:
            status = 422
    else:
        form = _action_form(request, case, transition, initial={"version": case.version})
    return _render_action(request, case, clocks, form, conflict=conflict, status=status)


def _render_action(request: HttpRequest, case: Any, clocks: Any, form: ActionForm, *, conflict: bool,
                   stale_action: bool = False, status: int = 200) -> HttpResponse:
    return render(request, "web/case_action.html", {
        "case": case, "clocks": clocks, "form": form, "transition": form.transition, "conflict": conflict,
        "stale_action": stale_action, "has_files": "evidence" in form.fields,
    }, status=status)


@login_required
@require_POST
def evidence_upload(request: HttpRequest, number: str) -> HttpResponse:
    user: Any = request.user
    uploads = request.FILES.getlist("file")
    try:
        if not uploads:
            raise ValidationFailed(_("Choose a file."), code="validation.required", field="file")
        for upload in uploads:
            case_services.attach_evidence(number, upload, actor=user)
    except NotFound:
        raise _not_found() from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("web:case", args=[number]) + "#evidence")
    messages.success(request, _("Evidence added."))
    return HttpResponseRedirect(reverse("web:case", args=[number]) + "#evidence")


@login_required
def evidence_file(request: HttpRequest, number: str, evidence_id: int) -> HttpResponse | FileResponse:
    try:
        evidence = selectors.evidence_file(request.user, number, evidence_id)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    content_type = evidence.content_type or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise _not_found() from None
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline,
                            filename=evidence.original_name or (evidence.sha256 + (mimetypes.guess_extension(
                                content_type) or "")))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# --- registration --------------------------------------------------------------------------------

@login_required
def register_choose(request: HttpRequest) -> HttpResponse:
    allowed = selectors.registration_channels(request.user)  # type: ignore[arg-type]
    return render(request, "web/register_choose.html",
                  {"channels": [(key, label) for key, label in _channels() if key in allowed]})


def _channels() -> list[tuple[str, str]]:
    return [("inspection", _("Inspection finding")), ("enterprise", _("Enterprise demand")),
            ("liaison", _("Liaison officer visit")), ("hotline", _("12345 hotline transfer"))]


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, channel: str) -> HttpResponse:
    user: Any = request.user
    if channel not in selectors.registration_channels(user):
        raise _not_found()
    rounds = selectors.rounds_for(user) if channel == "inspection" else []
    form = RegistrationForm(request.POST or None, channel=channel, categories=selectors.categories(), rounds=rounds)
    chosen: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            chosen = [selectors.enterprise_for(user, pk) for pk in request.POST.getlist("enterprises")]
        except NotFound:
            form.add_error("enterprises", _("Choose enterprises from the list."))
        if form.is_valid():
            data = form.cleaned_data
            remarks = ""
            if data.get("hotline_ticket"):
                remarks = _("12345 ticket number: %(ticket)s") % {"ticket": data["hotline_ticket"]}
            try:
                case = case_services.register_case(
                    actor=user, source=SOURCE_CHANNELS[channel], title=data["title"],
                    description=data["description"], found_on=data.get("found_on"),
                    category=_pick(selectors.categories(), data.get("category")),
                    enterprises=chosen,
                    inspection_round=selectors.round_for(user, data["inspection_round"])
                    if data.get("inspection_round") else None,
                    reporter_name=data.get("reporter_name") or "", reporter_contact=data.get("reporter_contact") or "",
                    reporter_anonymous=bool(data.get("reporter_anonymous")), remarks=remarks,
                    internal_note=data.get("internal_note") or "",
                )
            except ValidationFailed as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
            except (PermissionDenied, NotFound) as error:
                form.add_error(None, str(error.message))
            else:
                messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
                return HttpResponseRedirect(reverse("web:case", args=[case.number]))
        status = 422
    return render(request, "web/register.html", {
        "form": form, "channel": channel, "channel_label": dict(_channels())[channel], "chosen": chosen,
        "enterprise_form": EnterpriseForm(prefix="new"),
    }, status=status)


def _pick(items: list[Any], pk: Any) -> Any:
    return next((item for item in items if str(item.pk) == str(pk)), None) if pk else None


# --- enterprises ---------------------------------------------------------------------------------

@login_required
def enterprise_search(request: HttpRequest) -> HttpResponse:
    results = selectors.search_enterprises(request.user, request.GET.get("q", ""))  # type: ignore[arg-type]
    return render(request, "web/enterprise_results.html", {"results": results, "q": request.GET.get("q", "")})


@login_required
@require_POST
def enterprise_create(request: HttpRequest) -> HttpResponse:
    form = EnterpriseForm(request.POST, prefix="new")
    status = 422
    created = None
    if form.is_valid():
        try:
            created = org_services.create_enterprise(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            status = 201
        except ValidationFailed as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        except PermissionDenied as error:
            form.add_error(None, str(error.message))
            status = 403
    return render(request, "web/enterprise_new.html", {"enterprise_form": form, "created": created}, status=status)


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        context = selectors.enterprise_page(request.user, pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    return render(request, "web/enterprise_detail.html", context)

