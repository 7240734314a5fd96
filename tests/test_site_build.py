"""The website builder, without a browser: its page list, a tiny two-edition build, its errors.

The full site (every notebook of both editions) is built and opened in Chromium by
test_site_browser.py; here a fixture course of one notebook per edition is built in a few
seconds, with stand-in MathJax and Mermaid files, so no npm and no network are needed.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import build_site  # noqa: E402
import site_pages  # noqa: E402

# A 1×1 PNG, as a notebook stores a plot.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
    "hKmMIQAAAABJRU5ErkJggg=="
)


def test_every_notebook_lesson_plan_and_the_glossary_is_a_page():
    for code, nb_dir, plans in (("en", "notebooks", "instructors"),
                                ("zh", "notebooks/zh", "instructors/zh")):
        sources = set(site_pages.plan_pages(REPO, code).values())
        notebooks = {p.relative_to(REPO).as_posix() for p in (REPO / nb_dir).glob("*.ipynb")}
        notebooks |= {p.relative_to(REPO).as_posix()
                      for p in (REPO / nb_dir / "solutions").glob("*.ipynb")}
        assert len(notebooks) == 10, notebooks
        assert notebooks <= sources, notebooks - sources
        lesson_docs = {p.relative_to(REPO).as_posix() for p in (REPO / plans).glob("*.md")}
        assert lesson_docs <= sources, lesson_docs - sources  # plans, README, grading
        assert site_pages.GLOSSARY in sources
        assert site_pages.EDITIONS[code].challenge in sources
    # every page has its twin in the other edition
    assert list(site_pages.plan_pages(REPO, "en")) == list(site_pages.plan_pages(REPO, "zh"))


def test_learning_path_is_the_readmes_section_and_links_every_notebook():
    for code in ("en", "zh"):
        ed = site_pages.EDITIONS[code]
        readme = (REPO / ed.readme).read_text(encoding="utf-8")
        _, section = site_pages._section(readme, ed.path_heading, ed.readme)
        linked = set(re.findall(r"\]\(([^)]+\.ipynb)\)", section))
        assert linked == {p.relative_to(REPO).as_posix()
                          for p in (REPO / ed.notebooks).glob("[0-9][0-9]_*.ipynb")}


def test_js_versions_are_pinned_in_the_lock_file():
    package = json.loads((REPO / "site/package.json").read_text(encoding="utf-8"))
    lock = json.loads((REPO / "site/package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert package["dependencies"]["mathjax"].startswith("3.")  # es5/tex-chtml.js layout


def _notebook(title: str, words: str) -> dict:
    widget = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source":
         f"# {title}\n\n{words}: $a^2 + b^2$ and\n\n$$\\sum_i x_i$$\n\n## Part one\n"},
        {"cell_type": "markdown", "metadata": {}, "source":
         "```mermaid\nflowchart LR\n  A[文本] --> B[词元]\n```\n"},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "plot()",
         "outputs": [
             {"output_type": "display_data", "metadata": {},
              "data": {"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}},
             {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": widget,
                       "text/plain": "progress 100%"}},
         ]},
    ]
    model = {"model_name": "FloatProgressModel", "model_module": "@jupyter-widgets/controls",
             "model_module_version": "2.0.0", "state": {"value": 100}}
    state = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": model},
                                                           "version_major": 2,
                                                           "version_minor": 0}}
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}, "widgets": state}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _fixture_course(root: Path) -> Path:
    _write(root / "README.md", "# Demo course\n\nEnglish | [中文](README.zh.md)\n\n"
           "## Learning path\n\n| # | notebook |\n|---|---|\n"
           "| 01 | [`01_demo`](notebooks/01_demo.ipynb) |\n\n"
           "Solutions: [`notebooks/solutions/`](notebooks/solutions/).\n\n## Other\n\nx\n")
    _write(root / "README.zh.md", "# 演示课程\n\n[English](README.md) | 中文\n\n**适合谁：**会Python。\n\n"
           "## 学习路线\n\n见[`01_demo`](notebooks/zh/01_demo.ipynb)和"
           "[术语表](notebooks/zh/GLOSSARY.md)。\n")
    for nb_dir, title, words in (("notebooks", "01 · Demo", "Math"),
                                 ("notebooks/zh", "01 · 演示", "公式")):
        _write(root / nb_dir / "01_demo.ipynb", json.dumps(_notebook(title, words)))
        _write(root / nb_dir / "solutions/01_demo_solutions.ipynb",
               json.dumps(_notebook(title + " solutions", words)))
    _write(root / "instructors/README.md", "# For instructors\n\n[中文](zh/README.md) · "
           "[README](../README.md) · [timings](timings.json) · [`plans/`](plans/) · "
           "[plan 01](01_demo.md)\n")
    _write(root / "instructors/01_demo.md", "# Plan 01\n\n[notebook](../notebooks/01_demo.ipynb)"
           " · [section](../notebooks/01_demo.ipynb#part-one)\n\n"
           "Generated from `instructors/plans/01_demo.toml` by `python tools/lesson_plans.py "
           "build`: edit the source, not this file.\n\n"
           "To regenerate after changing the source: `python tools/lesson_plans.py build`.\n\n"
           "| case | hint |\n|---|---|\n"
           "| `$` | '$1,000' kept whole; for \" $1,000\" it takes ' $' |\n")
    _write(root / "instructors/zh/README.md", "# 教师指南\n\n[English](../README.md)\n")
    _write(root / "instructors/zh/01_demo.md",
           "# 教案01\n\n笔记本：[notebooks/zh/01_demo.ipynb](../../notebooks/zh/01_demo.ipynb)\n\n"
           "由`instructors/plans/zh/01_demo.toml`经`python tools/lesson_plans.py build`生成："
           "请修改源文件，不要直接编辑本文件。\n\n## 目标\n\n手算。\n")
    _write(root / "instructors/timings.json", "{}\n")
    (root / "instructors/plans").mkdir()
    _write(root / site_pages.GLOSSARY, "# 术语表\n\n| English | 中文 |\n|---|---|\n| token | 词元 |\n")
    return root


def _fake_node_modules(root: Path) -> Path:
    """Stand-ins for the npm packages, laid out as build_site copies them."""
    for part in ("mathjax/es5/tex-chtml.js", "mathjax/es5/input/tex/x.js",
                 "mathjax/es5/output/chtml/x.js", "mathjax/es5/ui/menu.js",
                 "mathjax/es5/a11y/x.js", "mathjax/es5/adaptors/x.js",
                 "mermaid/dist/mermaid.esm.min.mjs",
                 "mermaid/dist/chunks/mermaid.esm.min/chunk.mjs"):
        _write(root / part, "// stand-in\n")
    return root


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    repo = _fixture_course(tmp / "repo")
    return build_site.build_site(tmp / "out", ("en", "zh"), repo=repo,
                                 node_modules=_fake_node_modules(tmp / "node_modules"))


def test_tiny_build_has_both_editions_and_their_pages(tiny_site):
    assert '<a href="en/index.html"' in (tiny_site / "index.html").read_text(encoding="utf-8")
    for code in ("en", "zh"):
        for page in ("index", "learning-path", "notebooks/01_demo", "solutions/index",
                     "solutions/01_demo_solutions", "instructors/index", "instructors/01_demo",
                     "glossary", "search"):
            assert (tiny_site / code / f"{page}.html").is_file(), (code, page)
    zh = (tiny_site / "zh/notebooks/01_demo.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in zh and "演示" in zh
    home = (tiny_site / "en/index.html").read_text(encoding="utf-8")
    assert re.search(r"<title>Demo course</title>", home)  # the course's name once


def test_tiny_build_renders_math_mermaid_and_plots_from_local_files(tiny_site):
    page = (tiny_site / "en/notebooks/01_demo.html").read_text(encoding="utf-8")
    assert 'class="math' in page and "a^2 + b^2" in page
    assert re.search(r'src="\.\./_static/mathjax/tex-chtml\.js', page)
    assert 'class="mermaid' in page and "flowchart LR" in page
    assert 'import mermaid from "../_static/mermaid/mermaid.esm.min.mjs"' in page
    assert (tiny_site / "en/_static/mermaid/chunks/mermaid.esm.min/chunk.mjs").is_file()
    images = re.findall(r'<img[^>]*src="\.\./(_images/[^"]+\.png)"', page)
    assert images and all((tiny_site / "en" / img).read_bytes() == PNG for img in images)
    assert "progress 100%" in page  # the widget's text, not the widget
    assert "require.js" not in page and "html-manager" not in page
    assert build_site.remote_urls(tiny_site) == []


def test_tiny_build_links_twins_downloads_and_rewritten_links(tiny_site, tmp_path):
    page = (tiny_site / "en/notebooks/01_demo.html").read_text(encoding="utf-8")
    assert 'class="course-edition-switch" href="../../zh/notebooks/01_demo.html"' in page
    search = (tiny_site / "zh/search.html").read_text(encoding="utf-8")
    assert 'class="course-edition-switch" href="../en/search.html"' in search
    assert 'href="01_demo.ipynb" download>' in page
    copied = json.loads((tiny_site / "en/notebooks/01_demo.ipynb").read_text(encoding="utf-8"))
    assert "widgets" in copied["metadata"]  # the repository's file, untouched
    plans = (tiny_site / "en/instructors/index.html").read_text(encoding="utf-8")
    assert 'href="../../zh/instructors/index.html"' in plans
    assert 'href="../index.html"' in plans and "<code" in plans and "plans/" in plans
    assert re.search(r'href="\.\./_downloads/[0-9a-f]+/timings\.json"', plans)
    lesson = (tiny_site / "en/instructors/01_demo.html").read_text(encoding="utf-8")
    assert 'href="../notebooks/01_demo.html"' in lesson
    assert 'href="../notebooks/01_demo.html#part-one"' in lesson
    assert 'class="math' not in lesson and "'$1,000' kept whole" in lesson  # money, no formula
    path_zh = (tiny_site / "zh/learning-path.html").read_text(encoding="utf-8")
    assert 'href="notebooks/01_demo.html"' in path_zh and 'href="glossary.html"' in path_zh


def test_remote_urls_finds_what_a_page_would_fetch(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/p.html").write_text(
        '<script src="https://cdn.example/x.js"></script><link href="//fonts.example/f.css">'
        '<img src="http://example/i.png"><a href="https://example/read-more">ok</a>'
        '<img src="../_images/local.png"><script type="module">import m from '
        '"https://cdn.example/m.mjs";</script>', encoding="utf-8")
    (tmp_path / "s.css").write_text("@font-face{src:url(https://fonts.example/a.woff2)}")
    found = build_site.remote_urls(tmp_path)
    assert len(found) == 5, found
    assert not any("read-more" in f or "local.png" in f for f in found)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="editions: unknown edition 'fr'"):
        build_site.build_site(tmp_path / "out", ("fr",))
    with pytest.raises(TypeError, match="editions"):
        build_site.build_site(tmp_path / "out", "en")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="out: .* is a file"):
        build_site.build_site(tmp_path / "file", ("en",))
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        build_site.build_site(tmp_path / "full", ("en",))
    assert (tmp_path / "full/keep.txt").read_text() == "mine"
    with pytest.raises(OSError, match="README.md not found"):
        build_site.build_site(tmp_path / "out", ("en",), repo=tmp_path / "nowhere")


def test_a_link_to_nothing_is_an_error(tmp_path):
    repo = _fixture_course(tmp_path / "repo")
    _write(repo / "instructors/01_demo.md", "# Plan\n\n[gone](../notebooks/99_gone.ipynb)\n")
    with pytest.raises(ValueError, match=r"instructors/01_demo\.md: link .*99_gone"):
        build_site.build_site(tmp_path / "out", ("en",), repo=repo,
                              node_modules=_fake_node_modules(tmp_path / "nm"))


def test_without_npm_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(build_site.shutil, "which", lambda name: None)
    with pytest.raises(OSError, match="npm not found.*apt-get install npm"):
        build_site.ensure_js(tmp_path)


def test_make_site_runs_the_builder(tmp_path):
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^site: (.*)\n\t(.*)$", makefile, re.M)
    assert rule and "setup" in rule.group(1).split()
    assert "tools/build_site.py" in rule.group(2)
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert "_site/" in ignored and "site/node_modules/" in ignored


def test_one_edition_alone_turns_links_into_the_other_into_text(tmp_path):
    repo = _fixture_course(tmp_path / "repo")
    site = build_site.build_site(tmp_path / "out", ("en",), repo=repo,
                                 node_modules=_fake_node_modules(tmp_path / "nm"))
    assert not (site / "zh").exists()
    home = (site / "en/index.html").read_text(encoding="utf-8")
    assert "中文" in home and "zh/" not in home and "README.zh" not in home
    assert "course-edition-switch" not in home
    assert build_site.remote_urls(site) == []


def test_readers_see_no_notes_for_maintainers_and_chinese_pages_no_english_chrome(tiny_site):
    for code, plan in (("en", "instructors/01_demo"), ("zh", "instructors/01_demo")):
        lesson = (tiny_site / code / f"{plan}.html").read_text(encoding="utf-8")
        assert "lesson_plans.py" not in lesson and "plans/" not in lesson, code
    lesson_zh = (tiny_site / "zh/instructors/01_demo.html").read_text(encoding="utf-8")
    assert "手算" in lesson_zh  # the text after the note is kept
    # a link named by the notebook's path reads as the notebook's title
    assert re.search(r'href="\.\./notebooks/01_demo\.html"><span[^>]*>01 · 演示<', lesson_zh)
    zh = (tiny_site / "zh/index.html").read_text(encoding="utf-8")
    assert "<strong>适合谁：</strong>" in zh  # bold that ends in a full-width colon
    assert "Search..." not in zh and "MIT licence" not in zh and "LLM Tokens课程作者" in zh
    page_zh = (tiny_site / "zh/notebooks/01_demo.html").read_text(encoding="utf-8")
    assert 'title="显示或隐藏导航栏"' in page_zh and 'title="颜色模式"' in page_zh
    assert "Toggle primary sidebar" in (tiny_site / "en/index.html").read_text(encoding="utf-8")
    landing = (tiny_site / "index.html").read_text(encoding="utf-8")
    assert "<style>" in landing and "Demo course" in landing and "演示课程" in landing
