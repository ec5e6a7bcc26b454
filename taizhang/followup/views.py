"""回头看 in the workspace: the campaign list, planning a campaign (with a preview of the selection),
the campaign page with its progress, launching, and the checker's form. Thin: parse, call one service or
selector, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taizhang.core.errors import Conflict, DomainError, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.followup import policies, selectors, services
from taizhang.followup.forms import CampaignForm, CheckForm


def _not_found() -> Http404:
    return Http404(_("Not found."))


def _forbidden(request: HttpRequest, message: str, back: str) -> HttpResponse:
    return render(request, "followup/forbidden.html", {"message": message, "back": back}, status=403)


def _campaign_url(pk: int) -> str:
    return reverse("followup:campaign", args=[pk])


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    return render(request, "followup/campaign_list.html", {
        "campaigns": selectors.campaign_list(user),
        "may_plan": policies.organising_seat(user) is not None,
        "pending": list(selectors.pending_checks_for(user)[:50]),
    })


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    choices = selectors.planning_choices(user)
    if choices is None:
        return _forbidden(request, _("Only supervisors and inspectors organise re-check campaigns."),
                          reverse("followup:campaigns"))
    status, counts = 200, None
    if request.method == "POST":
        form = CampaignForm(request.POST, **choices)
        if form.is_valid():
            criteria = form.criteria()
            if "preview" in request.POST:
                counts = selectors.preview(user, criteria)
            else:
                try:
                    campaign = services.create_campaign(actor=user, **criteria)
                except ValidationFailed as error:
                    form.add_error(error.field if error.field in form.fields else None, str(error.message))
                    status = 422
                else:
                    messages.success(request, _("The campaign was saved as a draft. Check the selection, "
                                                "then launch it."))
                    return HttpResponseRedirect(_campaign_url(campaign.pk))
        else:
            status = 422
    else:
        form = CampaignForm(**choices)
    return render(request, "followup/campaign_form.html", {"form": form, "counts": counts}, status=status)


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        campaign = selectors.campaign_for(user, pk)
    except NotFound:
        raise _not_found() from None
    draft = campaign.status == campaign.Status.DRAFT
    return render(request, "followup/campaign_detail.html", {
        "campaign": campaign,
        "progress": selectors.progress(campaign),
        "items": selectors.items_of(user, campaign),
        "counts": selectors.preview_count(user, campaign) if draft else None,
        "may_launch": draft and policies.managing_seat(user, campaign) is not None,
        "checkers": list(campaign.checkers.order_by("display_name", "pk")),
    })


@login_required
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        campaign = selectors.campaign_for(user, pk)
        services.launch_campaign(pk, actor=user, version=int(request.POST.get("version") or campaign.version))
    except NotFound:
        raise _not_found() from None
    except PermissionDenied as error:
        return _forbidden(request, str(error.message), _campaign_url(pk))
    except (ValueError, DomainError) as error:
        messages.error(request, str(getattr(error, "message", error)))
    else:
        messages.success(request, _("The campaign was launched."))
    return HttpResponseRedirect(_campaign_url(pk))


@login_required
@require_http_methods(["GET", "POST"])
def item_check(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        item = selectors.item_for(user, pk, item_pk)
    except NotFound:
        raise _not_found() from None
    back = _campaign_url(pk)
    if item.status != item.Status.PENDING:
        messages.info(request, _("This case has been checked already."))
        return HttpResponseRedirect(back)
    if policies.checking_seat(user, item) is None:
        return _forbidden(request, _("Only the checker assigned to this case records its check."), back)
    status = 200
    if request.method == "POST":
        form = CheckForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                checked = services.record_check(pk, item_pk, actor=user, held=data["held"], note=data["note"],
                                                evidence=data["evidence"] or None)
            except ValidationFailed as error:
                field = "evidence" if error.field == "file" else error.field
                form.add_error(field if field in form.fields else None, str(error.message))
                status = 422
            except (IllegalTransition, Conflict) as error:
                messages.error(request, str(error.message))
                return HttpResponseRedirect(back)
            except PermissionDenied as error:
                return _forbidden(request, str(error.message), back)
            else:
                if checked.status == checked.Status.RELAPSED:
                    messages.warning(request, _("Relapse recorded: %(number)s is back in rectification.")
                                     % {"number": checked.case.number})
                else:
                    messages.success(request, _("Recorded: the fix of %(number)s has held.")
                                     % {"number": checked.case.number})
                return HttpResponseRedirect(back)
        else:
            status = 422
    else:
        form = CheckForm()
    return render(request, "followup/check_form.html", {"item": item, "campaign": item.campaign, "form": form},
                  status=status)
