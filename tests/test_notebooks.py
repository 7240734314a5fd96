"""Static checks of the committed notebooks (nbval then re-executes and compares them).

Every notebook is committed fully executed, in order, with no errors, no stderr and no
machine-specific paths in its outputs, and each lesson has an executed solutions notebook.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
ZH_DIR = NOTEBOOK_DIR / "zh"  # the Chinese edition: the same checks, and tests/test_translation.py
LESSONS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
ZH_LESSONS = sorted(ZH_DIR.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOK_DIR / "solutions").glob("*.ipynb"))
ZH_SOLUTIONS = sorted((ZH_DIR / "solutions").glob("*.ipynb"))
ALL_NOTEBOOKS = LESSONS + SOLUTIONS + ZH_LESSONS + ZH_SOLUTIONS
KERNEL_NAME = "llm-tokens"

_MACHINE_PATHS = re.compile(
    "|".join(
        re.escape(p)
        for p in {str(REPO_ROOT), str(REPO_ROOT.parent), os.path.expanduser("~")}
        if len(p) > 1
    )
    + r"|/tmp/|site-packages|\.venv/"
)
_VERDICT = re.compile(r"(^|[:=])\s*(True|False)\s*$")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _output_text(output: dict) -> str:
    parts = [output.get("text", ""), output.get("data", {}).get("text/plain", "")]
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def test_the_course_has_its_first_lesson():
    assert NOTEBOOK_DIR / "01_tokenization.ipynb" in LESSONS


@pytest.mark.parametrize("lesson", LESSONS + ZH_LESSONS,
                         ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_each_lesson_has_a_solutions_notebook(lesson):
    assert (lesson.parent / "solutions" / f"{lesson.stem}_solutions.ipynb").exists()


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
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


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_lines_fit_the_page(path):
    # Code wider than 100 characters or printed lines wider than 120 scroll sideways in
    # JupyterLab's default layout and wrap in the rendered notebook on GitHub.
    for index, cell in enumerate(_code_cells(_load(path))):
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= 100, f"cell {index}: code line of {len(line)} chars: {line!r}"
        for output in cell["outputs"]:
            for line in _output_text(output).splitlines():
                assert len(line) <= 120, f"cell {index}: printed line of {len(line)}: {line!r}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_holds_no_progress_bar_widgets(path):
    # Committed notebooks are executed with TQDM_DISABLE=1: a widget in them is a bar that
    # escaped it (it would differ on every run and show a stale bar to the learner).
    notebook = _load(path)
    assert "widgets" not in notebook["metadata"], "re-execute it with TQDM_DISABLE=1"
    for index, cell in enumerate(_code_cells(notebook)):
        for output in cell["outputs"]:
            assert not any("widget" in kind for kind in output.get("data", {})), index


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_uses_the_course_kernel_and_setup(path):
    notebook = _load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == KERNEL_NAME
    first = "".join(_code_cells(notebook)[0]["source"])
    assert "setup_notebook(" in first, "the first code cell must call setup_notebook()"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lesson_ends_with_checked_exercises(lesson):
    sources = ["".join(c["source"]) for c in _code_cells(_load(lesson))]
    checks = {m for s in sources for m in re.findall(r"\b(check_\w+)\(", s)}
    assert len(checks) >= 5, f"only {len(checks)} exercises with check_* feedback"
    solutions = NOTEBOOK_DIR / "solutions" / f"{lesson.stem}_solutions.ipynb"
    solution_sources = ["".join(c["source"]) for c in _code_cells(_load(solutions))]
    solved = {m for s in solution_sources for m in re.findall(r"\b(check_\w+)\(", s)}
    assert checks <= solved, f"exercises without a solution: {checks - solved}"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_prints_evidence_not_verdicts(path):
    # A printed line that ends in a bare True/False hides the number it judged: print the
    # number or the sample, and state the claim as an assert in its own cell.
    for index, cell in enumerate(_code_cells(_load(path))):
        for output in cell["outputs"]:
            for line in _output_text(output).splitlines():
                assert not _VERDICT.search(line), f"cell {index} prints a bare verdict: {line!r}"


def _names(source: str) -> set[str]:
    """The global names a cell defines, imports or reads (a function's own locals left out)."""
    names = set()

    def visit(node: ast.AST, local: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            args = node.args
            inner = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            inner |= {a.arg for a in (args.vararg, args.kwarg) if a}
            inner |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)}
            for child in ast.iter_child_nodes(node):
                visit(child, local | inner)
            return
        if isinstance(node, ast.Name) and node.id not in local:
            names.add(node.id)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(ast.parse(source), set())
    return names


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_exercise_stubs_shadow_nothing_the_lesson_uses(lesson):
    # An exercise stub (`my_decode = None`) that reused a lesson's name would break the lesson's
    # cells when they are run again after the exercise is attempted.
    cells = _load(lesson)["cells"]
    sources = ["".join(c["source"]) for c in cells]
    start = next(i for i, (c, s) in enumerate(zip(cells, sources))
                 if c["cell_type"] == "markdown" and re.search(r"^#+ .*Exercises", s, re.M))
    code = [c["cell_type"] == "code" for c in cells]
    lesson_names = set().union(*(_names(s) for s, is_code in zip(sources[:start], code) if is_code))
    stubs = {m for s, is_code in zip(sources[start:], code[start:]) if is_code
             for m in re.findall(r"^(\w+)\s*=\s*None\b", s, re.M)}
    assert stubs, "no exercise stubs found after the Exercises heading"
    reused = stubs & lesson_names
    assert not reused, f"exercise stubs reuse the lesson's names: {reused}"
