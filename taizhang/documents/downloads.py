"""The HTTP response of an issued document, shared by the workspace and the API: an attachment with an
ASCII file name and its full Chinese name in RFC 5987 form, never sniffed, never cached."""

import re
from urllib.parse import quote

from django.http import HttpResponse

from taizhang.core.files import DOCX, PDF
from taizhang.documents.models import IssuedDocument

MIME_TYPES = {"docx": DOCX.mime, "pdf": PDF.mime}
UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def file_names(issued: IssuedDocument, fmt: str) -> tuple[str, str]:
    """(ASCII fallback, full name): e.g. ("CC-2026-0007-transfer_letter.pdf", "CC移〔2026〕3号 关于….pdf")."""
    subject = issued.case.number if issued.case_id and issued.case else f"{issued.subject_type}-{issued.subject_id}"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{subject}-{issued.kind}").strip("-") + f".{fmt}"
    full = UNSAFE_IN_NAME.sub("_", f"{issued.number} {issued.title}")[:150] + f".{fmt}"
    return ascii_name, full


def download_response(issued: IssuedDocument, fmt: str) -> HttpResponse:
    data = bytes(issued.docx if fmt == "docx" else issued.pdf)
    ascii_name, full = file_names(issued, fmt)
    response = HttpResponse(data, content_type=MIME_TYPES[fmt])
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(full)}"
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f"\"{issued.docx_sha256 if fmt == 'docx' else issued.pdf_sha256}\""
    return response
