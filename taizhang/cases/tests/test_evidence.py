"""Evidence (佐证材料): stored by content under MEDIA_ROOT, sniffed, and refused cleanly when bad."""

import hashlib
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.cases.models import Evidence
from taizhang.cases.workflow import State
from taizhang.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.testing import matrix


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "evidence-media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def rectifying(world, media):
    with time_machine.travel(matrix.MOMENT, tick=False):
        yield matrix.drive(matrix.Cast.own(world), State.RECTIFYING, shape=matrix.Drive(evidence=False))


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def test_a_progress_report_stores_a_real_pdf_by_its_hash(world, rectifying, media):
    data = matrix.PDF_BYTES
    assert data.startswith(b"%PDF-1.4")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(data) < 1024
    case = services.report_progress(rectifying, actor=world.handler, text="线路已架设",
                                    evidence=[matrix.pdf_upload("线路验收单.pdf", data)])
    evidence = Evidence.objects.get(case=case)
    digest = hashlib.sha256(data).hexdigest()
    assert (evidence.sha256, evidence.size, evidence.content_type) == (digest, len(data), "application/pdf")
    assert evidence.original_name == "线路验收单.pdf"
    assert evidence.uploaded_by == world.handler
    assert evidence.progress_report == case.progress_reports.get()
    assert evidence.purpose == Evidence.Purpose.PROGRESS
    path = Path(evidence.file.path)
    assert path.is_relative_to(media)
    assert path.relative_to(media).as_posix() == f"evidence/{case.pk}/{digest[:2]}/{digest}"
    assert path.read_bytes() == data
    assert stored_files(media) == [path]
    event = AuditEvent.objects.filter(object_id=case.number).latest("seq")
    assert (event.action, event.after["evidence"]) == ("case.progress_reported", 1)


def test_a_single_upload_needs_no_list(world, rectifying, media):
    services.report_progress(rectifying, actor=world.handler, text="现场照片",
                             evidence=SimpleUploadedFile("现场.png", matrix.PNG_BYTES))
    assert Evidence.objects.get(case=rectifying).content_type == "image/png"


BAD_FILES = {
    "png-named-pdf": (lambda: SimpleUploadedFile("整改报告.pdf", matrix.PNG_BYTES), "upload.type_mismatch"),
    "exe-named-pdf": (lambda: SimpleUploadedFile("整改报告.pdf", matrix.EXE_BYTES), "upload.type_not_allowed"),
    "exe": (lambda: SimpleUploadedFile("setup.exe", matrix.EXE_BYTES), "upload.type_not_allowed"),
    "empty": (lambda: SimpleUploadedFile("空.pdf", b""), "upload.empty"),
}


@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_a_disguised_or_unacceptable_file_is_refused_and_changes_nothing(world, rectifying, media, bad):
    make, code = BAD_FILES[bad]
    before = matrix.footprint(rectifying.number)
    with pytest.raises(ValidationFailed) as caught:
        services.report_progress(rectifying, actor=world.handler, text="附件", evidence=[make()])
    assert caught.value.code == code
    assert caught.value.field == "file"
    assert str(caught.value.message)
    assert matrix.footprint(rectifying.number) == before
    assert stored_files(media) == []


def test_an_oversize_file_is_refused_and_changes_nothing(world, rectifying, media, settings):
    settings.TAIZHANG_MAX_UPLOAD_BYTES = 256
    big = matrix.PDF_BYTES + b"%" + b"x" * 300 + b"\n"
    before = matrix.footprint(rectifying.number)
    with pytest.raises(ValidationFailed) as caught:
        services.report_progress(rectifying, actor=world.handler, text="附件",
                                 evidence=[matrix.pdf_upload("大.pdf", big)])
    assert caught.value.code == "upload.too_large"
    assert "文件过大" in str(caught.value.message)
    assert matrix.footprint(rectifying.number) == before
    assert stored_files(media) == []


def test_an_oversize_file_that_lies_about_its_size_is_still_refused(world, rectifying, media, settings):
    settings.TAIZHANG_MAX_UPLOAD_BYTES = 256
    upload = matrix.pdf_upload("大.pdf", matrix.PDF_BYTES + b"x" * 300)
    upload.size = 10
    with pytest.raises(ValidationFailed) as caught:
        services.report_progress(rectifying, actor=world.handler, text="附件", evidence=[upload])
    assert caught.value.code == "upload.too_large"
    assert stored_files(media) == []


def test_one_bad_file_among_good_ones_stores_none_of_them(world, rectifying, media):
    before = matrix.footprint(rectifying.number)
    with pytest.raises(ValidationFailed):
        services.report_progress(rectifying, actor=world.handler, text="附件",
                                 evidence=[matrix.pdf_upload("好.pdf"), SimpleUploadedFile("坏.pdf", matrix.PNG_BYTES)])
    assert matrix.footprint(rectifying.number) == before
    assert stored_files(media) == []


def test_attach_evidence_by_the_handling_unit_and_the_supervisor(world, rectifying, media):
    evidence = services.attach_evidence(rectifying, matrix.pdf_upload("方案.pdf"), actor=world.handler)
    assert (evidence.purpose, evidence.progress_report) == (Evidence.Purpose.OTHER, None)
    event = AuditEvent.objects.filter(object_id=rectifying.number).latest("seq")
    assert (event.action, event.after["sha256"], event.actor_role) == (
        "case.evidence_added", evidence.sha256, "handler")
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = services.submit_for_acceptance(rectifying, actor=world.unit_leader, summary="完成")
    # Waiting for acceptance: the units are done, the supervising side adds its own material.
    with pytest.raises(PermissionDenied):
        services.attach_evidence(case, matrix.pdf_upload("补充.pdf"), actor=world.handler)
    accepted = services.attach_evidence(case, matrix.pdf_upload("验收记录.pdf"), actor=world.supervisor,
                                        purpose=Evidence.Purpose.ACCEPTANCE)
    assert accepted.purpose == Evidence.Purpose.ACCEPTANCE
    assert case.evidence.count() == 2


@pytest.mark.parametrize(("persona", "error"), [
    ("sibling_handler", NotFound), ("outsider", NotFound), ("admin", NotFound), ("viewer", PermissionDenied),
    ("enterprise_user", PermissionDenied), ("liaison", PermissionDenied), ("approver", PermissionDenied),
])
def test_attach_evidence_is_refused_to_others(world, rectifying, media, persona, error):
    before = matrix.footprint(rectifying.number)
    with pytest.raises(error):
        services.attach_evidence(rectifying, matrix.pdf_upload(), actor=world.personas()[persona])
    assert matrix.footprint(rectifying.number) == before
    assert stored_files(media) == []


def test_attach_evidence_outside_the_evidence_states_is_refused(world, media):
    with time_machine.travel(matrix.MOMENT, tick=False):
        case = matrix.drive(matrix.Cast.own(world), State.ASSESSING)
    with pytest.raises(IllegalTransition) as caught:
        services.attach_evidence(case, matrix.pdf_upload(), actor=world.supervisor)
    assert caught.value.code == "workflow.evidence_not_allowed"


def test_attach_evidence_with_an_unknown_purpose_is_refused(world, rectifying, media):
    with pytest.raises(ValidationFailed):
        services.attach_evidence(rectifying, matrix.pdf_upload(), actor=world.handler, purpose="gossip")
    assert stored_files(media) == []
