"""Background exports with progress, the pages and API endpoints, and who may see which job and file."""

import io

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse

from taizhang.cases.workflow import State
from taizhang.ledger import services
from taizhang.ledger.models import LedgerExport, LedgerImport
from taizhang.ledger.tests.helpers import XLSX, upload
from taizhang.testing.matrix import Cast, drive

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


@pytest.fixture
def cases(world):
    cast = Cast.own(world)
    return [drive(cast, State.RECTIFYING, title="供电频繁闪断"), drive(cast, State.REGISTERED, title="未交办")]


def rows_of(data: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [str(r[0]) for r in sheet.iter_rows(min_row=3, values_only=True)]


@pytest.mark.django_db
def test_small_export_from_the_ledger_page_downloads_at_once(client, world, cases):
    client.force_login(world.handler)
    page = client.get(reverse("web:ledger"))
    assert reverse("ledger:export_start").encode() in page.content
    response = client.post(reverse("ledger:export_start"), {"query": "state=rectifying", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert rows_of(b"".join(response.streaming_content)) == [cases[0].number]
    csv = client.post(reverse("ledger:export_start"), {"query": "", "format": "csv"})
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")
    bad = client.post(reverse("ledger:export_start"), {"query": "state=nonsense", "format": "xlsx"})
    assert bad.status_code == 302
    assert not LedgerExport.objects.exists()


@pytest.mark.django_db
def test_large_export_runs_as_a_job_with_progress_and_only_its_owner_downloads(
        client, world, cases, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "IMMEDIATE_EXPORT_ROWS", 1)
    client.force_login(world.supervisor)
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:export_start"), {"query": "", "format": "xlsx"})
    job = LedgerExport.objects.get()
    assert response.url == reverse("ledger:export", args=[job.pk])
    assert (job.status, job.total, job.written) == (LedgerExport.Status.DONE, 2, 2)
    page = client.get(response.url)
    assert reverse("ledger:export_download", args=[job.pk]).encode() in page.content
    download = client.get(reverse("ledger:export_download", args=[job.pk]))
    assert sorted(rows_of(b"".join(download.streaming_content))) == sorted(c.number for c in cases)
    client.force_login(world.viewer)  # sees the same cases, but the job is not theirs
    for name in ("ledger:export", "ledger:export_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("api:ledger-export-download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_progress_is_recorded_while_writing(world, cases, monkeypatch):
    monkeypatch.setattr("taizhang.ledger.export.CHUNK_SIZE", 1)
    job = services.create_export(actor=world.supervisor, query="", format="csv")
    seen: list[int] = []
    real = LedgerExport.objects.filter

    def spy(*args, **kwargs):
        seen.append(real(pk=job.pk).values_list("written", flat=True).get())
        return real(*args, **kwargs)

    monkeypatch.setattr(LedgerExport.objects, "filter", spy)
    services.run_export(str(job.pk))
    job.refresh_from_db()
    assert job.status == LedgerExport.Status.DONE
    assert 1 in seen
    assert services.media_path(job.file).read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.django_db
def test_api_export_and_import_round_trip(client, world, cases, django_capture_on_commit_callbacks):
    client.force_login(world.handler)
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        created = client.post(reverse("api:ledger-exports"), {"format": "xlsx", "query": ""},
                              content_type="application/json")
    assert created.status_code == 202
    job = client.get(reverse("api:ledger-export", args=[created.json()["id"]])).json()
    assert job["status"] == "done"
    assert job["written"] == 1
    data = b"".join(client.get(job["download_url"]).streaming_content)
    uploaded = client.post(reverse("api:ledger-imports"), {"file": upload(data)})
    assert uploaded.status_code == 201
    assert uploaded.json()["unchanged"] == 1
    pk = uploaded.json()["id"]
    rows = client.get(reverse("api:ledger-import-rows", args=[pk])).json()
    assert [r["action"] for r in rows["results"]] == ["unchanged"]
    committed = client.post(reverse("api:ledger-import-commit", args=[pk]))
    assert committed.status_code == 200
    assert committed.json()["status"] == "committed"
    again = client.post(reverse("api:ledger-import-commit", args=[pk]))
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "ledger.not_ready"
    refused = client.post(reverse("api:ledger-imports"), {"file": upload(b"not a workbook")})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "ledger.not_a_workbook"
    client.force_login(world.sibling_handler)
    assert client.get(reverse("api:ledger-import", args=[pk])).status_code == 404
    assert client.post(reverse("api:ledger-import-commit", args=[pk])).status_code == 404


@pytest.mark.django_db
def test_import_pages_preview_commit_and_error_workbook(client, world, cases):
    client.force_login(world.handler)
    export = client.post(reverse("ledger:export_start"), {"query": "", "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    book.worksheets[0]["L3"] = "已完成切改"
    book.worksheets[0]["K3"] = "下个月"
    buffer = io.BytesIO()
    book.save(buffer)
    assert client.get(reverse("ledger:imports")).status_code == 200
    response = client.post(reverse("ledger:imports"), {"file": upload(buffer.getvalue())})
    job = LedgerImport.objects.get()
    assert response.url == reverse("ledger:import", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "整改时限" in page
    assert "import-commit" not in page
    errors = client.get(reverse("ledger:import_errors", args=[job.pk]))
    marked = openpyxl.load_workbook(io.BytesIO(b"".join(errors.streaming_content))).worksheets[0]
    assert marked["K3"].comment is not None
    refused = client.post(reverse("ledger:import_commit", args=[job.pk]))
    assert refused.status_code == 302
    job.refresh_from_db()
    assert job.status == LedgerImport.Status.VALIDATED
    client.force_login(world.unit_leader)
    for name in ("ledger:import", "ledger:import_errors"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_column_mapping_page_maps_once_and_is_saved(client, world, cases):
    from taizhang.ledger.tests.helpers import workbook_bytes

    data = workbook_bytes([[cases[0].number, "用自己的表报告"]], headers=["编号", "进展"], title=None)
    client.force_login(world.handler)
    response = client.post(reverse("ledger:imports"), {"file": upload(data, "own.xlsx")})
    page = client.get(response.url).content.decode()
    assert 'name="column-0"' in page
    job = LedgerImport.objects.get()
    client.post(reverse("ledger:import_map", args=[job.pk]),
                {"column-0": "number", "column-1": "progress", "save_as": "区局表"})
    job.refresh_from_db()
    assert (job.status, job.updates) == (LedgerImport.Status.VALIDATED, 1)
    listing = client.get(reverse("ledger:imports")).content.decode()
    assert "区局表" in listing
