"""The page and type of GB/T 9704-2012 shared by the Word and PDF renderers.

A4 with a 156 × 225 mm version area (top 37 mm, left 28 mm), body in 三号 (16 pt) 仿宋 on 22 lines of
28 characters, title in 二号 (22 pt) 小标宋, issuing authority in red. The first font name of each role is
what an office computer in China has; the PDF renderer falls back to Noto CJK from Debian's fonts-noto-cjk."""

from dataclasses import dataclass

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_TOP_MM, MARGIN_LEFT_MM = 37, 28
AREA_WIDTH_MM, AREA_HEIGHT_MM = 156, 225
MARGIN_RIGHT_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - AREA_WIDTH_MM
MARGIN_BOTTOM_MM = PAGE_HEIGHT_MM - MARGIN_TOP_MM - AREA_HEIGHT_MM
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
LINE_PITCH_PT = AREA_HEIGHT_MM / LINES_PER_PAGE * 72 / 25.4  # ≈ 28.97 pt

BODY_PT, TITLE_PT, FOOTER_PT, TABLE_PT = 16, 22, 14, 12
ISSUER_MAX_PT = 42
RED = "E60012"
LATIN_FONT = "Times New Roman"


@dataclass(frozen=True)
class Face:
    """One role's type: the Word font name first, then the PDF fallbacks, and whether the fallback is bold."""

    names: tuple[str, ...]
    bold: bool = False

    @property
    def word(self) -> str:
        return self.names[0]

    @property
    def css(self) -> str:
        return ", ".join(f'"{name}"' for name in self.names)


TITLE = Face(("方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC"), bold=True)
BODY = Face(("仿宋", "仿宋_GB2312", "FangSong", "Noto Serif CJK SC"))
HEI = Face(("黑体", "SimHei", "Noto Sans CJK SC"), bold=True)
KAI = Face(("楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"))
HEADING_FACES = {1: HEI, 2: KAI, 3: BODY, 4: BODY}


def issuer_size_pt(issuer: str) -> int:
    """The red 发文机关标志 as large as fits on one line of the version area, at most 42 pt."""
    width_pt = AREA_WIDTH_MM * 72 / 25.4
    return min(ISSUER_MAX_PT, int(width_pt * 0.95 / max(len(issuer), 1)))
