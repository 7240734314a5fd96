"""The package reads in the order the course teaches it.

- Every module is short enough to read top to bottom: at most 350 lines, docstrings included.
- A module imports only modules that come before it in `ORDER`, the order in which the notebooks
  teach them — also inside functions — so the package can be read from the first module on.
- A notebook imports only modules taught by it or by an earlier notebook.
- `import course_utils` and the exercises are light: no torch, no transformers, no lesson module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "course_utils"
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 350

# Every module, in reading order, with the notebook that teaches it (0: the course's machinery,
# which any notebook may use).
ORDER = [
    ("language", 0), ("validation_messages", 0), ("validation", 0), ("files", 0), ("progress", 0),
    ("data_messages", 0), ("data", 0), ("plotting", 0), ("notebook_setup", 0),
    ("doctor_messages", 0), ("doctor", 0), ("check", 0), ("pretrained", 0),
    ("exercises.messages_en", 0), ("exercises.messages_zh", 0),
    ("exercises.messages", 0), ("exercises.feedback", 0), ("exercises.answers", 0),
    ("bpe", 1), ("merge_table", 1), ("tokenizer_file", 1), ("special_tokens", 1),
    ("pretokenize", 1),
    ("tokenizer_training", 1), ("regex_tokenizer", 1), ("tokenizer_formats", 1),
    ("tokenizer_json", 1), ("tiktoken_format", 1), ("released_tokenizers", 1),
    ("tokenization", 1), ("tokenizer_pitfalls", 1), ("undertrained_tokens", 1),
    ("exercises.tokenization", 1), ("exercises.tokenizer_pitfalls", 1),
    ("ngram_tokens", 2), ("ngram_counts", 2), ("ngrams", 2), ("metrics", 2),
    ("exercises.ngrams", 2),
    ("attention", 3), ("multihead", 3), ("batching", 3), ("model", 3), ("llama_blocks", 3),
    ("llama_cache", 3), ("llama", 3),
    ("exercises.attention", 3),
    ("exercises.attention_build", 3),
    ("optim", 4), ("checkpoint_folder", 4), ("checkpoint", 4), ("train_config", 4),
    ("distributed", 4),
    ("training", 4), ("exercises.training", 4),
    ("decoding", 5), ("strategies", 5), ("generation_config", 5),
    ("next_token_logits", 5), ("generation", 5), ("prompt_lookup", 5),
    ("exercises.generation", 5),
    ("exercises", 0),  # the checks of every notebook; lesson modules load only when a check runs
    ("grade_run", 0), ("grade_report", 0), ("grade", 0),  # grading submitted notebooks
    ("challenge_submission", 0), ("challenge_texts", 0), ("challenge", 0),  # class challenge
]
# Names kept importable where an earlier version of the course put them, from a module that
# comes later in ORDER (importing it at the top would be circular): loaded on first use.
# attention.MultiHeadAttention; tokenizer_formats.read_tokenizer_json and its kin
LATE_RE_EXPORTS = {("attention", "multihead"), ("tokenizer_formats", "tokenizer_json")}
RANK = {name: rank for rank, (name, _) in enumerate(ORDER)}
TAUGHT_IN = dict(ORDER)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if module_name(p)}


def course_imports(tree: ast.AST, package: str = "") -> set[str]:
    """The course_utils modules an AST imports, anywhere in it (also inside functions)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .x import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(["course_utils", *filter(None, anchor), base])
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            name = name.removeprefix("course_utils").removeprefix(".")
            if name in MODULES and (name or node.__class__ is ast.ImportFrom):
                found.add(name)
    return {name for name in found if name}


def test_every_module_has_a_place_in_the_reading_order():
    assert sorted(MODULES) == sorted(RANK), "add new modules to ORDER (and remove gone ones)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_short_enough_to_read(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines; split it by idea"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_only_what_comes_before_it(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    later = sorted(other for other in course_imports(tree, package)
                   if other != name and RANK[other] > RANK[name]
                   and (name, other) not in LATE_RE_EXPORTS)
    assert not later, f"{name} imports {later}, which come after it in ORDER"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_nothing_a_later_notebook_teaches(notebook):
    number = int(notebook.name[:2])
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    source = "\n".join(line for line in source.splitlines()
                       if not line.lstrip().startswith(("%", "!")))  # IPython magics, shell
    later = sorted(m for m in course_imports(ast.parse(source)) if TAUGHT_IN[m] > number)
    assert not later, f"{notebook.name} imports {later}, taught in later notebooks"


def test_importing_the_package_and_the_exercises_stays_light():
    code = ("import sys, course_utils, course_utils.exercises\n"
            "print(sorted(m for m in sys.modules if m in {'torch', 'transformers', 'tokenizers'}"
            " or m.startswith('course_utils.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO_ROOT, check=True, env={"PYTHONPATH": str(REPO_ROOT)})
    loaded = {m.removeprefix("course_utils.") for m in eval(result.stdout)}
    assert not loaded & {"torch", "transformers", "tokenizers"}, loaded
    lessons = sorted(m for m in loaded if m in TAUGHT_IN and TAUGHT_IN[m] > 0
                     and not m.startswith("exercises"))
    assert not lessons, f"importing the exercises imports lesson modules: {lessons}"
