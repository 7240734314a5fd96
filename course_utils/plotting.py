"""Plot helpers: one style for every notebook, and Chinese text that never turns into boxes.

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs. With a CJK font installed
(the set-up installs Debian's `fonts-wqy-microhei` where it can), `use_course_style()` adds it
as a fallback so labels like 今天 render. Without one, `safe_text` spells such characters as
code points (U+4ECA) instead of drawing empty boxes and warning on stderr.
"""

from __future__ import annotations

from pathlib import Path

from course_utils.validation import check_str

# Families tried in order; the first one matplotlib knows is used as the CJK fallback.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "PingFang SC",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
    "Droid Sans Fallback",
)
# Font files to register if they exist but matplotlib's font cache predates them.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
BASE_FONT = "DejaVu Sans"

_cjk_font: str | None | bool = False  # False: not looked up yet


def cjk_font_name() -> str | None:
    """Return the name of an installed font that can draw Chinese, or None."""
    global _cjk_font
    if _cjk_font is not False:
        return _cjk_font
    from matplotlib import font_manager

    def installed() -> set[str]:  # the cache may list fonts that were uninstalled since
        return {f.name for f in font_manager.fontManager.ttflist if Path(f.fname).exists()}

    known = installed()
    for path in CJK_FONT_FILES:
        if Path(path).exists() and not any(name in known for name in CJK_FAMILIES):
            font_manager.fontManager.addfont(path)
            known = installed()
    _cjk_font = next((name for name in CJK_FAMILIES if name in known), None)
    return _cjk_font


def use_course_style() -> None:
    """Apply the course's plot style and, when available, a CJK fallback font."""
    import matplotlib

    fonts = [BASE_FONT]
    cjk = cjk_font_name()
    if cjk is not None:
        fonts.append(cjk)  # matplotlib falls back glyph by glyph through this list
    matplotlib.rcParams.update(
        {
            "font.family": fonts,
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.unicode_minus": False,
        }
    )


_drawable: set[int] | None = None


def _drawable_code_points() -> set[int]:
    """Code points that the base font or the CJK fallback font can draw."""
    global _drawable
    if _drawable is None:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        _drawable = set()
        for family in (BASE_FONT, cjk_font_name()):
            if family is not None:
                path = font_manager.findfont(family, fallback_to_default=True)
                _drawable |= set(FT2Font(path).get_charmap())
    return _drawable


def safe_text(text: str) -> str:
    """`text` with every character that the plot fonts cannot draw (Chinese without a CJK
    font, emoji) written as its code point, so matplotlib never draws boxes or warns.

    >>> safe_text("abc 123")
    'abc 123'
    """
    check_str("text", text)
    drawable = _drawable_code_points()
    return "".join(ch if ch.isspace() or ord(ch) in drawable else f"U+{ord(ch):04X}" for ch in text)


def zh_label(chinese: str, fallback: str) -> str:
    """A label in Chinese when a CJK font is available, else `fallback` (e.g. pinyin)."""
    check_str("chinese", chinese)
    check_str("fallback", fallback)
    return chinese if cjk_font_name() is not None else fallback
