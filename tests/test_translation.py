"""The Chinese edition runs the English edition's code and is never silently stale.

The rules live in tools/translation.py (and are checked here on the committed notebooks, and on
made-up pairs of cells to show that each rule can fail).
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("translation",
                                               REPO_ROOT / "tools" / "translation.py")
translation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(translation)

PAIRS = translation.english_pairs()
CJK = re.compile("[\u4e00-\u9fff]")


def has_prose(markdown: str) -> bool:
    """Two English words in a row outside code spans, code blocks and LaTeX."""
    text = re.sub(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", " ", markdown, flags=re.S)
    return re.search(r"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}", text) is not None


def test_every_english_notebook_has_a_zh_twin():
    assert len(PAIRS) == 10
    missing = [str(zh.relative_to(REPO_ROOT)) for _, zh in PAIRS if not zh.exists()]
    assert missing == []
    extra = {p for p in translation.ZH_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    assert extra == {zh for _, zh in PAIRS}, "a zh notebook without an English twin"


@pytest.mark.parametrize("en, zh", PAIRS, ids=[en.stem for en, _ in PAIRS])
def test_zh_notebook_is_in_step(en, zh):
    assert translation.problems(en, zh) == []


@pytest.mark.parametrize("en, zh", PAIRS, ids=[en.stem for en, _ in PAIRS])
def test_zh_notebook_is_translated_and_speaks_chinese(en, zh):
    en_cells = json.loads(en.read_text(encoding="utf-8"))["cells"]
    zh_cells = json.loads(zh.read_text(encoding="utf-8"))["cells"]
    # Every markdown cell with English prose is rewritten, in Chinese.
    untranslated = [i for i, (a, b) in enumerate(zip(en_cells, zh_cells))
                    if a["cell_type"] == "markdown" and has_prose(translation.source(a))
                    and not CJK.search(translation.source(b))]
    assert untranslated == [], f"markdown cells without Chinese: {untranslated}"
    calls = [node for cell in zh_cells if cell["cell_type"] == "code"
             for node in ast.walk(ast.parse(translation.source(cell)))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup_notebook"]
    assert len(calls) == 1, "one set-up call per notebook"
    assert [(k.arg, k.value.value) for k in calls[0].keywords if k.arg == "language"] == \
        [("language", "zh")], "the zh set-up call chooses Chinese: setup_notebook(language=\"zh\")"
    kernels = [json.loads(p.read_text(encoding="utf-8"))["metadata"]["kernelspec"]["name"]
               for p in (en, zh)]
    assert kernels[0] == kernels[1]


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
DRIFTS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")  # machine-dependent outputs: not compared


def output_summary(cell: dict) -> tuple[list[str], list[str]]:
    """(the kinds of output a cell shows, the numbers of two or more digits it prints)."""
    kinds, text = [], []
    for output in cell.get("outputs", []):
        kind = output.get("name") or "+".join(sorted(output.get("data", {})))
        if not kinds or kinds[-1] != kind:  # a stream may arrive in one piece or several
            kinds.append(kind)
        part = output.get("text") or output.get("data", {}).get("text/plain", "")
        text.append("".join(part) if isinstance(part, list) else part)
    numbers = [n for n in NUMBER.findall("\n".join(text)) if sum(c.isdigit() for c in n) > 1]
    return kinds, sorted(numbers)


@pytest.mark.parametrize("en, zh", PAIRS, ids=[en.stem for en, _ in PAIRS])
def test_zh_outputs_differ_only_in_language(en, zh):
    """The same code prints the same numbers and draws the same plots in both editions."""
    en_cells = json.loads(en.read_text(encoding="utf-8"))["cells"]
    zh_cells = json.loads(zh.read_text(encoding="utf-8"))["cells"]
    differ = [i for i, (a, b) in enumerate(zip(en_cells, zh_cells))
              if a["cell_type"] == "code" and not any(d in translation.source(a) for d in DRIFTS)
              and output_summary(a) != output_summary(b)]
    assert differ == [], f"code cells whose outputs differ beyond language: {differ}"


# ---------------------------------------------------------------- each rule can fail


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text):
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
            "execution_count": None}


def write_pair(tmp_path, en_cells, zh_cells, stamp=True):
    en_path, zh_path = tmp_path / "en.ipynb", tmp_path / "zh.ipynb"
    zh_cells = copy.deepcopy(zh_cells)
    if stamp:
        for a, b in zip(en_cells, zh_cells):
            b["metadata"]["translation"] = {"en": translation.cell_hash(a)}
    for path, cells in ((en_path, en_cells), (zh_path, zh_cells)):
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}), encoding="utf-8")
    return en_path, zh_path


EN = [md("# Tokens"),
      code('from course_utils import setup_notebook\n\nsetup_notebook()  # seeds'),
      code('text = "hello"\nn = len(text)  # characters\n'
           'print(f"{n} characters in {text!r}: {n / 2:.1f}")'),
      code('ax.set_title("Loss per token")\nax.plot(x, y, label="train")')]
ZH = [md("# 词元"),
      code('from course_utils import setup_notebook\n\nsetup_notebook(language="zh")  # 随机种子'),
      code('text = "hello"\nn = len(text)  # 字符数\nprint(f"{text!r} 有 {n} 个字符：{n / 2:.1f}")'),
      code('ax.set_title("每个词元的损失")\nax.plot(x, y, label="训练")')]


def test_a_faithful_translation_passes(tmp_path):
    assert translation.problems(*write_pair(tmp_path, EN, ZH)) == []


@pytest.mark.parametrize("cell, edit, why", [
    (2, ('text = "hello"', 'text = "hello"\nn = n + 1'), "an added statement"),
    (2, ("len(text)", "len(text.strip())"), "a changed expression"),
    (2, ("{n / 2:.1f}", "{n / 2:.2f}"), "a changed format spec"),
    (2, ("{text!r}", "{text}"), "a changed conversion"),
    (3, ('label="训练"', 'label="训练", color="red"'), "an added argument"),
    (1, ('language="zh"', 'language="zh", seed=1'), "another set-up argument"),
    (3, ("ax.set_title", "ax.set_xlabel"), "a different call"),
])
def test_any_code_difference_outside_comments_and_strings_fails(tmp_path, cell, edit, why):
    zh = copy.deepcopy(ZH)
    assert edit[0] in zh[cell]["source"], why
    zh[cell]["source"] = zh[cell]["source"].replace(*edit)
    found = translation.problems(*write_pair(tmp_path, EN, zh))
    assert len(found) == 1 and f"code cell {cell} differs" in found[0], why


def test_an_edited_english_cell_names_the_stale_zh_cell(tmp_path):
    en_path, zh_path = write_pair(tmp_path, EN, ZH)
    en = copy.deepcopy(EN)
    en[0]["source"] = "# Tokens and bytes"
    en_path.write_text(json.dumps({"cells": en, "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 5}), encoding="utf-8")
    found = translation.problems(en_path, zh_path)
    assert len(found) == 1 and "cell 0 is stale" in found[0] and "stamp" in found[0]


def test_a_cell_without_a_recorded_hash_is_named(tmp_path):
    found = translation.problems(*write_pair(tmp_path, EN, ZH, stamp=False))
    assert len(found) == 4 and all("records no English hash" in f for f in found)


@pytest.mark.parametrize("change", ["add to English", "remove from zh", "swap in zh"])
def test_added_removed_or_moved_cells_fail(tmp_path, change):
    en, zh = copy.deepcopy(EN), copy.deepcopy(ZH)
    en_path, zh_path = write_pair(tmp_path, en, zh)
    stamped = json.loads(zh_path.read_text(encoding="utf-8"))["cells"]
    if change == "add to English":
        en.insert(2, md("A new paragraph."))
    elif change == "remove from zh":
        del stamped[2]
    else:
        stamped[2], stamped[3] = stamped[3], stamped[2]
    for path, cells in ((en_path, en), (zh_path, stamped)):
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}), encoding="utf-8")
    found = translation.problems(en_path, zh_path)
    assert found, change
    if change != "swap in zh":
        assert any("same cells in the same order" in f for f in found)


def test_stamp_records_the_english_hash_and_new_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(translation, "EN_DIR", tmp_path)
    monkeypatch.setattr(translation, "ZH_DIR", tmp_path / "zh")
    en_path = tmp_path / "01_x.ipynb"
    en_path.write_text(json.dumps({"cells": EN, "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 5}), encoding="utf-8")
    zh_path = translation.new(en_path)
    assert translation.problems(en_path, zh_path) == []
    en = copy.deepcopy(EN)
    en[3]["source"] += "\nax.legend()"
    en_path.write_text(json.dumps({"cells": en, "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 5}), encoding="utf-8")
    assert len(translation.problems(en_path, zh_path)) == 2  # stale, and its code differs
    notebook = json.loads(zh_path.read_text(encoding="utf-8"))
    notebook["cells"][3]["source"] = ZH[3]["source"] + "\nax.legend()"
    zh_path.write_text(json.dumps(notebook), encoding="utf-8")
    translation.stamp(zh_path, [3])
    assert translation.problems(en_path, zh_path) == []
