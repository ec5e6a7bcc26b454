"""Upload checks by content, not by name: the first bytes decide the type, the name must agree."""

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import gettext_lazy as _

from taizhang.core.errors import ValidationFailed


@dataclass(frozen=True)
class FileType:
    mime: str
    extensions: frozenset[str]


PDF = FileType("application/pdf", frozenset({".pdf"}))
PNG = FileType("image/png", frozenset({".png"}))
JPEG = FileType("image/jpeg", frozenset({".jpg", ".jpeg"}))
GIF = FileType("image/gif", frozenset({".gif"}))
WEBP = FileType("image/webp", frozenset({".webp"}))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", frozenset({".docx"}))
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({".xlsx"}))
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                frozenset({".pptx"}))
OFD = FileType("application/ofd", frozenset({".ofd"}))
OLE = FileType("application/x-ole-storage", frozenset({".doc", ".xls", ".ppt", ".wps", ".et"}))
TEXT = FileType("text/plain", frozenset({".txt", ".csv"}))

OOXML_MARKERS = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}


def _sniff_zip(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # macro-enabled Office files are refused whatever their name says
    if "[Content_Types].xml" in names:
        for marker, kind in OOXML_MARKERS.items():
            if any(name.startswith(marker) for name in names):
                return kind
    if "OFD.xml" in names:
        return OFD
    return None


def sniff(data: bytes) -> FileType | None:
    """The type of `data` by its content, or None when it is not an accepted kind."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if b"\x00" not in data[:8192] and any(_decodes(data[:8192], enc) for enc in ("utf-8", "gb18030")):
        return TEXT
    return None


def _decodes(window: bytes, encoding: str) -> bool:
    """Whether `window` is text in `encoding`; a multi-byte character cut at the end is fine."""
    try:
        window.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start >= len(window) - 4
    return True


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ValidationFailed(
            _("The file is too large (%(size).1f MB); the limit is %(limit).0f MB.")
            % {"size": size / 2**20, "limit": max_bytes / 2**20},
            code="upload.too_large", field="file",
        )


def check_upload(name: str, data: bytes, *, max_bytes: int) -> FileType:
    """Refuse empty, oversize, unknown and disguised files with a clear error; return the sniffed type."""
    if len(data) == 0:
        raise ValidationFailed(_("The file is empty."), code="upload.empty", field="file")
    check_size(len(data), max_bytes)
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(
            _("This kind of file is not accepted. Upload PDF, images, Office, OFD or plain text files."),
            code="upload.type_not_allowed", field="file",
        )
    extension = PurePath(name).suffix.lower()
    if extension not in kind.extensions:
        raise ValidationFailed(
            _("The file name says %(ext)s but its content is %(mime)s; rename or convert the file.")
            % {"ext": extension or "—", "mime": kind.mime},
            code="upload.type_mismatch", field="file",
        )
    return kind
