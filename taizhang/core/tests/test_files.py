"""Uploads are judged by their bytes; the name must agree with the content."""

import io
import struct
import zipfile
import zlib

import pytest

from taizhang.core import files
from taizhang.core.errors import ValidationFailed

LIMIT = 1024 * 1024


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def pdf_bytes() -> bytes:
    return b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": b"<Relationships/>",
                      "word/document.xml": b"<w:document/>"})


def xlsx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": b"<Relationships/>",
                      "xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"<worksheet/>"})


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("整改报告.pdf", pdf_bytes(), files.PDF),
    ("现场照片.PNG", png_bytes(), files.PNG),
    ("现场照片.jpg", jpeg_bytes(), files.JPEG),
    ("现场照片.jpeg", jpeg_bytes(), files.JPEG),
    ("整改方案.docx", docx_bytes(), files.DOCX),
    ("整改台账.xlsx", xlsx_bytes(), files.XLSX),
    ("名单.csv", "序号,企业\n1,长春某精密零部件有限公司\n".encode(), files.TEXT),
])
def test_accepted_files(name, data, kind):
    assert files.check_upload(name, data, max_bytes=LIMIT) == kind


def refusal(name: str, data: bytes, max_bytes: int = LIMIT) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        files.check_upload(name, data, max_bytes=max_bytes)
    assert info.value.field == "file"
    return info.value


@pytest.mark.parametrize(("name", "data"), [
    ("报告.pdf", ELF),
    ("报告.pdf", EXE),
    ("setup.exe", EXE),
    ("照片.png", ELF),
])
def test_executables_are_refused_whatever_their_name(name, data):
    assert refusal(name, data).code == "upload.type_not_allowed"


@pytest.mark.parametrize(("name", "data"), [
    ("整改报告.pdf", png_bytes()),  # a PNG named .pdf
    ("现场照片.png", pdf_bytes()),
    ("整改方案.xlsx", docx_bytes()),
    ("整改台账.docx", xlsx_bytes()),
    ("整改报告", pdf_bytes()),  # no extension at all
    ("名单.pdf", b"plain text pretending to be a PDF\n"),
])
def test_disguised_files_are_refused_as_mismatch(name, data):
    error = refusal(name, data)
    assert error.code == "upload.type_mismatch"


@pytest.mark.parametrize("members", [
    {"readme.txt": b"hello"},  # an ordinary zip
    {"[Content_Types].xml": CONTENT_TYPES, "docProps/app.xml": b"<x/>"},  # OOXML shell without a body
    {"word/document.xml": b"<w:document/>"},  # looks like Word but has no content types
])
def test_zip_that_is_not_office_is_refused(members):
    assert refusal("材料.docx", zip_bytes(members)).code == "upload.type_not_allowed"


def test_truncated_zip_is_refused():
    assert refusal("整改方案.docx", docx_bytes()[:40]).code == "upload.type_not_allowed"


def test_empty_file_is_refused():
    assert refusal("空.pdf", b"").code == "upload.empty"


def test_oversize_file_is_refused_before_sniffing():
    data = pdf_bytes() + b"0" * LIMIT
    assert refusal("大.pdf", data).code == "upload.too_large"
    assert files.check_upload("刚好.pdf", data[:LIMIT], max_bytes=LIMIT) == files.PDF


def test_check_size_alone():
    files.check_size(LIMIT, LIMIT)
    with pytest.raises(ValidationFailed) as info:
        files.check_size(LIMIT + 1, LIMIT)
    assert info.value.code == "upload.too_large"


def test_text_with_a_character_cut_at_the_sniffing_window_is_text():
    data = ("中" * 3000).encode()  # 9000 bytes; the 8192-byte window ends inside a character
    assert files.sniff(data) == files.TEXT


def test_binary_garbage_is_not_text():
    assert files.sniff(b"\xc3\x28\xa0\xa1" * 10) is None
    assert files.sniff(b"abc\x00def") is None


def test_gbk_csv_saved_by_excel_is_text():
    data = "序号,企业,问题\n1,长春某精密零部件有限公司,供电闪断\n".encode("gb18030")
    assert files.check_upload("台账.csv", data, max_bytes=LIMIT) == files.TEXT


def test_macro_enabled_office_file_is_refused_even_named_docx():
    macro_docx = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w:document/>",
                            "word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    with pytest.raises(ValidationFailed) as refused:
        files.check_upload("整改方案.docx", macro_docx, max_bytes=LIMIT)
    assert refused.value.code == "upload.type_not_allowed"
