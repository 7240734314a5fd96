"""Build the instructors' lesson plans from their sources and the measured cell run times.

    python tools/lesson_plans.py build   # writes instructors/<name>.md, instructors/zh/<name>.md
    python tools/lesson_plans.py check     # exit 1 naming every problem; writes nothing

A plan's source, instructors/plans/<name>.toml (English) and instructors/plans/zh/<name>.toml
(Chinese, the same structure), says what to teach: one [[section]] per "# " title and "## "
heading of notebooks/<name>.ipynb, in order, with the paths that teach it ("90", "45"), the code
cells to type live, how to teach it and questions for the room; one [[misconception]] per result
code the notebook's checks can report as wrong; the homework. The minute marks are not typed:
they come from instructors/timings.json (tools/measure_cells.py) and the notebook itself, with
the constants below, so a plan stays true when the notebook changes — `check` (and a test) says
when the timings or a plan are out of date.

The source format (TOML; the Chinese source has the same keys and values, bar the texts):

    notebook = "01_tokenization"
    goal = "What the class can do after the session."
    prepare = ["Before class: …"]
    [[section]]                      # one per "# "/"## " heading line of the notebook, in order
    heading = "## 4. Byte-pair encoding from scratch"   # the English heading line exactly
    paths = ["90", "45"]             # the paths that teach it; in neither: set as reading
    live_code = [22, 24]             # indices in nb["cells"] of this section's code cells
    teach = "How to teach it."       # optional for a section no path teaches
    [[section.question]]             # 0-3 per section
    ask = "…"
    answer = "…"
    [[misconception]]                # one per code the notebook's checks can report as wrong
    check = "check_utf8_bytes"
    code = "utf8_bytes.characters"   # a key of course_utils/exercises/messages_en.py
    address = "How to address it in class."
    [homework]
    exercises = ["check_count_pairs"]    # checks the notebook calls
    note = "Why these, what to look for."

What it leaves out: the wording. The sources hold every sentence the plans say about teaching;
this script adds numbers, headings from the notebooks and the checks' own messages.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from check_codes import message_table, wrong_codes  # noqa: E402
from measure_cells import cell_hash  # noqa: E402

REPO = TOOLS.parent

# ---------------------------------------------------------------- the minutes model
# A section taught in class takes
#   measured run seconds of its code cells / 60
#   + English prose words of its markdown / WORDS_PER_MINUTE     (explained, not read aloud)
#   + SHOWN_CELL_MINUTES per code cell shown and run as it is
#   + LIVE_CELL_MINUTES + code lines / LIVE_LINES_PER_MINUTE per live-coded cell
#   + QUESTION_MINUTES per question asked.
# A path's marks are the running sums over its sections in notebook order, rounded half up to
# whole minutes; a path may not end after its budget.
WORDS_PER_MINUTE = 120
SHOWN_CELL_MINUTES = 0.5
LIVE_CELL_MINUTES = 1.0
LIVE_LINES_PER_MINUTE = 3  # code lines: not blank, not only a comment
QUESTION_MINUTES = 2.0
MAX_QUESTIONS = 3
PATHS = {"90": 90, "45": 45}  # path name -> budget in minutes, in the order the plans show them
LANGUAGES = ("en", "zh")
# Codes every check shares (no dot in the name) are not required in [[misconception]].
MEASURE = "python tools/measure_cells.py"
BUILD = "python tools/lesson_plans.py build"

_HEADING = re.compile(r"^(#{1,2}) \S")
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_CHECK_CALL = re.compile(r"\b(check_\w+)\s*\(")


class PlanError(ValueError):
    """A problem with a plan, its source, its notebook or its timings."""


# ---------------------------------------------------------------- the notebook
@dataclass
class Section:
    """A part of the notebook: its heading (cell, which heading of that cell) and its contents."""

    heading: str
    cell: int
    nth: int
    words: int = 0
    code: list[int] = field(default_factory=list)  # code cells' indices in nb["cells"]


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _markdown_lines(text: str):
    """(line, kind) for each line of Markdown: kind is "heading" (a section's), "fence" (a
    code fence's marker line, not prose) or "text"; a line inside a fence is never a heading."""
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            yield line, "fence"
        else:
            yield line, "heading" if not fenced and _HEADING.match(line) else "text"


def code_lines(source: str) -> int:
    """Lines a live coder types: not blank, not only a comment.

    >>> code_lines("x = 1\\n\\n# why\\nprint(x)  # show it\\n")
    2
    """
    return sum(1 for line in source.splitlines() if line.strip() and
               not line.strip().startswith("#"))


def sections(nb: dict) -> list[Section]:
    """The notebook's sections: one per "# " and "## " heading line, in order."""
    found: list[Section] = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            if found:
                found[-1].code.append(index)
            continue
        if cell["cell_type"] != "markdown":
            continue
        nth = 0
        for line, kind in _markdown_lines(_source(cell)):
            if kind == "heading":
                found.append(Section(line.rstrip(), index, nth))
                nth += 1
            if found and kind != "fence":
                found[-1].words += len(_WORD.findall(re.sub(r"\]\([^)]*\)", "]", line)))
    return found


def zh_heading(zh_nb: dict, section: Section) -> str | None:
    """The Chinese notebook's heading in the same cell, the same place among its headings."""
    if section.cell >= len(zh_nb["cells"]):
        return None
    headings = [line.rstrip() for line, kind in
                _markdown_lines(_source(zh_nb["cells"][section.cell])) if kind == "heading"]
    return headings[section.nth] if section.nth < len(headings) else None


# ---------------------------------------------------------------- minutes
@dataclass(frozen=True)
class Minutes:
    """The parts of one section's time in class, in minutes."""

    run: float
    prose: float
    shown: float
    live: float
    questions: float

    @property
    def total(self) -> float:
        return self.run + self.prose + self.shown + self.live + self.questions


def section_minutes(words: int, cells: list[tuple[int, float, int]], live: list[int],
                    questions: int) -> Minutes:
    """Minutes for a section of `words` prose words, code `cells` (index, seconds, code lines),
    the `live` cells typed in class and `questions` asked.

    >>> m = section_minutes(240, [(3, 30.0, 4), (5, 6.0, 9)], [5], 1)
    >>> (m.run, m.prose, m.shown, m.live, m.questions, m.total)
    (0.6, 2.0, 0.5, 4.0, 2.0, 9.1)
    """
    return Minutes(run=sum(s for _, s, _ in cells) / 60, prose=words / WORDS_PER_MINUTE,
                   shown=SHOWN_CELL_MINUTES * sum(1 for i, _, _ in cells if i not in live),
                   live=sum(LIVE_CELL_MINUTES + n / LIVE_LINES_PER_MINUTE
                            for i, _, n in cells if i in live),
                   questions=QUESTION_MINUTES * questions)


def round_half_up(x: float) -> int:
    """`x` rounded to the nearest integer, halves up (Python's round() takes halves to even).

    >>> [round_half_up(x) for x in (0.5, 1.5, 2.49, 2.5)]
    [1, 2, 2, 3]
    """
    return math.floor(x + 0.5 + 1e-9)


def marks(totals: list[float]) -> list[tuple[int, int]]:
    """(start, end) minute marks of consecutive sections taking `totals` minutes.

    >>> marks([6.4, 3.3, 0.6])
    [(0, 6), (6, 10), (10, 10)]
    """
    ends = [round_half_up(sum(totals[:i + 1])) for i in range(len(totals))]
    return list(zip([0, *ends[:-1]], ends))


# ---------------------------------------------------------------- sources
@dataclass
class Plan:
    """A source read and checked against its notebook, timings and the checks."""

    name: str
    language: str
    source: dict
    sections: list[Section]
    seconds: dict[int, float]
    lines: dict[int, int]
    minutes: list[Minutes]  # per section, as taught
    timings: dict
    problems: list[str]


_SECTION_KEYS = {"heading", "paths", "live_code", "teach", "question"}
_TOP_KEYS = {"notebook", "goal", "prepare", "section", "misconception", "homework"}


def source_path(root: Path, name: str, language: str) -> Path:
    return root / "instructors" / "plans" / ("zh" if language == "zh" else "") / f"{name}.toml"


def plan_path(root: Path, name: str, language: str) -> Path:
    return root / "instructors" / ("zh" if language == "zh" else "") / f"{name}.md"


def lessons(root: Path) -> list[str]:
    """The lesson notebooks' names: notebooks/NN_*.ipynb."""
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _shape(source: dict, where: str) -> list[str]:
    """Problems with the source's keys and types (before anything is compared)."""
    problems = []

    def need(table: dict, key: str, kind: type, at: str, optional: bool = False,
             item: type | None = None) -> None:
        value = table.get(key)
        if key not in table:
            if not optional:
                problems.append(f"{at}: missing key {key!r}")
        elif not isinstance(value, kind) or (item is not None and not all(
                isinstance(x, item) and not isinstance(x, bool) for x in value)):
            what = f"list of {item.__name__}" if item is not None else kind.__name__
            problems.append(f"{at}: {key!r} must be a {what}, got {value!r:.60}")

    for key in sorted(set(source) - _TOP_KEYS):
        problems.append(f"{where}: unknown key {key!r} (keys: {', '.join(sorted(_TOP_KEYS))})")
    for key, kind, item in (("notebook", str, None), ("goal", str, None), ("prepare", list, str),
                            ("section", list, dict), ("misconception", list, dict),
                            ("homework", dict, None)):
        need(source, key, kind, where, optional=key == "misconception", item=item)
    for i, sec in enumerate(source.get("section", []) if isinstance(source.get("section"),
                                                                    list) else []):
        at = f"{where}: [[section]] {i + 1} ({sec.get('heading', '?')!r})"
        for key in sorted(set(sec) - _SECTION_KEYS):
            problems.append(f"{at}: unknown key {key!r} (keys: {', '.join(sorted(_SECTION_KEYS))})")
        need(sec, "heading", str, at)
        need(sec, "paths", list, at, item=str)
        need(sec, "live_code", list, at, optional=True, item=int)
        need(sec, "teach", str, at, optional=not sec.get("paths"))
        need(sec, "question", list, at, optional=True, item=dict)
        for q in sec.get("question", []) if isinstance(sec.get("question"), list) else []:
            for key in ("ask", "answer"):
                if not isinstance(q.get(key), str):
                    problems.append(f"{at}: every [[section.question]] needs {key!r} (a string)")
            for key in sorted(set(q) - {"ask", "answer"}):
                problems.append(f"{at}: unknown key {key!r} in [[section.question]]")
    for i, mis in enumerate(source.get("misconception", []) if isinstance(
            source.get("misconception"), list) else []):
        for key in ("check", "code", "address"):
            if not isinstance(mis.get(key), str):
                problems.append(f"{where}: [[misconception]] {i + 1} needs {key!r} (a string)")
        for key in sorted(set(mis) - {"check", "code", "address"}):
            problems.append(f"{where}: [[misconception]] {i + 1}: unknown key {key!r}")
    homework = source.get("homework")
    if isinstance(homework, dict):
        need(homework, "exercises", list, f"{where}: [homework]", item=str)
        need(homework, "note", str, f"{where}: [homework]")
    return problems


def _structure(source: dict) -> dict:
    """What the two languages' sources must share."""
    return {"notebook": source.get("notebook"),
            "sections": [(s.get("heading"), s.get("paths"), s.get("live_code", []),
                          len(s.get("question", []))) for s in source.get("section", [])],
            "misconceptions": [(m.get("check"), m.get("code"))
                               for m in source.get("misconception", [])],
            "homework": source.get("homework", {}).get("exercises")}


def read_source(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"{path}: not valid TOML: {error}") from None


def load(root: Path, name: str, language: str, *, context: dict | None = None) -> Plan:
    """Read and check one plan source; `context` caches what both languages share."""
    ctx = context if context is not None else {}
    path = source_path(root, name, language)
    where = str(path.relative_to(root))
    source = read_source(path)
    problems = _shape(source, where)
    nb_path = root / "notebooks" / f"{name}.ipynb"
    if source.get("notebook") != name:
        problems.append(f"{where}: notebook = {source.get('notebook')!r}, expected {name!r}")
    if "nb" not in ctx:
        ctx["nb"] = json.loads(nb_path.read_text(encoding="utf-8"))
        ctx["en"] = message_table(root / "course_utils/exercises/messages_en.py")
        ctx["codes"] = wrong_codes(root / "course_utils" / "exercises", ctx["en"])
        ctx["timings"] = _timings(root, name, ctx["nb"])
    nb, english, codes = ctx["nb"], ctx["en"], ctx["codes"]
    timings, stale = ctx["timings"]
    found = sections(nb)
    seconds = {c["index"]: c["seconds"] for c in timings.get("cells", [])}
    lines = {i: code_lines(_source(c)) for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code"}
    if problems:
        return Plan(name, language, source, found, seconds, lines, [], timings, problems + stale)
    if language == "zh":
        en_path = source_path(root, name, "en")
        if not en_path.exists():
            problems.append(f"{where}: no English source {en_path.relative_to(root)}")
        else:
            problems += _compare(_structure(read_source(en_path)), _structure(source), where)
    problems += _sections(source, found, where)
    called = sorted({m for i in lines for m in _CHECK_CALL.findall(_source(nb["cells"][i]))
                     if m in codes})
    problems += _misconceptions(source, called, codes, english, where)
    minutes = []
    if not problems and not stale:
        for sec, entry in zip(found, source["section"]):
            cells = [(i, seconds[i], lines[i]) for i in sec.code]
            minutes.append(section_minutes(sec.words, cells, entry.get("live_code", []),
                                           len(entry.get("question", []))))
        problems += _budgets(source, found, minutes, where)
    problems = stale + problems
    return Plan(name, language, source, found, seconds, lines, minutes, timings, problems)


def _timings(root: Path, name: str, nb: dict) -> tuple[dict, list[str]]:
    path = root / "instructors" / "timings.json"
    if not path.exists():
        return {}, [f"{path.relative_to(root)} is missing: run {MEASURE} {name}"]
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data.get("notebooks", {}).get(name)
    if entry is None:
        return {}, [f"no timings for {name}: run {MEASURE} {name}"]
    measured = {c["index"]: c["hash"] for c in entry.get("cells", [])}
    current = {i: cell_hash(c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"}
    changed = sorted(i for i in set(measured) | set(current) if measured.get(i) != current.get(i))
    entry = {**entry, "machine": data.get("machine", "?")}
    if changed:
        shown = ", ".join(map(str, changed[:8])) + (" …" if len(changed) > 8 else "")
        return entry, [f"timings of {name} are stale (code cells {shown} changed since they "
                       f"were measured {entry.get('measured', '')}): run {MEASURE} {name}"]
    return entry, []


def _compare(en: dict, zh: dict, where: str) -> list[str]:
    problems = []
    for key in ("notebook", "sections", "misconceptions", "homework"):
        if en[key] == zh[key]:
            continue
        if key == "sections" and len(en[key]) == len(zh[key]):
            for a, b in zip(en[key], zh[key]):
                if a != b:
                    problems.append(f"{where}: section {b[0]!r} differs from the English "
                                    f"source (heading, paths, live_code, number of questions): "
                                    f"English {a}, here {b}")
        else:
            problems.append(f"{where}: {key} differ from the English source: English "
                            f"{en[key]!r:.200}, here {zh[key]!r:.200}")
    return problems


def _sections(source: dict, found: list[Section], where: str) -> list[str]:
    problems = []
    headings = [s.heading for s in found]
    given = [s["heading"] for s in source["section"]]
    for h in given:
        if h not in headings:
            problems.append(f"{where}: unknown heading {h!r}: not a '# ' or '## ' heading line "
                            "of the notebook (copy the line exactly)")
    for h in headings:
        if h not in given:
            problems.append(f"{where}: section missing for the notebook's heading {h!r}")
    known = [h for h in given if h in headings]
    if not problems and known != headings:
        for i, (a, b) in enumerate(zip(known, headings)):
            if a != b:
                problems.append(f"{where}: sections out of order: [[section]] {i + 1} is {a!r}, "
                                f"the notebook's heading {i + 1} is {b!r}")
                break
    if problems:
        return problems
    for sec, entry in zip(found, source["section"]):
        at = f"{where}: section {sec.heading!r}"
        for p in entry["paths"]:
            if p not in PATHS:
                problems.append(f"{at}: unknown path {p!r} (paths: {', '.join(PATHS)})")
        for i in entry.get("live_code", []):
            if i not in sec.code:
                problems.append(f"{at}: live_code {i!r} is not a code cell of this section "
                                f"(its code cells: {', '.join(map(str, sec.code)) or 'none'})")
        if len(entry.get("question", [])) > MAX_QUESTIONS:
            problems.append(f"{at}: {len(entry['question'])} questions, at most {MAX_QUESTIONS}")
    for p in PATHS:
        if not any(p in e["paths"] for e in source["section"]):
            problems.append(f"{where}: the {p}-minute path teaches no section")
    return problems


def _misconceptions(source: dict, called: list[str], codes: dict[str, list[str]],
                    english: dict[str, str], where: str) -> list[str]:
    problems, seen = [], set()
    for m in source.get("misconception", []):
        check, code = m["check"], m["code"]
        at = f"{where}: [[misconception]] {check} · {code}"
        if check not in called:
            problems.append(f"{at}: {check} is not called in the notebook "
                            f"(its checks: {', '.join(called)})")
        elif code not in english:
            problems.append(f"{at}: {code!r} is not a result code of "
                            "course_utils/exercises/messages_en.py")
        elif "." in code and code not in codes[check]:
            problems.append(f"{at}: {check} cannot report {code!r} as wrong "
                            f"(it reports: {', '.join(codes[check]) or 'only shared codes'})")
        if (check, code) in seen:
            problems.append(f"{at}: listed twice")
        seen.add((check, code))
    for check in called:
        for code in codes[check]:
            if (check, code) not in seen:
                problems.append(f"{where}: no [[misconception]] for {check} · {code} "
                                f"(\"{english[code]}\")")
    for exercise in source["homework"]["exercises"]:
        if exercise not in called:
            problems.append(f"{where}: homework exercise {exercise!r} is not a check of the "
                            f"notebook (its checks: {', '.join(called)})")
    return problems


def _budgets(source: dict, found: list[Section], minutes: list[Minutes],
             where: str) -> list[str]:
    problems = []
    for path, budget in PATHS.items():
        taught = [(s, m) for s, m, e in zip(found, minutes, source["section"])
                  if path in e["paths"]]
        end = marks([m.total for _, m in taught])[-1][1] if taught else 0
        if end > budget:
            listed = "; ".join(f"{s.heading.lstrip('# ')} {m.total:.1f}" for s, m in taught)
            problems.append(f"{where}: the {path}-minute path takes {end} minutes, "
                            f"{end - budget} over its budget of {budget}; its sections "
                            f"(minutes): {listed}")
    return problems


# ---------------------------------------------------------------- build and check
def run(root: Path, write: bool) -> tuple[list[str], list[str]]:
    """(problems, report lines) for every source present; writes the plans if `write`."""
    from lesson_plan_markdown import render

    problems, report, missing = [], [], []
    for name in lessons(root):
        context: dict = {}
        plans = []
        for language in LANGUAGES:
            path = source_path(root, name, language)
            if not path.exists():
                missing.append(f"no lesson-plan source {path.relative_to(root)}: write it "
                                "(the format: python tools/lesson_plans.py --help)")
                continue
            try:
                plan = load(root, name, language, context=context)
            except PlanError as error:
                problems.append(str(error))
                continue
            problems += plan.problems
            if plan.problems:
                continue
            plans.append(plan)
            text = render(root, plan, context)
            out = plan_path(root, name, language)
            if write:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
            elif not out.exists() or out.read_text(encoding="utf-8") != text:
                problems.append(f"{out.relative_to(root)} is out of date with its source and "
                                f"the timings: run {BUILD}")
        if plans:
            report += _report(plans[0])
    names = set(lessons(root))
    for language in LANGUAGES:
        for path in sorted(source_path(root, "x", language).parent.glob("*.toml")):
            if path.stem not in names:
                problems.append(f"{path.relative_to(root)}: no notebook notebooks/"
                                f"{path.stem}.ipynb (lessons: {', '.join(sorted(names))})")
    if write:  # build makes what it can; check insists on a plan for every notebook
        report += [f"not written yet: {m.split(':')[0].removeprefix('no lesson-plan source ')}"
                   for m in missing]
    else:
        problems += missing
    return list(dict.fromkeys(problems)), report


def _report(plan: Plan) -> list[str]:
    lines = [f"{plan.name}:"]
    for sec, m, e in zip(plan.sections, plan.minutes, plan.source["section"]):
        on = "+".join(e["paths"]) or "reading"
        lines.append(f"  {m.total:5.1f} min  {on:<6} {sec.heading.lstrip('# ')}")
    for path, budget in PATHS.items():
        taught = [m.total for m, e in zip(plan.minutes, plan.source["section"])
                  if path in e["paths"]]
        end = marks(taught)[-1][1]
        lines.append(f"  {path}-minute path: {end} min, {budget - end} left")
    return lines


def main(argv: list[str] | None = None, root: Path = REPO) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("build", "check"))
    args = parser.parse_args(argv)
    problems, report = run(root, write=args.command == "build")
    if args.command == "build":
        print("\n".join(report))
    for problem in problems:
        print(f"✗ {problem}", file=sys.stderr)
    if not problems and args.command == "check":
        print("lesson plans up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
