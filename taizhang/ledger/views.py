"""Ledger export and import pages. Thin: parse, call one service or selector, render. Jobs and their
files belong to their owner; anyone else gets a 404."""

import os
import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.ledger import layout, selectors, services

PAGE = 200
ACTION_FILTERS = ("", "error", "create", "update", "unchanged")


def _not_found() -> Http404:
    return Http404(_("Not found."))


def _download(path: Any, filename: str, content_type: str, *, remove: bool = False) -> FileResponse:
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    if remove:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- export --------------------------------------------------------------------------------------

@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse | FileResponse:
    """Small exports download at once; larger ones become a job whose progress the user watches."""
    user: Any = request.user
    query = request.POST.get("query", "")
    format = request.POST.get("format", "xlsx")
    try:
        if services.is_small_export(user, services.parse_filters(query)):
            done = services.export_immediately(actor=user, query=query, format=format)
            return _download(done.path, done.filename, services.CONTENT_TYPES[format], remove=True)
        job = services.create_export(actor=user, query=query, format=format)
    except ValidationFailed as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("web:ledger") + "?" + query)
    return HttpResponseRedirect(reverse("ledger:export", args=[job.pk]))


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        job = selectors.export_for(request.user, pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    template = "ledger/export_progress.html" if getattr(request, "htmx", False) else "ledger/export.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: str) -> FileResponse:
    try:
        job = selectors.export_for(request.user, pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    if not job.is_done or not job.file:
        raise _not_found()
    try:
        return _download(services.media_path(job.file), services.download_name(job.format),
                         services.CONTENT_TYPES[job.format])
    except FileNotFoundError:
        raise _not_found() from None


# --- import --------------------------------------------------------------------------------------

@login_required
def imports(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a workbook (.xlsx) to upload."))
        else:
            try:
                job = services.upload_import(actor=user, upload=upload)
            except ValidationFailed as error:
                messages.error(request, str(error.message))
            else:
                return HttpResponseRedirect(reverse("ledger:import", args=[job.pk]))
    return render(request, "ledger/imports.html", {
        "imports": selectors.recent_imports(user), "exports": selectors.recent_exports(user),
        "mappings": selectors.mappings_for(user), "headers": layout.HEADERS,
    }, status=400 if request.method == "POST" else 200)


def _own_import(request: HttpRequest, pk: str) -> Any:
    try:
        return selectors.import_for(request.user, pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: str) -> HttpResponse:
    job = _own_import(request, pk)
    action = request.GET.get("show", "")
    action = action if action in ACTION_FILTERS else ""
    after = int(request.GET["after"]) if request.GET.get("after", "").isdigit() else 0
    rows = list(selectors.import_rows(job, action=action, after=after, limit=PAGE + 1)) if job.has_report else []
    context = {
        "job": job, "rows": rows[:PAGE], "next_after": rows[PAGE - 1].pk if len(rows) > PAGE else None,
        "show": action, "filters": [("", _("All rows")), ("error", _("Errors")), ("create", _("New cases")),
                                    ("update", _("Updates")), ("unchanged", _("Unchanged"))],
        "columns": [(key, header) for key, header in layout.COLUMNS], "header_of": layout.HEADER_OF,
    }
    if job.needs_mapping:
        context["mapping_rows"] = [(index, header) for index, header in enumerate(job.found_headers)]
    if getattr(request, "htmx", False):
        response = render(request, "ledger/import_progress.html", context)
        if not job.is_busy:
            response["HX-Refresh"] = "true"  # the finished report is a whole page
        return response
    return render(request, "ledger/import.html", context)


@login_required
@require_POST
def import_map(request: HttpRequest, pk: str) -> HttpResponse:
    job = _own_import(request, pk)
    columns = {header: request.POST.get(f"column-{index}", "") for index, header in enumerate(job.found_headers)}
    try:
        services.map_columns(actor=request.user, ledger_import=job, columns=columns,  # type: ignore[arg-type]
                             save_as=request.POST.get("save_as", ""))
    except ValidationFailed as error:
        messages.error(request, str(error.message))
    return HttpResponseRedirect(reverse("ledger:import", args=[job.pk]))


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: str) -> HttpResponse:
    job = _own_import(request, pk)
    try:
        job = services.commit_import(actor=request.user, ledger_import=job)  # type: ignore[arg-type]
    except ValidationFailed as error:
        messages.error(request, str(error.message))
    else:
        if job.is_committed:
            messages.success(request, _("Applied: %(creates)d new cases, %(updates)d updated.")
                             % {"creates": job.creates, "updates": job.updates})
    return HttpResponseRedirect(reverse("ledger:import", args=[job.pk]))


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: str) -> FileResponse:
    job = _own_import(request, pk)
    if not job.has_report:
        raise _not_found()
    handle, name = tempfile.mkstemp(suffix=".xlsx", prefix="ledger-errors-")
    os.close(handle)
    services.write_error_workbook(job, name)
    stem = job.original_name.rsplit(".", 1)[0]
    return _download(name, f"{stem}-错误标注.xlsx", services.CONTENT_TYPES["xlsx"], remove=True)


@login_required
@require_POST
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delete_mapping(actor=request.user, pk=pk)  # type: ignore[arg-type]
    except NotFound:
        raise _not_found() from None
    messages.success(request, _("Column mapping deleted."))
    return HttpResponseRedirect(reverse("ledger:imports"))
