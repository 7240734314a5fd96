"""Build the course website, English and Chinese editions, from the committed notebooks.

    python tools/build_site.py [--out DIR] [--edition en] [--edition zh]   (what `make site` runs)

From Python (the browser test does this; or sys.path.insert(0, "tools"); import build_site):

    from tools.build_site import build_site, remote_urls
    site = build_site(Path("_site"), editions=("en", "zh"))   # -> the folder, made or replaced
    assert not remote_urls(site)

The result: DIR/index.html (choose an edition), DIR/en/ and DIR/zh/ (Sphinx + myst-nb with the
sphinx-book-theme, configured in site/conf.py). Pages: home, learning path (taken from
README.md / README.zh.md, so it stays in step), every notebook and solutions notebook (their
stored outputs; nothing is executed; each page links to its .ipynb, copied next to it), the
lesson plans, grading and class challenge pages, and the glossary. Every page links to its twin
in the other edition. Which pages there are, and how the markdown's relative links are rewritten
(to the site's pages; other repository files become downloads), is tools/site_pages.py.

MathJax 3 and Mermaid are served from the site itself: `npm ci --ignore-scripts` installs them
into site/node_modules from site/package-lock.json when they are missing (npm is needed once).
Sphinx runs with -W: any warning fails the build. Nothing is fetched from the network, and a
page that would load a script, style sheet or image from one is an error (`remote_urls`).
Left out: PDF/ePub output, search across both editions at once, versioned sites.

What a browser sees (for a check): serve the folder over HTTP (Mermaid is an ES module, which
browsers refuse to load from file://). Pages: DIR/index.html and every *.html under DIR/en and
DIR/zh (search.html and genindex.html included; _static holds no page). Formulas become
`mjx-container` elements; diagrams are `div.mermaid` that get an `svg` (notebooks 01 and 05);
plots are `img` in `div.cell_output`; `a.course-edition-switch` leads to the twin page and
`p.course-notebook-download a` to the page's .ipynb.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = REPO_ROOT / "site"
MARKER = ".course-site"  # marks an output folder this tool may replace

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from site_pages import EDITIONS, edition_of, page_title, plan_pages, stage_edition  # noqa: E402


def ensure_js(site_dir: Path = SITE_DIR) -> Path:
    """site/node_modules with MathJax and Mermaid, installed by `npm ci` if missing."""
    modules = site_dir / "node_modules"
    wanted = [modules / "mathjax/es5/tex-chtml.js", modules / "mermaid/dist/mermaid.esm.min.mjs"]
    if all(p.is_file() for p in wanted):
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise OSError("npm not found: the site serves MathJax and Mermaid from npm packages. "
                      "Install Node.js and npm (Debian/Ubuntu: sudo apt-get install npm), "
                      "then run make site again.")
    print(f"installing MathJax and Mermaid into {modules} (npm ci)", flush=True)
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=site_dir,
                   check=True)
    return modules


def _copy_js(modules: Path, static: Path) -> None:
    mathjax = modules / "mathjax/es5"
    for part in ("tex-chtml.js", "input", "output/chtml", "ui", "a11y", "adaptors"):
        src, dst = mathjax / part, static / "mathjax" / part
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    mermaid = modules / "mermaid/dist"
    shutil.copytree(mermaid / "chunks/mermaid.esm.min", static / "mermaid/chunks/mermaid.esm.min",
                    ignore=shutil.ignore_patterns("*.map"))
    shutil.copyfile(mermaid / "mermaid.esm.min.mjs", static / "mermaid/mermaid.esm.min.mjs")


_LANDING_CSS = """:root{color-scheme:light dark;--fg:#222832;--bg:#fff;--muted:#5d6a7a;
--card:#f3f4f5;--border:#d1d5da;--primary:#176de8}
@media (prefers-color-scheme:dark){:root{--fg:#ced6dd;--bg:#14181e;--muted:#9ba7b4;
--card:#29313d;--border:#48566b;--primary:#528fe4}}
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","Helvetica Neue",Arial,
"Noto Sans","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Hiragino Sans GB",
"Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;color:var(--fg);background:var(--bg);
max-width:44rem;margin:0 auto;padding:4rem 1.25rem;line-height:1.6}
h1{display:flex;align-items:center;gap:.75rem;margin:0 0 .5rem;font-size:2.2rem}
h1 img{width:2.5rem;height:2.5rem}
.lead{color:var(--muted);margin:0 0 2.5rem;font-size:1.1rem}
ul{list-style:none;padding:0;display:grid;gap:1rem;
grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
a{display:block;height:100%;box-sizing:border-box;padding:1.1rem 1.25rem;color:inherit;
text-decoration:none;background:var(--card);border:1px solid var(--border);
border-left:4px solid var(--primary);border-radius:.4rem}
a:hover,a:focus{border-color:var(--primary)}
a strong{display:block;color:var(--primary);font-size:1.35rem}
a span{display:block;margin-top:.25rem;color:var(--muted)}"""


def _landing(out: Path, built: tuple[str, ...], repo: Path) -> None:
    """DIR/index.html: the course's name in both languages and a card per edition. Styled
    inline in the theme's colours, light or dark as the reader's system prefers."""
    cards = "\n".join(
        f'<li><a href="{c}/index.html" hreflang="{EDITIONS[c].language.replace("_", "-")}" '
        f'lang="{EDITIONS[c].language.replace("_", "-")}"><strong>{EDITIONS[c].label}</strong>'
        f"<span>{html.escape(page_title(repo, EDITIONS[c]))}</span></a></li>" for c in built)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{built[0]}/_static/favicon.svg">
<title>LLM Tokens — 语言模型如何读写文本</title>
<style>{_LANDING_CSS}</style></head>
<body><main>
<h1><img src="{built[0]}/_static/favicon.svg" alt="">LLM Tokens</h1>
<p class="lead">How language models see and produce text.
<span lang="zh-CN">语言模型如何读写文本。</span></p>
<ul>
{cards}
</ul></main></body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} is a file; give a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ValueError(f"out: {out} is not empty and holds no site built by this tool; "
                         "choose an empty or new folder")


def _prepare_out(out: Path) -> None:
    if out.is_dir():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("built by tools/build_site.py; replaced by the next build\n")


def build_site(out: Path, editions: tuple[str, ...] = ("en", "zh"), *, repo: Path = REPO_ROOT,
               strict: bool = True, node_modules: Path | None = None) -> Path:
    """Build the site of `editions` into `out` (replaced if an earlier site); returns `out`.

    `repo`: the course repository to read (a test passes a small one). `strict`: a Sphinx
    warning fails the build (RuntimeError with Sphinx's messages). `node_modules`: where MathJax
    and Mermaid are; default site/node_modules, installed by npm if missing."""
    if isinstance(editions, str) or not editions:
        raise TypeError("editions: give a tuple of edition codes, e.g. ('en', 'zh')")
    built = tuple(dict.fromkeys(edition_of(c).code for c in editions))
    out, repo = Path(out), Path(repo)
    for code in built:
        plan_pages(repo, code)  # a missing README fails here, before anything is written
    _check_out(out)
    modules = ensure_js() if node_modules is None else Path(node_modules)
    _prepare_out(out)
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        all_pages = {}
        for code in built:
            src = Path(tmp) / code
            src.mkdir()
            all_pages[code] = stage_edition(repo, code, built, src)
        for code in built:
            src, ed = Path(tmp) / code, EDITIONS[code]
            shutil.copyfile(SITE_DIR / "conf.py", src / "conf.py")
            for folder in ("_templates", "_static", "_ext", "locales"):
                shutil.copytree(SITE_DIR / folder, src / folder)
            _copy_js(modules, src / "_static")
            others = [c for c in built if c != code]
            other = None
            if others:
                o = EDITIONS[others[0]]
                other = {"edition": o.code, "label": o.label, "lang": o.language.replace("_", "-"),
                         "switch_title": o.words["switch_title"], "docs": list(all_pages[o.code])}
            notebooks = {d: str(repo / p) for d, p in all_pages[code].items()
                         if p.endswith(".ipynb")}
            edition = {"project": page_title(repo, ed), "author": ed.words["author"],
                       "copyright": ed.words["copyright"], "language": ed.language,
                       "labels": ed.words, "other": other, "notebooks": notebooks}
            (src / "_edition.json").write_text(json.dumps(edition, ensure_ascii=False, indent=1),
                                               encoding="utf-8")
            _sphinx(src, out / code, Path(tmp) / f"doctrees-{code}", strict)
    _landing(out, built, repo)
    found = remote_urls(out)
    if found:
        raise RuntimeError(f"the site would load {len(found)} resources from the network, "
                           f"e.g. {found[:3]}")
    return out


def _sphinx(src: Path, out: Path, doctrees: Path, strict: bool) -> None:
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-d", str(doctrees),
           str(src), str(out)] + (["-W", "--keep-going"] if strict else [])
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    messages = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode != 0:
        raise RuntimeError(f"Sphinx failed on {src.name}:\n" + "\n".join(messages[-40:]))
    for line in messages:
        print(line, file=sys.stderr)


class _Resources(HTMLParser):
    """Collects what a page loads by itself: script/img/iframe src, link href."""

    ATTRS = {"script": "src", "img": "src", "iframe": "src", "link": "href", "source": "src",
             "audio": "src", "video": "src", "embed": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        wanted = self.ATTRS.get(tag)
        self.urls += [v for k, v in attrs if v and (k == wanted or k == "srcset")]


def remote_urls(site: Path) -> list[str]:
    """'page: url' for every network URL a page or style sheet of `site` would load."""
    found = []
    remote = re.compile(r"^\s*(https?:)?//", re.I)
    for page in sorted(Path(site).rglob("*.html")):
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        found += [f"{page.relative_to(site)}: {u}" for u in parser.urls if remote.match(u)]
        scripts = re.findall(r"import\s[^;]*?from\s*[\"'](https?:)?//[^\"']*", page.read_text(
            encoding="utf-8", errors="replace"))
        found += [f"{page.relative_to(site)}: module import {s}" for s in scripts]
    for sheet in sorted(Path(site).rglob("*.css")):
        for url in re.findall(r"url\(\s*[\"']?((?:https?:)?//[^)\"']+)", sheet.read_text(
                encoding="utf-8", errors="replace")):
            found.append(f"{sheet.relative_to(site)}: {url}")
    return found


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_site", help="output folder")
    parser.add_argument("--edition", action="append", choices=sorted(EDITIONS),
                        help="build only this edition (repeat for several); default: all")
    parser.add_argument("--no-strict", action="store_true", help="warnings do not fail")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = build_site(args.out, tuple(args.edition or EDITIONS), strict=not args.no_strict)
    seconds = time.perf_counter() - start
    print(f"site built in {seconds:.1f} s: {out / 'index.html'} "
          f"({_size(out) / 1e6:.1f} MB); serve it with: python -m http.server -d {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
