"""tools/lesson_plans.py: the committed lesson plans are up to date, every rule of a plan source
can fail, and the minute marks follow the documented arithmetic (worked by hand below).

Everything but the first test runs on a repository fabricated under tmp_path: a small notebook
and its Chinese twin, the course's real exercise modules, timings with the cells' real hashes.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

import check_codes  # noqa: E402
import lesson_plans as lp  # noqa: E402
from measure_cells import cell_hash  # noqa: E402

UTF8_CODES = ["utf8_bytes.accent", "utf8_bytes.all_three", "utf8_bytes.characters",
              "utf8_bytes.emoji", "utf8_bytes.not_quite", "utf8_bytes.utf16"]


# ---------------------------------------------------------------- the repository's own plans
def test_every_lesson_has_an_up_to_date_plan_in_both_languages():
    names = lp.lessons(REPO)
    assert len(names) == 5
    missing = [str(lp.source_path(REPO, n, lang).relative_to(REPO)) for n in names
               for lang in lp.LANGUAGES if not lp.source_path(REPO, n, lang).exists()]
    assert not missing, f"lesson-plan sources missing: {missing}"
    problems, _ = lp.run(REPO, write=False)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- a fabricated repository
def _md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
            "execution_count": None}


def _words(n: int) -> str:
    return " ".join(["word"] * n)


# Word counts include the heading line's words ("# 01 · Demo" is 2 words: "01", "Demo") and
# code in the Markdown, not the fence lines.
EN_CELLS = [
    _md("# 01 · Demo\n\n" + _words(58)),                               # 0: 60 words
    _code("import math"),                                              # 1: 6 s
    _md("## 1. First part\n\n" + _words(117)),                          # 2: 120 words
    _code("x = 1\ny = 2"),                                             # 3: 30 s
    _code("def f(a):\n    # why\n    b = a + 1\n\n    c = b * 2\n    d = c - 1\n"
          "    return d\nprint(f(1))"),                                # 4: 12 s, 6 code lines
    _md("### A sub-heading\n\n```python\n## not a heading\n```\n" + _words(55)),  # 5: 60 words
    _md("## 2. Second part\n\n" + _words(237)),                         # 6: 240 words
    _code("z = 3"),                                                    # 7: 60 s
    _md("## 3. Exercises\n\n" + _words(10)),                            # 8: 12 words
    _code("check_utf8_bytes(None)"),                                   # 9: 0.6 s
    _code("check_count_pairs(None)"),                                  # 10: 0.6 s
]
SECONDS = {1: 6.0, 3: 30.0, 4: 12.0, 7: 60.0, 9: 0.6, 10: 0.6}
ZH_HEADINGS = {0: "# 01 · 演示", 2: "## 1. 第一部分", 6: "## 2. 第二部分", 8: "## 3. 练习"}


def _notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _zh_cells() -> list[dict]:
    cells = json.loads(json.dumps(EN_CELLS))
    for i, heading in ZH_HEADINGS.items():
        cells[i]["source"] = heading + "\n\n中文正文。"
    return cells


def _source(language: str = "en") -> dict:
    zh = language == "zh"
    return {
        "notebook": "01_demo",
        "goal": "学会演示。" if zh else "The class can demo.",
        "prepare": ["课前运行一遍。" if zh else "Run it once before class."],
        "section": [
            {"heading": "# 01 · Demo", "paths": ["90", "45"], "live_code": [],
             "teach": "开场。" if zh else "Open."},
            {"heading": "## 1. First part", "paths": ["90", "45"], "live_code": [4],
             "teach": "现场写f。" if zh else "Type f live.",
             "question": [{"ask": "问？" if zh else "Why?",
                           "answer": "答。" if zh else "Because."}]},
            {"heading": "## 2. Second part", "paths": ["90"], "live_code": [],
             "teach": "讲第二部分。" if zh else "Teach part two."},
            {"heading": "## 3. Exercises", "paths": [], "live_code": []},
        ],
        "misconception": [{"check": "check_utf8_bytes", "code": code,
                           "address": ("讲清楚" if zh else "Explain ") + code}
                          for code in UTF8_CODES],
        "homework": {"exercises": ["check_count_pairs"],
                     "note": "看计数。" if zh else "Look at the counts."},
    }


def _toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings, ints and lists are TOML too


def to_toml(source: dict) -> str:
    """A plan source as TOML (the subset the format uses)."""
    lines = []
    tables = {"section", "misconception", "homework"}
    for key, value in source.items():
        if key not in tables:
            lines.append(f"{key} = {_toml_value(value)}")
    for section in source.get("section", []):
        lines += ["", "[[section]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in section.items() if k != "question"]
        for question in section.get("question", []):
            lines += ["", "[[section.question]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in question.items()]
    for mis in source.get("misconception", []):
        lines += ["", "[[misconception]]"] + [f"{k} = {_toml_value(v)}" for k, v in mis.items()]
    if "homework" in source:
        lines += ["", "[homework]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in source["homework"].items()]
    return "\n".join(lines) + "\n"


def _timings(cells: list[dict], seconds: dict[int, float], name: str) -> dict:
    return {"machine": "x86_64, 2 CPU cores, Python 3.11.7", "notebooks": {name: {
        "cells": [{"index": i, "hash": cell_hash(c), "seconds": seconds[i]}
                  for i, c in enumerate(cells) if c["cell_type"] == "code"],
        "code_seconds": round(sum(seconds.values()), 1), "wall_seconds": 120.0,
        "measured": "2026-12-03 02:00 UTC"}}}


def make_repo(root: Path, en: dict | None = None, zh: dict | None = None,
              cells: list[dict] | None = None) -> Path:
    """A repository with notebook 01_demo, its plan sources and timings, under `root`."""
    cells = cells if cells is not None else EN_CELLS
    (root / "notebooks" / "zh").mkdir(parents=True)
    (root / "notebooks" / "01_demo.ipynb").write_text(json.dumps(_notebook(cells)))
    (root / "notebooks" / "zh" / "01_demo.ipynb").write_text(
        json.dumps(_notebook(_zh_cells()), ensure_ascii=False))
    shutil.copytree(REPO / "course_utils" / "exercises", root / "course_utils" / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "instructors" / "plans" / "zh").mkdir(parents=True)
    (root / "instructors" / "timings.json").write_text(
        json.dumps(_timings(EN_CELLS, SECONDS, "01_demo")))
    write_source(root, en if en is not None else _source("en"), "en")
    write_source(root, zh if zh is not None else _source("zh"), "zh")
    return root


def write_source(root: Path, source: dict | str, language: str) -> None:
    text = source if isinstance(source, str) else to_toml(source)
    lp.source_path(root, "01_demo", language).write_text(text, encoding="utf-8")


def problems_of(root: Path) -> str:
    problems, _ = lp.run(root, write=False)
    return "\n".join(problems)


def built(root: Path) -> tuple[str, str]:
    problems, _ = lp.run(root, write=True)
    assert not problems, "\n".join(problems)
    return (lp.plan_path(root, "01_demo", "en").read_text(encoding="utf-8"),
            lp.plan_path(root, "01_demo", "zh").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the arithmetic
def test_sections_words_and_cells_of_the_fabricated_notebook():
    found = lp.sections(_notebook(EN_CELLS))
    assert [(s.heading, s.cell, s.words, s.code) for s in found] == [
        ("# 01 · Demo", 0, 60, [1]), ("## 1. First part", 2, 180, [3, 4]),
        ("## 2. Second part", 6, 240, [7]), ("## 3. Exercises", 8, 12, [9, 10])]
    assert lp.code_lines(EN_CELLS[4]["source"]) == 6


def test_marks_worked_by_hand(tmp_path):
    # Section 0: 6 s/60 = 0.1 run + 60 words/120 = 0.5 prose + 1 cell shown 0.5 = 1.1 min
    # Section 1: (30 + 12) s/60 = 0.7 run + 180/120 = 1.5 prose + cell 3 shown 0.5
    #            + cell 4 live 1 + 6 lines/3 = 3.0 + 1 question 2.0               = 7.7 min
    # Section 2: 60 s/60 = 1.0 run + 240/120 = 2.0 prose + 1 cell shown 0.5    = 3.5 min
    # Section 3 (reading): 1.2/60 = 0.02 + 0.1 + 1.0 = 1.12 min, on no path
    # 90-minute path: ends 1.1 → 1, 8.8 → 9, 12.3 → 12: marks 0:00–0:01, 0:01–0:09, 0:09–0:12
    # 45-minute path: sections 0 and 1: 0:00–0:01, 0:01–0:09
    root = make_repo(tmp_path)
    plan = lp.load(root, "01_demo", "en")
    assert not plan.problems
    assert [round(m.total, 6) for m in plan.minutes] == [1.1, 7.7, 3.5, 1.12]
    m = plan.minutes[1]
    assert (round(m.run, 6), m.prose, m.shown, m.live, m.questions) == (0.7, 1.5, 0.5, 3.0, 2.0)
    en, _ = built(root)
    assert "| 0:00–0:01 | 01 · Demo |" in en
    assert "| 0:01–0:09 | 1. First part | explain 180 words · run 1 cell (30 s) · live-code 1 · " \
           "ask 1 | 4 |" in en
    assert "| 0:09–0:12 | 2. Second part |" in en
    assert "Ends at 12 of 90 minutes: 78 minutes of slack." in en
    assert "Ends at 9 of 45 minutes: 36 minutes of slack." in en
    assert "Set as reading: 2. Second part, 3. Exercises." in en


def test_marks_round_half_up_on_running_sums():
    assert lp.marks([0.5, 0.5, 0.5]) == [(0, 1), (1, 1), (1, 2)]
    assert lp.marks([44.4, 0.7]) == [(0, 44), (44, 45)]


def _marks(text: str) -> list[str]:
    return re.findall(r"^\| (\d+:\d\d–\d+:\d\d) \|", text, flags=re.M)


def test_zh_plan_has_the_same_marks_and_chinese_headings(tmp_path):
    en, zh = built(make_repo(tmp_path))
    assert _marks(en) == _marks(zh) == ["0:00–0:01", "0:01–0:09", "0:09–0:12",
                                        "0:00–0:01", "0:01–0:09"]
    assert zh.startswith("# 教案 · 01 · 演示\n")
    assert "| 0:01–0:09 | 1. 第一部分 |" in zh and "First part" not in zh
    assert "[notebooks/zh/01_demo.ipynb](../../notebooks/zh/01_demo.ipynb)" in zh
    assert "[notebooks/01_demo.ipynb](../notebooks/01_demo.ipynb)" in en
    # what the learner sees comes from each language's message table
    assert "that is the number of characters (code points), not bytes" in en
    assert "not bytes" not in zh


def test_build_is_deterministic_and_check_then_passes(tmp_path):
    root = make_repo(tmp_path)
    first = built(root)
    assert built(root) == first
    assert problems_of(root) == ""
    assert lp.main(["check"], root=root) == 0


def test_plan_lists_misconceptions_homework_and_footer(tmp_path):
    en, _ = built(make_repo(tmp_path))
    assert "| `check_utf8_bytes` | `utf8_bytes.utf16` | that is UTF-16 (2 bytes per character, " \
           "4 for the emoji), not UTF-8 | Explain utf8_bytes.utf16 |" in en
    assert "- `check_count_pairs` (cell 10, 3. Exercises)" in en
    assert "÷ 120" in en and "x86_64, 2 CPU cores" in en and "2026-12-03 02:00 UTC" in en
    assert "`python tools/lesson_plans.py build`" in en
    assert "```python\ndef f(a):" in en  # the live-coded cell is shown


def test_placeholders_stay_visible():
    assert check_codes.message_table(REPO / "course_utils/exercises/messages_en.py")
    from lesson_plan_markdown import learner_sees
    assert learner_sees("merge {index}: a | b *c* \\p{{N}}") == \
        "merge ‹index›: a \\| b \\*c\\* \\\\p{N}"


# ---------------------------------------------------------------- every rule can fail
def _edit(source: dict, **changes) -> dict:
    source = json.loads(json.dumps(source))
    for path, value in changes.items():
        target = source
        *keys, last = path.split("__")
        for key in keys:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return source


@pytest.mark.parametrize("changes, expected", [
    ({"section__1__heading": "## 1. First Part"}, "unknown heading '## 1. First Part'"),
    ({"section__2": None}, "section missing for the notebook's heading '## 2. Second part'"),
    ({"section__1__heading": "## 2. Second part", "section__2__heading": "## 1. First part"},
     "sections out of order"),
    ({"section__1__live_code": [7]}, "live_code 7 is not a code cell of this section "
                                     "(its code cells: 3, 4)"),
    ({"section__1__live_code": [2]}, "live_code 2 is not a code cell"),
    ({"section__2__paths": ["60"]}, "unknown path '60'"),
    ({"misconception__0__code": "utf8_bytes.nonsense"}, "'utf8_bytes.nonsense' is not a result "
                                                        "code"),
    ({"misconception__0__check": "check_decode"}, "check_decode is not called in the notebook"),
    ({"misconception__0__code": "pretokenize.count"},
     "check_utf8_bytes cannot report 'pretokenize.count'"),
    ({"misconception__0": None}, "no [[misconception]] for check_utf8_bytes · "
                                 "utf8_bytes.accent"),
    ({"homework__exercises": ["check_bpe_encode"]},
     "homework exercise 'check_bpe_encode' is not a check of the notebook"),
    ({"section__0__paths": ["90"], "section__1__paths": ["90"]},
     "the 45-minute path teaches no section"),
    ({"section__1__question": [{"ask": "?", "answer": "!"}] * 4}, "4 questions, at most 3"),
    ({"section__1__live_code": "4"}, "'live_code' must be a list of int"),
    ({"section__1__teach": None}, "missing key 'teach'"),
    ({"section__1__tech": "typo"}, "unknown key 'tech'"),
    ({"notebook": "02_other"}, "notebook = '02_other', expected '01_demo'"),
])
def test_each_rule_of_a_source_can_fail(tmp_path, changes, expected):
    en = _edit(_source("en"), **changes)
    zh = _edit(_source("zh"), **changes)
    found = problems_of(make_repo(tmp_path, en=en, zh=zh))
    assert expected in found, found


def test_a_path_over_its_budget_says_by_how_much_and_which_sections(tmp_path):
    # The second part's cell now takes 80 minutes (4,800 s).
    root = make_repo(tmp_path)
    timings = _timings(EN_CELLS, {**SECONDS, 7: 4800.0}, "01_demo")
    (root / "instructors" / "timings.json").write_text(json.dumps(timings))
    found = problems_of(root)
    # 90 path: 1.1 + 7.7 + (80 + 2.0 + 0.5) = 91.3 → 91 minutes
    assert "the 90-minute path takes 91 minutes, 1 over its budget of 90; its sections " \
           "(minutes): 01 · Demo 1.1; 1. First part 7.7; 2. Second part 82.5" in found, found


@pytest.mark.parametrize("changes, expected", [
    ({"section__2__paths": ["90", "45"]}, "section '## 2. Second part' differs from the English"),
    ({"section__1__question": []}, "differs from the English source"),
    ({"section__1__live_code": []}, "differs from the English source"),
    ({"misconception__0__code": "utf8_bytes.utf16"}, "misconceptions differ from the English"),
    ({"homework__exercises": ["check_utf8_bytes"]}, "homework differ from the English"),
])
def test_zh_source_must_share_the_english_structure(tmp_path, changes, expected):
    found = problems_of(make_repo(tmp_path, zh=_edit(_source("zh"), **changes)))
    assert expected in found and "plans/zh/01_demo.toml" in found, found


def test_stale_or_missing_timings_name_the_command(tmp_path):
    cells = json.loads(json.dumps(EN_CELLS))
    cells[3]["source"] = "x = 10\ny = 2"
    found = problems_of(make_repo(tmp_path, cells=cells))
    assert "timings of 01_demo are stale (code cells 3 changed" in found
    assert "run python tools/measure_cells.py 01_demo" in found
    (tmp_path / "instructors" / "timings.json").unlink()
    assert "instructors/timings.json is missing: run python tools/measure_cells.py 01_demo" in \
        problems_of(tmp_path)


def test_check_finds_plans_out_of_date_and_sources_missing(tmp_path):
    root = make_repo(tmp_path)
    assert "out of date" in problems_of(root)  # never built
    en, _ = built(root)
    lp.plan_path(root, "01_demo", "en").write_text(en.replace("Open.", "Opened."))
    assert problems_of(root) == "instructors/01_demo.md is out of date with its source and the " \
                                "timings: run python tools/lesson_plans.py build"
    built(root)
    write_source(root, _edit(_source("zh"), section__0__teach="新的开场。"), "zh")
    assert "instructors/zh/01_demo.md is out of date" in problems_of(root)
    lp.source_path(root, "01_demo", "zh").unlink()
    assert "no lesson-plan source instructors/plans/zh/01_demo.toml" in problems_of(root)
    assert lp.run(root, write=True)[0] == []  # build makes what exists


def test_a_source_without_its_notebook_is_named(tmp_path):
    root = make_repo(tmp_path)
    (root / "instructors" / "plans" / "zh" / "06_extra.toml").write_text('notebook = "06_extra"')
    assert "instructors/plans/zh/06_extra.toml: no notebook notebooks/06_extra.ipynb" in \
        problems_of(root)


def test_bad_toml_is_named(tmp_path):
    root = make_repo(tmp_path)
    write_source(root, 'notebook = "01_demo"\n[[section]\n', "en")
    assert "instructors/plans/01_demo.toml: not valid TOML" in problems_of(root)


# ---------------------------------------------------------------- result codes from the checks
def test_codes_found_through_helpers_and_correct_codes_left_out():
    english = check_codes.message_table(REPO / "course_utils/exercises/messages_en.py")
    codes = check_codes.wrong_codes(REPO / "course_utils/exercises", english)
    assert codes["check_utf8_bytes"] == UTF8_CODES  # close_number's hints; not .correct
    # a hint list in a module helper, reached from the check; the helper's correct_code
    # parameter receives "medium_parameters.correct", which must not count as a mistake
    assert "gpt2_parameters.lm_head" in codes["check_gpt2_medium_parameters"]
    assert "medium_parameters.correct" not in codes["check_gpt2_medium_parameters"]
    assert codes["check_count_pairs"] == []  # only shared codes (returned, raised, …)
    reported = {c for found in codes.values() for c in found}
    unreported = {c for c in english if "." in c and c not in reported}
    assert all(c.endswith(".correct") for c in unreported), unreported


def test_codes_through_parameters_constants_and_returned_strings(tmp_path):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "answers.py").write_text(
        "from course_utils.exercises.feedback import correct, wrong\n"
        "def judge(answer, good, bad):\n    return correct(good) if answer else wrong(bad)\n"
        "def relay(answer, ok):\n    return judge(answer, ok, 'demo.relayed')\n")
    (folder / "demo.py").write_text(
        "from course_utils.exercises.answers import judge, relay\n"
        "MISTAKES = {'x': 'demo.from_table'}\n"
        "def _mistake(a):\n    return 'demo.from_helper' if a else None\n"
        "def check_demo(a):\n    code = _mistake(a) or MISTAKES.get(a)\n"
        "    if code:\n        return wrong(code)\n"
        "    return judge(a, 'demo.correct', 'demo.by_parameter')\n"
        "def check_other(a):\n    return relay(a, 'demo.other_correct')\n")
    known = {k: "" for k in ("demo.from_table", "demo.from_helper", "demo.correct",
                             "demo.by_parameter", "demo.relayed", "demo.other_correct",
                             "returned")}
    assert check_codes.wrong_codes(folder, known) == {
        "check_demo": ["demo.by_parameter", "demo.from_helper", "demo.from_table"],
        "check_other": ["demo.relayed"]}


# ---------------------------------------------------------------- a complete example on 01
def example_source(nb: dict, language: str) -> dict:
    """A complete source for notebook 01: every section, every misconception, homework."""
    english = check_codes.message_table(REPO / "course_utils/exercises/messages_en.py")
    codes = check_codes.wrong_codes(REPO / "course_utils/exercises", english)
    found = lp.sections(nb)
    called = [m for c in nb["cells"] if c["cell_type"] == "code"
              for m in lp._CHECK_CALL.findall(lp._source(c)) if m in codes]
    zh = language == "zh"
    sections = []
    for k, sec in enumerate(found):
        paths = ["90", "45"] if k in (0, 1, 3) else ["90"] if k in (4, 10) else []
        entry = {"heading": sec.heading, "paths": paths,
                 "live_code": sec.code[1:2] if "## 4." in sec.heading else [],
                 "teach": "按笔记本讲。" if zh else "Teach it from the notebook."}
        if k == 3:
            entry["question"] = [{"ask": "“好”占几个字节？" if zh else "How many bytes is 好?",
                                  "answer": "3个。" if zh else "Three."}]
        sections.append(entry)
    return {"notebook": "01_tokenization", "goal": "目标。" if zh else "A goal.",
            "prepare": ["课前运行一遍。" if zh else "Run the notebook once."],
            "section": sections,
            "misconception": [{"check": c, "code": code, "address": "讲解。" if zh else "Explain."}
                              for c in called for code in codes[c]],
            "homework": {"exercises": ["check_count_pairs", "check_bpe_encode"],
                         "note": "说明。" if zh else "A note."}}


def test_complete_example_source_for_notebook_01(tmp_path):
    name = "01_tokenization"
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    for rel in (f"{name}.ipynb", f"zh/{name}.ipynb"):
        shutil.copy(REPO / "notebooks" / rel, tmp_path / "notebooks" / rel)
    shutil.copytree(REPO / "course_utils" / "exercises", tmp_path / "course_utils" / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    (tmp_path / "instructors" / "plans" / "zh").mkdir(parents=True)
    seconds = {i: 1.0 for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"}
    (tmp_path / "instructors" / "timings.json").write_text(
        json.dumps(_timings(nb["cells"], seconds, name)))
    for language in lp.LANGUAGES:
        lp.source_path(tmp_path, name, language).write_text(
            to_toml(example_source(nb, language)), encoding="utf-8")
    problems, report = lp.run(tmp_path, write=True)
    assert not problems, "\n".join(problems)
    assert any("90-minute path" in line and "left" in line for line in report)
    en = lp.plan_path(tmp_path, name, "en").read_text(encoding="utf-8")
    zh = lp.plan_path(tmp_path, name, "zh").read_text(encoding="utf-8")
    assert _marks(en) == _marks(zh) and len(_marks(en)) == 8
    for check in ("check_utf8_bytes", "check_pretokenize", "check_bpe_separator",
                  "check_digit_pattern", "check_chat_ids"):
        assert f"| `{check}` |" in en
    assert "# 教案 · 01 · 分词" in zh
    assert lp.run(tmp_path, write=False)[0] == []


def test_the_tools_doctests():
    import doctest

    import lesson_plan_markdown

    for module in (lp, lesson_plan_markdown):
        failed, tried = doctest.testmod(module)
        assert tried and not failed, module.__name__
