"""Static checks of the committed notebooks (nbval then re-executes and compares them).

Every notebook is committed fully executed, in order, with no errors, no stderr and no
machine-specific paths in its outputs, and each lesson has an executed solutions notebook.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
LESSONS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOK_DIR / "solutions").glob("*.ipynb"))
ALL_NOTEBOOKS = LESSONS + SOLUTIONS
KERNEL_NAME = "llm-tokens"

_MACHINE_PATHS = re.compile(
    "|".join(
        re.escape(p)
        for p in {str(REPO_ROOT), str(REPO_ROOT.parent), os.path.expanduser("~")}
        if len(p) > 1
    )
    + r"|/tmp/|site-packages|\.venv/"
)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _output_text(output: dict) -> str:
    parts = [output.get("text", ""), output.get("data", {}).get("text/plain", "")]
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def test_the_course_has_its_first_lesson():
    assert NOTEBOOK_DIR / "01_tokenization.ipynb" in LESSONS


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_each_lesson_has_a_solutions_notebook(lesson):
    assert (NOTEBOOK_DIR / "solutions" / f"{lesson.stem}_solutions.ipynb").exists()


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_in_order_without_errors(path):
    notebook = _load(path)
    counts = [cell["execution_count"] for cell in _code_cells(notebook)]
    assert counts, "no code cells"
    assert counts == list(range(1, len(counts) + 1)), "re-run the notebook top to bottom"
    for index, cell in enumerate(_code_cells(notebook)):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"cell {index} has an error output"
            assert output.get("name") != "stderr", f"cell {index} wrote to stderr"
            text = _output_text(output)
            match = _MACHINE_PATHS.search(text)
            assert match is None, f"cell {index} output holds a machine path: {match.group(0)}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_lines_fit_the_page(path):
    # Code wider than 100 characters or printed lines wider than 120 scroll sideways in
    # JupyterLab's default layout and wrap in the rendered notebook on GitHub.
    for index, cell in enumerate(_code_cells(_load(path))):
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= 100, f"cell {index}: code line of {len(line)} chars: {line!r}"
        for output in cell["outputs"]:
            for line in _output_text(output).splitlines():
                assert len(line) <= 120, f"cell {index}: printed line of {len(line)}: {line!r}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_holds_no_progress_bar_widgets(path):
    # Committed notebooks are executed with TQDM_DISABLE=1: a widget in them is a bar that
    # escaped it (it would differ on every run and show a stale bar to the learner).
    notebook = _load(path)
    assert "widgets" not in notebook["metadata"], "re-execute it with TQDM_DISABLE=1"
    for index, cell in enumerate(_code_cells(notebook)):
        for output in cell["outputs"]:
            assert not any("widget" in kind for kind in output.get("data", {})), index


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_the_course_kernel_and_setup(path):
    notebook = _load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == KERNEL_NAME
    first = "".join(_code_cells(notebook)[0]["source"])
    assert "setup_notebook(" in first, "the first code cell must call setup_notebook()"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lesson_ends_with_checked_exercises(lesson):
    sources = ["".join(c["source"]) for c in _code_cells(_load(lesson))]
    checks = {m for s in sources for m in re.findall(r"\b(check_\w+)\(", s)}
    assert len(checks) >= 4, f"only {len(checks)} exercises with check_* feedback"
    solutions = NOTEBOOK_DIR / "solutions" / f"{lesson.stem}_solutions.ipynb"
    solution_sources = ["".join(c["source"]) for c in _code_cells(_load(solutions))]
    solved = {m for s in solution_sources for m in re.findall(r"\b(check_\w+)\(", s)}
    assert checks <= solved, f"exercises without a solution: {checks - solved}"
