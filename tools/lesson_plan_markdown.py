"""The Markdown of a lesson plan (tools/lesson_plans.py reads and checks; this writes).

One function, `render`, in the plan's language: the labels below are the only words it adds;
everything else comes from the source, the notebooks (headings, live-coded cells), the message
tables (what a learner sees) and the timings. The output depends on nothing else — no dates,
no dict order — so `check` can compare it with the committed file.
"""

from __future__ import annotations

import string
from pathlib import Path

import lesson_plans as lp
from check_codes import message_table

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Lesson plan", "教案"),
    "notebook": ("Notebook: ", "笔记本："),
    "generated": ("Generated from {source} by `{build}`: edit the source, not this file.",
                  "由{source}经`{build}`生成：请修改源文件，不要直接编辑本文件。"),
    "goal": ("Goal", "教学目标"),
    "prepare": ("Before class", "课前准备"),
    "path": ("The {budget}-minute path", "{budget}分钟路线"),
    "minutes": ("Minutes", "时间"),
    "section": ("Section", "小节"),
    "todo": ("What to do", "做什么"),
    "live_cells": ("Live-code cells", "现场编写的单元格"),
    "left": ("Ends at {end} of {budget} minutes: {left} minutes of slack.",
             "在第{end}分钟结束（共{budget}分钟），余量{left}分钟。"),
    "reading": ("Set as reading: {sections}.", "留作课后阅读：{sections}。"),
    "no_reading": ("Nothing is set as reading.", "没有留作阅读的小节。"),
    "explain": ("explain {words} words", "讲解正文（英文版{words}词）"),
    "run": ("run {cells} cell{s} ({seconds} s)", "运行{cells}个单元格（{seconds}秒）"),
    "live": ("live-code {cells}", "现场编写{cells}个"),
    "ask": ("ask {questions}", "提问{questions}个"),
    "sep": (" · ", "，"),
    "list_sep": (", ", "、"),
    "notes": ("Section by section", "逐节说明"),
    "taught_in": ("Taught in the {paths}-minute path{s}", "{paths}分钟路线讲授"),
    "and": (" and ", "和"),
    "as_reading": ("Set as reading", "留作课后阅读"),
    "breakdown": ("{total} min in class: run {run} + prose {prose} + cells shown {shown} + "
                  "live code {live} + questions {questions}",
                  "课上{total}分钟：运行{run} + 讲解{prose} + 演示单元格{shown} + 现场编写{live}"
                  " + 提问{questions}"),
    "breakdown_reading": ("{total} min if taught in class: run {run} + prose {prose} + cells "
                          "shown {shown} + live code {live} + questions {questions}",
                          "若在课上讲授需{total}分钟：运行{run} + 讲解{prose} + 演示单元格{shown}"
                          " + 现场编写{live} + 提问{questions}"),
    "live_cell": ("Live-code cell {cell} ({lines} lines):", "现场编写单元格{cell}（{lines}行）："),
    "questions": ("Questions for the room", "课堂提问"),
    "q": ("Ask:", "问："),
    "a": ("Answer:", "答："),
    "misconceptions": ("Misconceptions the checks detect", "检查函数能识别的误解"),
    "check": ("Check", "检查函数"),
    "code": ("Code", "结果代码"),
    "sees": ("What the learner sees", "学习者看到的提示"),
    "address": ("How to address it", "如何应对"),
    "homework": ("Homework", "课后作业"),
    "exercise_at": ("`{check}` (cell {cell}, {section})", "`{check}`（单元格{cell}，{section}）"),
    "how": ("How the marks are computed.", "时间标记如何计算。"),
    "model": ("A section taught in class takes: the measured run seconds of its code cells ÷ 60 "
              "+ the English prose words of its Markdown ÷ {wpm} + {shown} min per code cell "
              "shown and run as it is + ({live} + code lines ÷ {lpm}) min per live-coded cell "
              "(code lines: not blank, not only a comment) + {question} min per question. A "
              "path's marks are the running sums over its sections in notebook order, rounded "
              "half up to whole minutes. The English and the Chinese plan use the same numbers.",
              "课上讲授的每一节所需时间为：其代码单元格实测运行秒数 ÷ 60 + 其Markdown英文正文词数 ÷ "
              "{wpm} + 每个直接演示运行的代码单元格{shown}分钟 + 每个现场编写的单元格（{live} + "
              "代码行数 ÷ {lpm}）分钟（代码行不计空行和只有注释的行）+ 每个提问{question}分钟。路线的"
              "时间标记是按笔记本顺序对所讲各节累加，四舍五入到整分钟。中英文教案使用相同的数字。"),
    "measured": ("Timings measured on {machine}, {measured}: {code} s in code cells, {wall} s "
                 "with the kernel's start.",
                 "运行时间测于{machine}，{measured}：代码单元格共{code}秒，连同内核启动共{wall}秒。"),
    "regenerate": ("To regenerate after changing the source, the notebook or the timings: "
                   "`{build}` (`python tools/lesson_plans.py check` says what is out of date; "
                   "`{measure} {name}` measures the notebook again).",
                   "修改源文件、笔记本或运行时间之后重新生成：`{build}`（"
                   "`python tools/lesson_plans.py check`会指出哪些已过期；"
                   "`{measure} {name}`重新测量该笔记本）。"),
}


def _label(key: str, language: str, **values: object) -> str:
    text = LABELS[key][0 if language == "en" else 1]
    return text.format(**values) if values else text


def _escape(text: str) -> str:
    """Literal text for a Markdown table cell."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _cell(text: str) -> str:
    """An author's Markdown inside a table cell: one line, no column breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def learner_sees(sentence: str) -> str:
    """A message-table sentence for a table, its {placeholders} shown as ‹placeholder›.

    >>> learner_sees("the pattern gives {expected} chunks, not {count:,}")
    'the pattern gives ‹expected› chunks, not ‹count›'
    """
    parts = []
    for literal, name, _, _ in string.Formatter().parse(sentence):
        parts.append(_escape(literal))
        if name is not None:
            parts.append(f"‹{name}›")
    return "".join(parts)


def _hm(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _number(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x else "0"


def render(root: Path, plan: lp.Plan, context: dict) -> str:
    """The plan's Markdown, in `plan.language`."""
    lang, name, src = plan.language, plan.name, plan.source
    zh = lang == "zh"
    nb = context["nb"]
    if zh:
        if "zh_nb" not in context:
            context["zh_nb"] = lp.json.loads((root / "notebooks" / "zh" / f"{name}.ipynb")
                                             .read_text(encoding="utf-8"))
            context["zh_msgs"] = message_table(root / "course_utils/exercises/messages_zh.py")
        shown_nb, messages = context["zh_nb"], context["zh_msgs"]
    else:
        shown_nb, messages = nb, context["en"]
    headings = [(lp.zh_heading(shown_nb, s) if zh else None) or s.heading for s in plan.sections]
    titles = [h.lstrip("#").strip() for h in headings]
    notebook = f"notebooks/{'zh/' if zh else ''}{name}.ipynb"
    link = ("../../" if zh else "../") + notebook
    sep = _label("sep", lang)
    source_rel = lp.source_path(root, name, lang).relative_to(root).as_posix()
    out = [f"# {_label('title', lang)} · {titles[0]}", "",
           f"{_label('notebook', lang)}[{notebook}]({link})", "",
           _label("generated", lang, source=f"`{source_rel}`", build=lp.BUILD), "",
           f"## {_label('goal', lang)}", "", src["goal"].strip(), "",
           f"## {_label('prepare', lang)}", ""]
    out += [f"- {item.strip()}" for item in src["prepare"]] + [""]
    entries = src["section"]
    for path, budget in lp.PATHS.items():
        taught = [i for i, e in enumerate(entries) if path in e["paths"]]
        spans = lp.marks([plan.minutes[i].total for i in taught])
        out += [f"## {_label('path', lang, budget=budget)}", "",
                f"| {_label('minutes', lang)} | {_label('section', lang)} | "
                f"{_label('todo', lang)} | {_label('live_cells', lang)} |", "|---|---|---|---|"]
        for i, (start, end) in zip(taught, spans):
            sec, entry = plan.sections[i], entries[i]
            live = entry.get("live_code", [])
            todo = [_label("explain", lang, words=sec.words)]
            shown = [c for c in sec.code if c not in live]
            if shown:
                seconds = sum(plan.seconds[c] for c in shown)
                todo.append(_label("run", lang, cells=len(shown), seconds=round(seconds),
                                  s="s" if len(shown) > 1 else ""))
            if live:
                todo.append(_label("live", lang, cells=len(live)))
            if entry.get("question"):
                todo.append(_label("ask", lang, questions=len(entry["question"])))
            cells = _label("list_sep", lang).join(map(str, live)) or "—"
            out.append(f"| {_hm(start)}–{_hm(end)} | {_escape(titles[i])} | {sep.join(todo)} | "
                       f"{cells} |")
        end = spans[-1][1]
        reading = [titles[i] for i, e in enumerate(entries) if path not in e["paths"]]
        out += ["", _label("left", lang, end=end, budget=budget, left=budget - end)]
        out += ["", _label("reading", lang, sections=_label("list_sep", lang).join(reading))
                if reading else _label("no_reading", lang), ""]
    out += [f"## {_label('notes', lang)}", ""]
    for i, (sec, entry) in enumerate(zip(plan.sections, entries)):
        m = plan.minutes[i]
        paths = entry["paths"]
        where = (_label("taught_in", lang, paths=_label("and", lang).join(paths),
                        s="s" if len(paths) > 1 else "") if paths
                 else _label("as_reading", lang))
        kind = "breakdown" if paths else "breakdown_reading"
        numbers = {k: _number(getattr(m, k)) for k in ("run", "prose", "shown", "live",
                                                        "questions")}
        out += [f"### {titles[i]}", "",
                f"*{where}{sep}{_label(kind, lang, total=_number(m.total), **numbers)}*",
                ""]
        if entry.get("teach", "").strip():
            out += [entry["teach"].strip(), ""]
        for cell in entry.get("live_code", []):
            code = lp._source(shown_nb["cells"][cell]).rstrip("\n")
            out += [_label("live_cell", lang, cell=cell, lines=plan.lines[cell]), "",
                    "```python", code, "```", ""]
        if entry.get("question"):
            out += [f"**{_label('questions', lang)}**", ""]
            for n, q in enumerate(entry["question"], 1):
                out += [f"{n}. **{_label('q', lang)}** {' '.join(q['ask'].split())}", "",
                        f"   **{_label('a', lang)}** {' '.join(q['answer'].split())}", ""]
    out += [f"## {_label('misconceptions', lang)}", "",
            f"| {_label('check', lang)} | {_label('code', lang)} | {_label('sees', lang)} | "
            f"{_label('address', lang)} |", "|---|---|---|---|"]
    for mis in src.get("misconception", []):
        out.append(f"| `{mis['check']}` | `{mis['code']}` | "
                   f"{learner_sees(messages.get(mis['code'], context['en'][mis['code']]))} | "
                   f"{_cell(mis['address'])} |")
    out += ["", f"## {_label('homework', lang)}", ""]
    calls = {}
    for sec, title in zip(plan.sections, titles):
        for c in sec.code:
            for check in lp._CHECK_CALL.findall(lp._source(nb["cells"][c])):
                calls.setdefault(check, (c, title))
    for check in src["homework"]["exercises"]:
        cell, title = calls[check]
        out.append("- " + _label("exercise_at", lang, check=check, cell=cell, section=title))
    out += ["", src["homework"]["note"].strip(), "", "---", "",
            f"**{_label('how', lang)}** " + _label(
                "model", lang, wpm=lp.WORDS_PER_MINUTE, shown=lp.SHOWN_CELL_MINUTES,
                live=_number(lp.LIVE_CELL_MINUTES), lpm=lp.LIVE_LINES_PER_MINUTE,
                question=_number(lp.QUESTION_MINUTES)), "",
            _label("measured", lang, machine=plan.timings.get("machine", "?"),
                   measured=plan.timings.get("measured", "?"),
                   code=plan.timings.get("code_seconds", "?"),
                   wall=plan.timings.get("wall_seconds", "?")), "",
            _label("regenerate", lang, build=lp.BUILD, measure=lp.MEASURE, name=name), ""]
    return "\n".join(out)
