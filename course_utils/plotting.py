"""Plot helpers: one style for every notebook, and Chinese text that never turns into boxes.

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs. With a CJK font installed
(the set-up installs Debian's `fonts-wqy-microhei` where it can), `use_course_style()` adds it
as a fallback so labels like 今天 render. Without one, `safe_text` spells such characters as
code points (U+4ECA) instead of drawing empty boxes and warning on stderr.

The Chinese edition passes its labels straight to matplotlib (`ax.set_title("每个词元的损失")`).
So that they too stay readable without a CJK font, `use_course_style()` then makes every text
of a figure go through `readable_text` as it is set: Chinese in pinyin with tone marks
(měi gè cí yuán de sǔn shī) with pypinyin (installed with the course), else as code
points; full-width punctuation as its ASCII twin. With a CJK font nothing is changed.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Any

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
    """Apply the course's plot style and, when available, a CJK fallback font; without one,
    texts set on a figure go through `readable_text` (see the module docstring)."""
    import matplotlib

    from matplotlib.text import Text

    fonts = [BASE_FONT]
    cjk = cjk_font_name()
    if cjk is not None:
        fonts.append(cjk)  # matplotlib falls back glyph by glyph through this list
    elif not getattr(Text.set_text, "course_readable", False):
        # No CJK font: every text a figure sets (titles, labels, legends, tick labels, all of
        # them made through Text.set_text) is made readable before matplotlib lays it out, so
        # no glyph is missing when it is measured or drawn. Once per process, and a no-op as
        # soon as a CJK font is found.
        Text.set_text = _set_readable_text(Text.set_text)
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


# Full-width punctuation that NFKC leaves alone or maps without the space a Latin text needs.
_ASCII_TWINS = {"。": ". ", "，": ", ", "、": ", ", "：": ": ", "；": "; ", "“": '"', "”": '"',
                "‘": "'", "’": "'", "《": '"', "》": '"'}


def _pinyin(han: str) -> str | None:
    """`han` (Chinese characters) in pinyin with tone marks, or None without pypinyin."""
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:
        return None
    return " ".join(lazy_pinyin(han, style=Style.TONE))


def readable_text(text: str) -> str:
    """`text` as the plot fonts can draw it: unchanged where they can (always, with a CJK
    font); else full-width punctuation as ASCII, Chinese in pinyin if pypinyin is installed,
    and whatever is left as code points (`safe_text`).

    >>> readable_text("loss (nats)")
    'loss (nats)'
    """
    check_str("text", text)
    drawable = _drawable_code_points()

    def kind(ch: str) -> str:
        if ch.isspace() or ord(ch) in drawable:
            return "drawn"
        return "han" if "CJK UNIFIED" in unicodedata.name(ch, "") else "other"

    pieces = []
    for found, group in groupby(text, key=kind):
        run = "".join(group)
        if found == "han":  # spelled together: pinyin reads words, not single characters
            run = _pinyin(run) or run
        elif found == "other":
            run = "".join(_ASCII_TWINS.get(ch) or unicodedata.normalize("NFKC", ch) for ch in run)
        pieces.append(run)
    # A pinyin syllable between two words would run into them: "GPT-2的" -> "GPT-2 de".
    out = ""
    for piece in filter(None, pieces):
        if out and out[-1].isalnum() and piece[0].isalnum():
            out += " "
        out += piece
    return safe_text(out)


def _set_readable_text(set_text: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """matplotlib's Text.set_text, turning a str into `readable_text` while no CJK font is
    found (a font found later turns it off: `cjk_font_name` is asked at every call)."""

    @functools.wraps(set_text)
    def readable_set_text(self: Any, s: Any) -> None:
        if isinstance(s, str) and cjk_font_name() is None:
            s = readable_text(s)
        return set_text(self, s)

    readable_set_text.course_readable = True  # type: ignore[attr-defined]
    return readable_set_text


def zh_label(chinese: str, fallback: str) -> str:
    """A label in Chinese when a CJK font is available, else `fallback` (e.g. pinyin)."""
    check_str("chinese", chinese)
    check_str("fallback", fallback)
    return chinese if cjk_font_name() is not None else fallback
