"""Grade a class's submitted notebooks in one command: a grade sheet and feedback for each.

    python -m course_utils.grade --notebook 01 submissions/*.ipynb

The exercises of a notebook are the `check_*` calls of the course's own lesson notebook
(notebooks/01_tokenization.ipynb), in order. Each submission is copied into a fresh temporary
folder (the original is only read, and its sha256 is compared afterwards) and run there by
`course_utils.grade_run`, in a subprocess with its own kernel, a few at a time (--jobs); the
checks record their results to a file the grader names (`exercises.feedback`). A run that
outlasts --timeout is killed with its kernel and every process they started. Whatever a
notebook does — hang, kill its kernel, print megabytes, delete its files, raise everywhere, or
not be a notebook at all — its row says so and the batch goes on (`grade_report`).

It writes to --out (default ./grades): grades.csv, feedback/<name>.txt for each submission and
executed/<name>.ipynb, the notebook as it ran; then prints a short table.

>>> exercises("01")[:3]
['check_utf8_bytes', 'check_pretokenize', 'check_count_pairs']

What it leaves out: a sandbox. A notebook runs with the rights of whoever grades it; run the
command in a container (or as a user who owns nothing else) for submissions you do not trust.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course_utils.grade_report import (Graded, Run, feedback_text, judge, read_events, summary,
                                       unreadable, write_csv)
from course_utils.language import say

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds course_utils
NOTEBOOKS = PACKAGE_ROOT / "notebooks"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TQDM_DISABLE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
# Limits: the slowest lesson notebook (02) runs in about 2 minutes on 2 idle cores, its slowest
# cell (04's) in about 50 s (instructors/timings.json); two runs at once take up to twice as
# long. The defaults allow several times that, for slower machines.
TIMEOUT, CELL_TIMEOUT, MAX_OUTPUT = 900.0, 300.0, 1_000_000


def lesson_notebook(notebook: str) -> Path:
    """notebooks/<name>.ipynb for "01", "1", "01_tokenization" or "01_tokenization.ipynb"."""
    name = str(notebook).removesuffix(".ipynb")
    found = sorted(NOTEBOOKS.glob(f"{int(name):02d}_*.ipynb")) if name.isdigit() else \
        [NOTEBOOKS / f"{name}.ipynb"] if (NOTEBOOKS / f"{name}.ipynb").is_file() else []
    if len(found) != 1:
        names = ", ".join(p.stem for p in sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))) or "none"
        raise ValueError(say(f"--notebook {notebook!r} names no lesson notebook in {NOTEBOOKS}; "
                             f"give one of: {names} (or just its number, e.g. 01)",
                             f"--notebook {notebook!r}不是{NOTEBOOKS}中的课程笔记本；"
                             f"请给出其中之一：{names}（或只给编号，如01）"))
    return found[0]


def exercises(notebook: str) -> list[str]:
    """The exercise checks the lesson notebook calls, in order (each once)."""
    cells = json.loads(lesson_notebook(notebook).read_text(encoding="utf-8"))["cells"]
    calls = [name for cell in cells if cell["cell_type"] == "code"
             for name in re.findall(r"\b(check_\w+)\s*\(", "".join(cell["source"]))]
    return list(dict.fromkeys(calls))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _read_sources(data: bytes) -> dict[int, str]:
    """The code cells of a submission, by index; raises ValueError if it is not a notebook."""
    import nbformat

    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        return {i: str(cell.source) for i, cell in enumerate(nb.cells)
                if cell.cell_type == "code"}
    except Exception as error:  # not UTF-8, not JSON, JSON but not a notebook…
        raise ValueError(f"{type(error).__name__}: {str(error)[:200]}".strip()) from None


def _run(command: list[str], folder: Path, env: dict[str, str], timeout: float,
         stderr: Path) -> tuple[int | None, bool]:
    """Run `command`; past `timeout` kill it and every process it started. (code, killed)"""
    import psutil

    family: dict[int, psutil.Process] = {}  # every descendant seen: the kernel may detach
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    deadline, code, killed = time.monotonic() + timeout, None, False
    try:
        while code is None:
            try:
                code = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                killed = time.monotonic() > deadline
                if killed:
                    break
            try:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    family.setdefault(child.pid, child)
            except psutil.Error:
                pass
    finally:  # a finished run has shut its kernel down; this catches what it left behind
        for member in list(family.values()):
            try:
                family.update({c.pid: c for c in member.children(recursive=True)})
            except psutil.Error:
                pass
        for member in [*family.values()]:
            try:
                member.kill()  # psutil checks the process is still the one it saw
            except psutil.Error:
                pass
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()
    return (None if killed else code), killed


def grade_one(path: Path, notebook: str, checks: list[str], out: Path, *, timeout: float,
              cell_timeout: float, max_output: int) -> Graded:
    """Run one submission on a copy and grade it; never raises for what the notebook does."""
    name = path.name
    try:
        digest, data = _sha256(path), path.read_bytes()
        sources = _read_sources(data)
    except (OSError, ValueError) as error:
        return unreadable(name, checks, str(error))
    limits = {"cell_timeout": cell_timeout, "max_output": max_output}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        (work / "submission.ipynb").write_bytes(data)
        before = _files(work)
        events, results = Path(tmp) / "events.jsonl", Path(tmp) / "results.jsonl"
        env = {key: value for key, value in os.environ.items() if key != "LLM_TOKENS_LANGUAGE"}
        env.update(OFFLINE, LLM_TOKENS_GRADING_RESULTS=str(results), PYTHONPATH=os.pathsep.join(
            filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))
        command = [sys.executable, "-m", "course_utils.grade_run", str(work / "submission.ipynb"),
                   str(events), "--cell-timeout", str(cell_timeout), "--max-output",
                   str(max_output), "--save", str(out / "executed" / f"{path.stem}.ipynb")]
        code, killed = _run(command, work, env, timeout, Path(tmp) / "stderr.txt")
        run = Run(read_events(events), results.read_bytes() if results.exists() else b"",
                  killed_after=timeout if killed else None, exit_code=code,
                  stderr=(Path(tmp) / "stderr.txt").read_text("utf-8", "replace")[-4000:],
                  deleted=sorted(before - _files(work)) if work.is_dir() else sorted(before))
    try:
        run.original_changed = _sha256(path) != digest
    except OSError:
        run.original_changed = True
    return judge(name, checks, sources, run, limits)


def grade(paths: list[Path], notebook: str, out: Path = Path("grades"), *, jobs: int = 2,
          timeout: float = TIMEOUT, cell_timeout: float = CELL_TIMEOUT,
          max_output: int = MAX_OUTPUT) -> list[Graded]:
    """Grade every submission in `paths`; write grades.csv and the feedback files to `out`."""
    checks = exercises(notebook)
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}; e.g. --jobs 2")
    if min(timeout, cell_timeout) <= 0 or max_output <= 0:
        raise ValueError("timeout, cell_timeout and max_output must be positive; e.g. "
                         "--timeout 900 --cell-timeout 300 --max-output 1000000")
    if not paths:
        raise ValueError(say("no submissions given; e.g. submissions/*.ipynb",
                             "没有给出提交文件；例如submissions/*.ipynb"))
    paths = [Path(p) for p in paths]
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise ValueError(say(f"two submissions share a file name: {sorted(names)}; rename one",
                             f"有两个提交文件同名：{sorted(names)}；请重命名其中之一"))
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "executed").mkdir(exist_ok=True)
    lesson = lesson_notebook(notebook).stem
    def one(path: Path) -> Graded:
        try:
            return grade_one(path, lesson, checks, out, timeout=timeout,
                             cell_timeout=cell_timeout, max_output=max_output)
        except Exception as error:  # e.g. a full disk: this row says so, the batch goes on
            row = unreadable(path.name, checks, "")
            row.problems = [say(f"could not be graded: {error!r}"[:300],
                                f"无法批改：{error!r}"[:300])]
            return row

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(one, paths))
    write_csv(out / "grades.csv", rows, checks)
    for path, row in zip(paths, rows):
        (out / "feedback" / f"{path.stem}.txt").write_text(feedback_text(row, lesson),
                                                           encoding="utf-8")
    return rows


def main(argv: list[str] | None = None) -> int:
    """The command line; prints the summary table."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.grade",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="the submitted .ipynb files")
    parser.add_argument("--notebook", required=True, help="the lesson: 01 or 01_tokenization")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="default: ./grades")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help=f"seconds per notebook (default {TIMEOUT:g})")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT,
                        help=f"seconds before a cell is interrupted (default {CELL_TIMEOUT:g})")
    parser.add_argument("--max-output", type=int, default=MAX_OUTPUT,
                        help=f"bytes of output kept per cell (default {MAX_OUTPUT})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        rows = grade(args.submissions, args.notebook, args.out, jobs=args.jobs,
                     timeout=args.timeout, cell_timeout=args.cell_timeout,
                     max_output=args.max_output)
    except (ValueError, OSError) as error:
        parser.exit(2, f"error: {error}\n")
    print(summary(rows, time.monotonic() - started, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
