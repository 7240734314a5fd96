"""Plots draw Chinese with a CJK font, and degrade to code points without one — never boxes
and 'Glyph missing' warnings (which strict nbval would compare as stderr)."""

from __future__ import annotations

import inspect
import io
import sys
import types
import warnings

import matplotlib
import pytest

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_utils import plotting  # noqa: E402


@pytest.fixture
def no_cjk_font(monkeypatch):
    # use_course_style then wraps Text.set_text (see plotting's docstring): start from
    # matplotlib's own, and put it back afterwards.
    monkeypatch.setattr(Text, "set_text", inspect.unwrap(Text.set_text))
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


# --- the Chinese edition's labels: str literals passed straight to matplotlib -------------------

ZH_LABELS = {"title": "每个词元的损失（nats）：GPT-2的结果", "xlabel": "位置", "legend": "训练损失",
             "ticks": ["一", "二"]}


def _draw_zh_figure() -> tuple[list[warnings.WarningMessage], dict[str, object]]:
    """A figure labelled as a zh notebook labels it; its warnings and the texts it shows."""
    plotting.use_course_style()
    fig, ax = plt.subplots()
    ax.plot([1, 2], [1, 2], label=ZH_LABELS["legend"])
    ax.set_title(ZH_LABELS["title"])
    ax.set_xlabel(ZH_LABELS["xlabel"])
    ax.set_xticks([1, 2], ZH_LABELS["ticks"])
    ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.tight_layout()  # measures every text: a missing glyph warns here too
        fig.canvas.draw()
    shown = {"title": ax.get_title(), "xlabel": ax.get_xlabel(),
             "legend": ax.get_legend().get_texts()[0].get_text(),
             "ticks": [t.get_text() for t in ax.get_xticklabels()]}
    plt.close(fig)
    return list(caught), shown


def test_without_a_cjk_font_or_pypinyin_chinese_is_code_points_and_never_warns(
        no_cjk_font, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypinyin", None)  # as if it were not installed
    caught, shown = _draw_zh_figure()
    assert [str(w.message) for w in caught] == []
    assert shown["title"] == ("U+6BCFU+4E2AU+8BCDU+5143U+7684U+635FU+5931(nats): GPT-2 "
                              "U+7684U+7ED3U+679C")  # full-width punctuation as ASCII
    assert shown["xlabel"] == "U+4F4DU+7F6E" and shown["legend"] == "U+8BADU+7EC3U+635FU+5931"
    assert shown["ticks"] == ["U+4E00", "U+4E8C"]


def test_without_a_cjk_font_chinese_is_pinyin(no_cjk_font):
    # pypinyin is installed with the course (requirements.txt)
    assert plotting.readable_text("每个词元的损失（nats）") == "měi gè cí yuán de sǔn shī(nats)"
    assert plotting.readable_text("GPT-2的结果") == "GPT-2 de jié guǒ"
    caught, shown = _draw_zh_figure()
    assert [str(w.message) for w in caught] == []
    assert shown["title"] == "měi gè cí yuán de sǔn shī(nats): GPT-2 de jié guǒ"
    assert shown["xlabel"] == "wèi zhì" and shown["ticks"] == ["yī", "èr"]


def test_the_fallback_is_what_keeps_the_warnings_away(no_cjk_font, monkeypatch):
    # Without the fallback, the same figure warns: the tests above can fail.
    monkeypatch.setattr(Text.set_text, "course_readable", True, raising=False)
    caught, _ = _draw_zh_figure()
    assert any("missing from font" in str(w.message) for w in caught)


@pytest.mark.skipif(plotting.cjk_font_name() is None, reason="no CJK font installed here")
def test_with_a_cjk_font_chinese_labels_are_kept_as_written():
    caught, shown = _draw_zh_figure()
    assert caught == [] and shown == ZH_LABELS
