"""poppler-utils in tests: the text of a PDF, its fonts, a page image."""

import subprocess
from pathlib import Path


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def pdf_fonts(data: bytes, tmp_path: Path) -> list[tuple[str, bool]]:
    """(font name, embedded) for each font of the PDF, as pdffonts lists them."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout.splitlines()
    fonts = []
    for line in lines[2:]:
        columns = line.split()
        # name type… encoding emb sub uni object-id generation: "emb" is the fifth column from the end.
        fonts.append((columns[0], columns[-5] == "yes"))
    return fonts


def save_first_page(data: bytes, target: Path) -> Path:
    """The first page at 60 dpi as `target` (a .png)."""
    pdf = target.with_suffix(".pdf")
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(target.with_suffix(""))], check=True)
    return target
