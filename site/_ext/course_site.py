"""Sphinx extension for the course website: edition links, notebook downloads.

Reads `_edition.json` (written by tools/build_site.py) next to conf.py and
- gives every page a link to the same page in the other edition (`course_twin_*` in the
  template context, shown by _templates/edition-switch.html), when both editions are built;
- makes the Chinese search work on Sphinx 9.0 (see _ZH_STEMMER_SHIM);
- puts a visible "download the notebook" link under each notebook page's title, and copies the
  repository's notebook, untouched, next to the page's HTML;
- removes the themes' Jinja macro files from _static: they are not pages.
It leaves out everything else a site could do (versions, analytics, comments: none of them).
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx


def _edition(app: Sphinx) -> dict:
    return json.loads((Path(app.confdir) / "_edition.json").read_text(encoding="utf-8"))


def _add_download_link(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    notebooks = _edition(app)["notebooks"]
    if docname not in notebooks:
        return
    filename = Path(notebooks[docname]).name
    para = nodes.paragraph(classes=["course-notebook-download"])
    para += nodes.Text(_edition(app)["labels"]["download"] + " ")
    # `download`: the browser saves the file instead of showing its JSON
    para += nodes.raw("", f'<a class="reference external course-notebook-link" '
                      f'href="{html.escape(filename)}" download>{html.escape(filename)}</a>',
                      format="html")
    para += nodes.Text(" " + _edition(app)["labels"]["download_hint"])
    section = doctree.next_node(nodes.section)
    if section is None:
        doctree.insert(0, para)
        return
    title_at = section.first_child_matching_class(nodes.title)
    section.insert(0 if title_at is None else title_at + 1, para)


def _twin_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    edition = _edition(app)
    other = edition.get("other")
    if not other:
        context["course_twin_url"] = ""
        return
    up = "../" * (pagename.count("/") + 1)  # from this page to the folder above the editions
    # Every edition has its own search and index pages, which are not in the page list.
    target = pagename if pagename in {*other["docs"], "search", "genindex"} else "index"
    context["course_twin_url"] = f"{up}{other['edition']}/{target}.html"
    context["course_twin_label"] = other["label"]
    context["course_twin_lang"] = other["lang"]
    context["course_twin_title"] = other["switch_title"]


def _finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    # The themes copy their Jinja macro files into _static; they are not pages of the site.
    for macros in Path(app.outdir, "_static").glob("*.html"):
        macros.unlink()
    for docname, source in _edition(app)["notebooks"].items():
        target = Path(app.outdir) / Path(docname).parent / Path(source).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


# Sphinx 9.0's Chinese search names a stemmer class, ChineseStemmer, that its language_data.js
# never defines (sphinx-doc/sphinx#14229, fixed after 9.0): searching then fails with a
# ReferenceError. The Chinese search stems Latin words in English, so the English stemmer stands in.
_ZH_STEMMER_SHIM = ("window.ChineseStemmer = window.ChineseStemmer || "
                    "function () { return new EnglishStemmer(); };")


def _search_shim(app: Sphinx) -> None:
    if (app.config.language or "").startswith("zh"):
        app.add_js_file(None, body=_ZH_STEMMER_SHIM)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _search_shim)
    app.connect("doctree-read", _add_download_link)
    app.connect("html-page-context", _twin_link)
    app.connect("build-finished", _finish)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
