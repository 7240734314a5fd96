"""What the course website contains, and its Sphinx source folder for one edition.

tools/build_site.py builds the site; this module decides the pages: `plan_pages` lists them
({docname: repository path}), `stage_edition` writes an edition's source folder: the home page
(README's introduction), the learning path (README's section, so the site stays in step with
it), the notebooks (widget state removed: it would make myst-nb load scripts from a CDN), the
lesson plans and the glossary, with relative links rewritten: to the page they point at (in
this edition, or as a plain link into the other one), to a downloadable copy of a repository
file, or to plain text for a folder. A link to nothing is an error. Notes meant for the
course's maintainers (how a lesson plan is generated, which test checks a rule) are left out.
Left out: reStructuredText sources, images in the markdown that are not repository files.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edition:
    code: str  # folder name in the site
    language: str  # Sphinx language
    label: str  # how a link to this edition reads
    readme: str
    path_heading: str  # README heading of the learning-path section
    notebooks: str
    instructors: str
    challenge: str
    words: dict


EDITIONS = {
    "en": Edition(
        "en", "en", "English", "README.md", "Learning path", "notebooks", "instructors",
        "instructors/challenge/README.md",
        {"course": "Course", "solutions": "Worked solutions", "teaching": "Teaching",
         "download": "Notebook:", "download_hint": "(download it and open it in JupyterLab: "
         "make lab)", "switch_title": "Read this page in English",
         "glossary": "Glossary: the Chinese edition's terms (术语表)",
         "author": "the LLM Tokens course authors",
         "copyright": "the LLM Tokens course authors (MIT licence)", "search": "Search…"},
    ),
    "zh": Edition(
        "zh", "zh_CN", "中文", "README.zh.md", "学习路线", "notebooks/zh", "instructors/zh",
        "instructors/challenge/README.zh.md",
        {"course": "课程", "solutions": "参考答案", "teaching": "教学", "download": "笔记本：",
         "download_hint": "（下载后用JupyterLab打开：make lab）",
         "switch_title": "阅读本页的中文版", "author": "LLM Tokens课程作者",
         "copyright": "LLM Tokens课程作者（MIT许可证）", "search": "搜索…"},
    ),
}
GLOSSARY = "notebooks/zh/GLOSSARY.md"
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")


def edition_of(code: str) -> Edition:
    if code not in EDITIONS:
        raise ValueError(f"editions: unknown edition {code!r}; choose from {sorted(EDITIONS)}")
    return EDITIONS[code]


def plan_pages(repo: Path, code: str) -> dict[str, str]:
    """The pages of one edition: {docname: repository path of its source}, in reading order.

    Generated pages (home, solutions index) have source "" ; the learning path is README.md's."""
    ed, repo = edition_of(code), Path(repo)
    if not (repo / ed.readme).is_file():
        raise OSError(f"repo: {repo / ed.readme} not found; pass the course's repository folder")
    rel = lambda p: p.relative_to(repo).as_posix()  # noqa: E731
    pages = {"index": "", "learning-path": ed.readme}
    for nb in sorted((repo / ed.notebooks).glob("[0-9][0-9]_*.ipynb")):
        pages[f"notebooks/{nb.stem}"] = rel(nb)
    solutions = sorted((repo / ed.notebooks / "solutions").glob("*.ipynb"))
    if solutions:
        pages["solutions/index"] = ""
        pages.update({f"solutions/{nb.stem}": rel(nb) for nb in solutions})
    if (repo / ed.instructors / "README.md").is_file():
        pages["instructors/index"] = f"{ed.instructors}/README.md"
        for plan in sorted((repo / ed.instructors).glob("[0-9][0-9]_*.md")):
            pages[f"instructors/{plan.stem}"] = rel(plan)
        for doc, path in (("grading", f"{ed.instructors}/grading.md"), ("challenge", ed.challenge)):
            if (repo / path).is_file():
                pages[f"instructors/{doc}"] = path
    if (repo / GLOSSARY).is_file():
        pages["glossary"] = GLOSSARY
    return pages


def _link_targets(repo: Path, code: str, built: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """{repository path (folders end in /): (edition, docname)}; this edition's pages win.

    Editions not in `built` are included too: a link into one of them becomes its text."""
    targets: dict[str, tuple[str, str]] = {}
    present = [c for c in EDITIONS if c in built or (repo / EDITIONS[c].readme).is_file()]
    for other in sorted(present, key=lambda c: c == code):
        ed = EDITIONS[other]
        for doc, path in plan_pages(repo, other).items():
            if path and doc != "learning-path":
                targets[path] = (other, doc)
        targets[ed.readme] = (other, "index")
        targets[ed.notebooks + "/"] = (other, "index")
        targets[ed.notebooks + "/solutions/"] = (other, "solutions/index")
    return targets


def _rewrite_links(text: str, source: str, doc: str, ctx: dict) -> str:
    """Markdown links of `source` (a repository path), rewritten for page `doc` of the site."""

    def fix(m: re.Match) -> str:
        bang, label, url = m.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("#"):
            return m.group(0)
        path, _, frag = url.partition("#")
        full = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        key = full + "/" if path.endswith("/") or (ctx["repo"] / full).is_dir() else full
        anchor = f"#{frag}" if frag else ""
        if key in ctx["targets"] and not bang:
            code, target = ctx["targets"][key]
            if code == ctx["code"]:
                suffix = ".ipynb" if ctx["pages"][target].endswith(".ipynb") else ".md"
                rel = posixpath.relpath(target + suffix, posixpath.dirname(doc) or ".")
                if label.strip("`") == full:  # a file's path as its name: the page's title
                    label = ""  # (MyST writes the title of the page an empty link leads to)
                return f"[{label}]({rel}{anchor})"
            if code not in ctx["built"]:
                return label  # the other edition is not part of this build
            up = "../" * (doc.count("/") + 1)
            return f'<a href="{up}{code}/{target}.html{anchor}">{label}</a>'
        if (ctx["repo"] / full).is_file():  # a repository file: a download (or an image)
            copy = ctx["src"] / "_files" / full
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ctx["repo"] / full, copy)
            rel = posixpath.relpath(f"_files/{full}", posixpath.dirname(doc) or ".")
            return f"{bang}[{label}]({rel})"
        if key.endswith("/") and (ctx["repo"] / full).is_dir():
            return label  # a folder of the repository: its name stays, as text
        raise ValueError(f"{source}: link {url!r} points to nothing in the repository; fix it")

    return _LINK.sub(fix, text)


_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def _no_formulas(text: str) -> str:
    """Escape $ outside code: the repository's markdown pages hold prices and regular
    expressions ("$1,000", "$)"), never formulas, which only the notebooks write."""
    parts = _CODE.split(text)
    return "".join(p if i % 2 else p.replace("$", "\\$") for i, p in enumerate(parts))


# Notes for the course's maintainers that a reader of the website should not see: how a
# generated page is made, which test checks a rule, a section of the README the site lacks.
_MAINTAINER_NOTES = (
    re.compile(r"^(Generated from |由)`instructors/plans/[^`]+`.*lesson_plans\.py build.*\n\n?",
               re.M),
    re.compile(r"^(To regenerate after|修改源文件、笔记本或运行时间之后重新生成)[^\n]*"
               r"lesson_plans\.py build[^\n]*\n?", re.M),
    re.compile(r"；`tests/[^`]+`[^。\n]*(?=。)"),
    re.compile(r" \(see \*Contributing\* below\)"),
)


def _for_readers(text: str) -> str:
    """`text` without the notes meant for the course's maintainers (_MAINTAINER_NOTES)."""
    for note in _MAINTAINER_NOTES:
        text = note.sub("", text)
    return text


_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _cjk_bold(text: str) -> str:
    """Bold that ends in punctuation right before a letter ("**适合谁：**会") stays bold.

    CommonMark does not close `**` there (Chinese puts no space after it), so the reader would
    see the asterisks; a hair space (U+200A) after the closing `**` lets it close."""

    def fix(m: re.Match) -> str:
        after = m.string[m.end():m.end() + 1]
        if _is_punct(m.group(1)[-1]) and after and not after.isspace() and not _is_punct(after):
            return m.group(0) + "\u200a"
        return m.group(0)

    parts = _CODE.split(text)
    return "".join(p if i % 2 else _BOLD.sub(fix, p) for i, p in enumerate(parts))


def _markdown_page(path: Path) -> str:
    """A markdown file as the site shows it: no maintainers' notes, `$` as text, CJK bold fixed."""
    return _cjk_bold(_no_formulas(_for_readers(path.read_text(encoding="utf-8"))))


def _section(text: str, heading: str, source: str) -> tuple[str, str]:
    """(intro before the first ## heading, the `## heading` section) of a README."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise ValueError(f"{source}: no '## {heading}' section; the learning path comes from it")
    intro = text.split("\n## ", 1)[0]
    body = match.group(1).strip("\n")
    if "```" in body or re.search(r"^#", body, re.M):
        return intro, f"# {heading}\n\n{body}\n"
    # in a container, so that course.css keeps the table's times on one line
    return intro, f"# {heading}\n\n````{{container}} course-learning-path\n{body}\n````\n"


def _toctree(entries: list[str], caption: str = "", hidden: bool = False) -> str:
    opts = (f":caption: {caption}\n" if caption else "") + (":hidden:\n" if hidden else "")
    return "```{toctree}\n:maxdepth: 1\n" + opts + "\n" + "\n".join(entries) + "\n```\n"


def stage_edition(repo: Path, code: str, built: tuple[str, ...], src: Path) -> dict[str, str]:
    """Write the Sphinx source folder of one edition; returns its pages."""
    ed, pages = EDITIONS[code], plan_pages(repo, code)
    ctx = {"repo": repo, "code": code, "pages": pages, "src": src, "built": built,
           "targets": _link_targets(repo, code, built)}
    words = ed.words
    readme = _markdown_page(repo / ed.readme)
    intro, path_section = _section(readme, ed.path_heading, ed.readme)
    docs = list(pages)
    course = ["learning-path"] + [d for d in docs if d.startswith("notebooks/")]
    course += ["solutions/index"] if "solutions/index" in pages else []
    home = _rewrite_links(intro, ed.readme, "index", ctx) + "\n" + _toctree(course, words["course"])
    teaching = [d for d in ("instructors/index", "glossary") if d in pages]
    if "glossary" in pages and words.get("glossary"):  # the glossary is written in Chinese
        teaching[-1] = f"{words['glossary']} <glossary>"
    home += _toctree(teaching, words["teaching"]) if teaching else ""
    (src / "index.md").write_text(home, encoding="utf-8")
    (src / "learning-path.md").write_text(
        _rewrite_links(path_section, ed.readme, "learning-path", ctx), encoding="utf-8")
    for doc, path in pages.items():
        target = src / (doc + Path(path).suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith(".ipynb"):
            notebook = json.loads((repo / path).read_text(encoding="utf-8"))
            notebook["metadata"].pop("widgets", None)  # widget state would pull in CDN scripts
            for cell in notebook["cells"]:
                if cell["cell_type"] == "markdown":
                    cell["source"] = _cjk_bold("".join(cell["source"]))
            target.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
        elif path and doc != "learning-path":
            text = _markdown_page(repo / path)
            text = _rewrite_links(text, path, doc, ctx)
            if doc == "instructors/index":
                rest = [d.split("/", 1)[1] for d in docs if d.startswith("instructors/")][1:]
                text += "\n" + _toctree(rest, hidden=True)
            target.write_text(text, encoding="utf-8")
    if "solutions/index" in pages:
        entries = [d.split("/", 1)[1] for d in docs if d.startswith("solutions/")][1:]
        (src / "solutions/index.md").write_text(
            f"# {words['solutions']}\n\n" + _toctree(entries), encoding="utf-8")
    return pages


def page_title(repo: Path, ed: Edition) -> str:
    """The README's first heading: the site's title."""
    first = (repo / ed.readme).read_text(encoding="utf-8").lstrip().splitlines()[0]
    return first.lstrip("# ").strip()
