"""The 监察建议书 and the 整改情况通报 as PDF and Word."""

import io
import shutil
import subprocess
import zipfile

import pytest

from taizhang.supervision import documents, services
from taizhang.supervision.tests.helpers import ADVICE, PROBLEMS, issued

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    found = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(found.stdout.decode().split())  # CJK text may be spread with spaces by the layout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_recommendation_document_as_pdf_and_word(world, case):
    rec = issued(world, cases=[case])
    doc = documents.recommendation_document(rec)
    text = pdf_text(documents.render(doc, "pdf")[0])
    for expected in (world.city.name, rec.number, "关于加强重点企业供电保障的监察建议书", world.lead_unit.name,
                     PROBLEMS, ADVICE, case.number):
        assert "".join(expected.split()) in text
    with zipfile.ZipFile(io.BytesIO(documents.render(doc, "docx")[0])) as word:
        body = word.read("word/document.xml").decode()
    assert rec.number in body
    assert "建立重点企业供电保障联系机制" in body


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_bulletin_document_with_number_and_distribution(world, case):
    bulletin = services.generate_bulletin(actor=world.supervisor, issuing_org=world.city,
                                          units=[world.lead_unit, world.sibling_unit],
                                          period_start="2024-03-01", period_end="2024-03-31")
    bulletin = services.issue_bulletin(bulletin.pk, actor=world.supervisor)
    text = pdf_text(documents.render(documents.bulletin_document(bulletin), "pdf")[0])
    for expected in (world.city.name, bulletin.number, bulletin.title, "一、总体情况", world.sibling_unit.name):
        assert "".join(expected.split()) in text
