"""Plots draw Chinese with a CJK font, and degrade to code points without one — never boxes
and 'Glyph missing' warnings (which strict nbval would compare as stderr)."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pytest

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_utils import plotting  # noqa: E402


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(plotting, "_cjk_font", None)
    monkeypatch.setattr(plotting, "_drawable", None)
    yield
    plotting._drawable = None


def _render(label: str) -> list[warnings.WarningMessage]:
    plotting.use_course_style()
    fig, ax = plt.subplots()
    ax.set_title(label)
    ax.bar([plotting.safe_text(label)], [1.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return list(caught)


def test_without_a_cjk_font_chinese_becomes_code_points(no_cjk_font):
    assert plotting.safe_text("今天 ok") == "U+4ECAU+5929 ok"
    assert plotting.zh_label("今天", "jintian") == "jintian"
    assert _render(plotting.safe_text("今天是个好日子")) == []


@pytest.mark.skipif(plotting.cjk_font_name() is None, reason="no CJK font installed here")
def test_with_a_cjk_font_chinese_is_drawn_without_warnings():
    assert plotting.safe_text("今天") == "今天"
    assert plotting.zh_label("今天", "jintian") == "今天"
    assert _render("今天是个好日子") == []
