"""What one graded run means: each exercise's grade, what went wrong, and the files that say so.

`course_utils.grade_run` leaves two logs behind: its per-cell events and the results the checks
recorded (`exercises.feedback.record_for_grading`). `judge` reads both into a `Graded`: one
CSV cell per exercise (`correct`, `wrong: <code>`, `not attempted`, `error: <what>`), the line
each check printed, and the problems of the run in the instructor's language (`language.say`).

A recorded result counts only if the cell that was running when it was written calls that check
and printed its very line; anything else in the results file is ignored and reported, so that
writing the file by hand is not enough to forge a grade. (It stops a casual forger, not a
determined one: the notebook runs with the grader's rights — see instructors/grading.md.)

Cells are numbered from 1, markdown cells included, as an instructor counts them in Jupyter.
Left out: running anything, which `course_utils.grade` does.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.language import say

OK, NOT_ATTEMPTED, NOT_RUN = "correct", "not attempted", "error: not run"


@dataclass
class Run:
    """What the grader saw of one run, besides its logs."""

    events: list[dict[str, Any]] = field(default_factory=list)
    results: bytes = b""  # the results file as written
    killed_after: float | None = None  # seconds: the notebook limit it ran over
    exit_code: int | None = 0
    stderr: str = ""
    deleted: list[str] = field(default_factory=list)  # files gone from its folder
    original_changed: bool = False


@dataclass
class Graded:
    """One submission's row: a CSV cell and a printed line per exercise, and its problems."""

    name: str
    grades: dict[str, str]
    lines: dict[str, str]
    problems: list[str]

    @property
    def score(self) -> int:
        return sum(grade == OK for grade in self.grades.values())


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events a run logged; a line that is not a JSON object (a cut-off last line) is
    skipped."""
    events = []
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return events


def calls(source: str, check: str) -> bool:
    """Whether the cell `source` calls `check` — in code, not in a comment or a string.

    >>> calls("check_x(1)  # check_y(2)", "check_x"), calls("# check_y(2)", "check_y")
    (True, False)
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # IPython syntax (%magic, !shell): look at the text
        return re.search(rf"\b{re.escape(check)}\s*\(", source) is not None
    return any(isinstance(node, ast.Call) and check in (getattr(node.func, "id", None),
                                                        getattr(node.func, "attr", None))
               for node in ast.walk(tree))


def accepted_results(run: Run, sources: dict[int, str]) -> tuple[dict[str, dict], int]:
    """The last trustworthy result of each check, and how many recorded lines were ignored.

    >>> end = {"event": "end", "cell": 3, "offset": 200, "marks": ["✓ right"]}
    >>> line = json.dumps({"check": "check_x", "code": "x", "outcome": "correct",
    ...                    "params": {}, "text": "✓ right"}).encode() + b"\\n"
    >>> accepted_results(Run([end], line), {3: "check_x(answer)"})[0]["check_x"]["outcome"]
    'correct'
    >>> accepted_results(Run([end], line), {3: "print('✓ right')"})[1]  # forged: no call
    1
    """
    ends = [e for e in run.events if e["event"] == "end"]
    started = [e.get("cell") for e in run.events if e["event"] == "start"]
    running = started[-1] if started and (not ends or ends[-1].get("cell") != started[-1]) \
        else None
    accepted: dict[str, dict] = {}
    ignored, offset = 0, 0
    for raw in run.results.splitlines(keepends=True):
        offset += len(raw)
        try:
            result = json.loads(raw)
            check, text = str(result["check"]), str(result["text"])
            assert result["outcome"] in ("correct", "wrong", "not_attempted", "error")
        except (ValueError, KeyError, TypeError, AssertionError):
            ignored += 1
            continue
        cell, marks = running, None  # after the last end: the cell the run stopped in
        for end in ends:
            if isinstance(end.get("offset"), int) and end["offset"] >= offset:
                cell, marks = end.get("cell"), end.get("marks") or []
                break
        if (cell not in sources or not calls(sources[cell], check)
                or (marks is not None and text not in marks)):
            ignored += 1
            continue
        accepted[check] = result
    return accepted, ignored


def _grade(result: dict) -> str:
    outcome, code = result["outcome"], str(result.get("code", ""))
    return {"correct": OK, "wrong": f"wrong: {code}", "not_attempted": NOT_ATTEMPTED}.get(
        outcome, f"error: {code}")


def _cell_problems(run: Run, code_cells: int, limits: dict[str, float]) -> list[str]:
    """Sentences for timeouts, cut output, errors, a dead kernel and a killed run."""
    problems: list[str] = []
    stopped = {e["cell"] for e in run.events if e["event"] in ("timeout", "cut")}
    errors = [(e["cell"], e["error"]) for e in run.events if e["event"] == "end" and e["error"]
              and not (e["cell"] in stopped and e["error"] == "KeyboardInterrupt")]
    seen = set()  # a cell that ignores interrupts times out again and again: say it once
    for event in run.events:
        cell = event.get("cell", -1) + 1
        if (event["event"], cell) in seen:
            continue
        seen.add((event["event"], cell))
        if event["event"] == "timeout":
            s = f"{limits['cell_timeout']:g}"
            problems.append(say(f"cell {cell} ran over {s} s and was interrupted",
                                f"第{cell}个单元格运行超过{s}秒，已被中断"))
        elif event["event"] == "cut":
            size = f"{limits['max_output'] / 1e6:g} MB"
            problems.append(say(f"printed more than {size} in cell {cell}; output cut",
                                f"第{cell}个单元格输出超过{size}，输出已截断"))
        elif event["event"] == "dead":
            problems.append(say(f"the kernel died at cell {cell}",
                                f"内核在第{cell}个单元格处终止"))
    if 0 < len(errors) <= 3:
        problems += [say(f"cell {cell + 1} raised {name}", f"第{cell + 1}个单元格抛出{name}")
                     for cell, name in errors]
    elif errors:
        n = len(errors)
        problems.append(say(f"raised errors in {n} of {code_cells} cells",
                            f"{code_cells}个单元格中有{n}个报错"))
    return problems


def judge(name: str, exercises: list[str], sources: dict[int, str], run: Run,
          limits: dict[str, float]) -> Graded:
    """Grade one run of a readable notebook whose code cells are `sources` (index: source)."""
    accepted, ignored = accepted_results(run, sources)
    kinds = {e["event"] for e in run.events}
    ended = {e["cell"]: e["error"] for e in run.events if e["event"] == "end"}
    problems = _cell_problems(run, len(sources), limits)
    started = [e["cell"] for e in run.events if e["event"] == "start"]
    if run.killed_after is not None:
        s, cell = f"{run.killed_after:g}", (started[-1] + 1 if started else 0)
        problems.append(say(f"ran over the notebook limit of {s} s at cell {cell} and was "
                            "stopped", f"整个笔记本运行超过{s}秒的上限，在第{cell}个单元格处被终止"))
    elif not kinds & {"done", "dead"}:
        why = (run.stderr.strip().splitlines() or [""])[-1][:200]
        problems.append(say(f"the run stopped unexpectedly (exit code {run.exit_code}): {why}",
                            f"运行意外终止（退出码{run.exit_code}）：{why}"))
    if run.deleted:
        names = ", ".join(run.deleted[:10])
        problems.append(say(f"deleted files in its folder: {names}",
                            f"删除了所在文件夹中的文件：{names}"))
    if run.original_changed:
        problems.append(say("changed the submitted file itself while it ran",
                            "运行时修改了提交的原文件"))
    if ignored:
        problems.append(say(f"ignored {ignored} recorded results that no check call printed",
                            f"忽略了{ignored}条没有对应检查调用输出的记录结果"))
    grades, lines = {}, {}
    for check in exercises:
        if check in accepted:
            grades[check], lines[check] = _grade(accepted[check]), str(accepted[check]["text"])
            continue
        cells = [i for i, source in sources.items() if calls(source, check)]
        raised = [ended[i] for i in cells if ended.get(i)]
        if raised:
            grades[check] = f"error: {raised[-1]}"
        elif "done" in kinds or (cells and all(i in ended for i in cells)):
            grades[check] = NOT_ATTEMPTED
        else:
            grades[check] = NOT_RUN
        lines[check] = ""
    return Graded(name, grades, lines, problems)


def unreadable(name: str, exercises: list[str], error: str) -> Graded:
    """The row of a file that is not a notebook: every exercise not run."""
    return Graded(name, {check: NOT_RUN for check in exercises}, {check: "" for check in
                  exercises}, [say(f"not a notebook: {error}", f"不是笔记本文件：{error}")])


def write_csv(path: Path, rows: list[Graded], exercises: list[str]) -> None:
    """grades.csv: a row per submission; UTF-8 with a BOM, so that Excel reads Chinese."""
    with open(path, "w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", *exercises, "score", "problems"])
        for row in rows:
            writer.writerow([row.name, *(row.grades[c] for c in exercises), row.score,
                             "; ".join(row.problems)])


def feedback_text(row: Graded, notebook: str) -> str:
    """The feedback file: the score, each check's own line, what went wrong with the run."""
    total = len(row.grades)
    text = [say(f"{row.name}: notebook {notebook}, {row.score} of {total} exercises correct",
                f"{row.name}：笔记本{notebook}，{total}道练习答对{row.score}道"), "",
            say("Exercises", "练习")]
    for check, grade in row.grades.items():
        shown = row.lines[check] or say(f"(no line printed: {grade})", f"（没有输出：{grade}）")
        text.append(f"  {check}: {shown}")
    text += ["", say("The run", "运行情况")]
    text += [f"  - {problem}" for problem in row.problems] or [say("  - no problems",
                                                                   "  - 没有问题")]
    return "\n".join(text) + "\n"


def summary(rows: list[Graded], seconds: float, out: Path) -> str:
    """The table printed at the end: a line per submission, then the totals."""
    width = max([len(say("submission", "提交"))] + [len(row.name) for row in rows])
    lines = [f"{say('submission', '提交'):<{width}}  {say('score', '得分'):>7}  "
             f"{say('problems', '问题')}"]
    for row in rows:
        first = (row.problems[0][:60] + (f" (+{len(row.problems) - 1})"
                                         if len(row.problems) > 1 else "")) if row.problems else ""
        lines.append(f"{row.name:<{width}}  {row.score:>3}/{len(row.grades):<3}  {first}")
    rate = len(rows) / seconds * 60 if seconds else 0.0
    lines.append(say(f"{len(rows)} notebooks graded in {seconds:.0f} s ({rate:.1f} per minute); "
                     f"grades and feedback in {out}",
                     f"共评分{len(rows)}个笔记本，用时{seconds:.0f}秒（每分钟{rate:.1f}个）；"
                     f"成绩与反馈在{out}"))
    return "\n".join(lines)
