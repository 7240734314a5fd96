"""Sphinx configuration of the course website, one edition per build.

tools/build_site.py copies this file into each edition's generated source folder together with
`_edition.json` (language, page list, the other edition's pages), so the same configuration
builds the English and the Chinese edition. Notebooks are shown with their committed outputs:
nothing is executed. Every script, style sheet and font the pages load is served from the site
itself (MathJax and Mermaid from site/node_modules, installed by npm from package-lock.json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EDITION = json.loads((HERE / "_edition.json").read_text(encoding="utf-8"))
sys.path.insert(0, str(HERE / "_ext"))

project = EDITION["project"]
author = EDITION["author"]
copyright = EDITION["copyright"]
language = EDITION["language"]  # "en" or "zh_CN": the theme's words and the search (jieba for zh)

extensions = ["myst_nb", "sphinxcontrib.mermaid", "course_site"]
root_doc = "index"
# Quotes stay as written: the prose quotes code and regular expressions (' ?\p{L}+').
smartquotes = False
exclude_patterns = ["_build", "_files", "_ext", "_static", "_templates", "_edition.json",
                    "locales"]
templates_path = ["_templates"]  # edition switch; the theme's sidebar buttons, titles translated
# Chinese words for the theme's buttons it leaves in English (locales/zh_CN/.../sphinx.po).
locale_dirs = ["locales"]
html_static_path = ["_static"]
html_css_files = ["course.css"]

# Notebooks are rendered from their stored outputs, never run.
nb_execution_mode = "off"
# No ipywidgets JavaScript (require.js and the widget manager come from a CDN): a widget output
# shows its text instead. The course's widgets are tqdm progress bars.
nb_ipywidgets_js: dict = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# The course writes no footnotes; "[^\s\p{L}]" in a regular expression is not one.
myst_disable_syntax = ["footnote_ref", "footnote_def"]
myst_fence_as_directive = ["mermaid"]  # ```mermaid fences in notebooks become diagrams

# MathJax 3 from the site's own _static folder (copied there from site/node_modules).
mathjax_path = "mathjax/tex-chtml.js"
mermaid_use_local = "mermaid/mermaid.esm.min.mjs"
mermaid_version = ""  # no CDN fallback
mermaid_d3_zoom = False
mermaid_include_elk = False
mermaid_fullscreen = False  # its button is a symbol many fonts lack

html_theme = "sphinx_book_theme"
html_title = EDITION["project"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": True,
    "home_page_in_toc": False,  # the title above the menu leads home
    "show_navbar_depth": 1,
    "article_header_start": ["toggle-primary-sidebar.html", "edition-switch.html"],
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_persistent": [],  # the search field is in the sidebar; one is enough
    "search_bar_text": EDITION["labels"]["search"],  # the theme leaves it in English
}
# Light or dark as the reader's system prefers; without it, the theme logs an error on first visit.
html_context = {"default_mode": "auto"}
html_favicon = "_static/favicon.svg"
html_sidebars = {
    "**": ["navbar-logo.html", "edition-switch.html", "search-button-field.html",
           "sbt-sidebar-nav.html"],
}
