"""The course website in a real browser: tools/check_site.py opens every page in headless Chromium.

The site is built once for this module with tools/build_site.py into tmp_path, then every page
reachable from the landing page is checked (console errors, requests, links, images, formulas,
diagrams) and screenshotted. A tiny broken site shows the checker finds each kind of fault.
Skipped, with the reason, where Playwright or a Chromium/Chrome executable is missing
(`make setup` installs Debian's chromium where apt-get runs as root).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import check_site  # noqa: E402  (tools/ is not a package)

pytest.importorskip("playwright", reason="Playwright is not installed (pip install -r "
                    "requirements.txt): the website's browser test needs it")
BROWSER = check_site.find_chromium()
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium or Chrome found: `make setup` installs Debian's "
    "chromium where apt-get runs as root; elsewhere install one or set CHROME_PATH")

LESSONS = ("01_tokenization", "02_ngrams_vs_transformers", "03_attention_math",
           "04_sgd_training", "05_gpt2_generation")
FULL_PAGE = "zh/notebooks/01_tokenization.html"
PNG_1x1 = bytes.fromhex(  # a valid 1x1 PNG
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5c7c2f10000000049454e44ae426082")


def _write_site(root: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"<!doctype html><html><head><title>{name}</title></head>"
                                 f"<body>{body}</body></html>", encoding="utf-8")
    (root / "ok.png").write_bytes(PNG_1x1)
    return root


def test_a_clean_tiny_site_has_no_problems(tmp_path):
    site = _write_site(tmp_path / "site", {
        "index.html": '<p id="top">Home <img src="ok.png" alt="dot"> <a href="#top">top</a> '
                      '<a href="sub/">sub</a> <a href="https://example.org/">elsewhere</a></p>',
        "sub/index.html": '<h1 id="here">Sub</h1><a href="../index.html#top">home</a>',
    })
    report = check_site.check_site(site, tmp_path / "shots", browser=BROWSER)
    assert report.problems == []
    assert sorted(report.pages) == ["index.html", "sub/index.html"]
    assert report.external_links == {"https://example.org/"}
    assert report.links_checked == 3
    assert (tmp_path / "shots" / "sub__index.png").stat().st_size > 100


def test_the_checker_finds_every_kind_of_fault(tmp_path, capsys):
    site = _write_site(tmp_path / "site", {
        "index.html": (
            '<a href="page.html">fine</a> <a href="missing.html">gone</a> '
            '<a href="page.html#nowhere">no anchor</a> <img src="absent.png" alt="x"> '
            '<p><span class="math">\\(x^2\\)</span></p>'
            '<script src="https://cdn.example.invalid/lib.js"></script>'
            '<script>console.error("boom")</script>'
            '<script>throw new Error("kaboom")</script>'
            '<div class="mermaid">graph LR; A-->B</div>'),
        "page.html": '<p id="here">Here $$x$$</p>',
    })
    report = check_site.check_site(site, browser=BROWSER, timeout_s=3)
    found = {(p.kind, p.page) for p in report.problems}
    details = "\n".join(map(str, report.problems))
    for kind in ("link", "anchor", "image", "request", "remote", "console", "pageerror",
                 "math", "mermaid"):
        assert (kind, "index.html") in found, f"no {kind} problem found in:\n{details}"
    assert ("math", "page.html") in found  # raw $$ left in the text
    assert "missing.html" in details and "#nowhere" in details and "absent.png" in details
    assert "cdn.example.invalid" in details and "boom" in details and "kaboom" in details


def test_the_command_line_exits_non_zero_on_a_problem(tmp_path, capsys, monkeypatch):
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    report = check_site.SiteReport(pages={"index.html": check_site.PageReport("index.html")})
    monkeypatch.setattr(check_site, "check_site", lambda *args, **kwargs: report)
    assert check_site.main([str(tmp_path)]) == 0
    assert "no problems" in capsys.readouterr().out
    report.problems.append(check_site.Problem("link", "index.html", "no such file: x.html"))
    assert check_site.main([str(tmp_path), "--screenshots", str(tmp_path / "shots")]) == 1
    assert "[link] index.html: no such file: x.html" in capsys.readouterr().out


def test_bad_arguments_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="site_dir .* has no index.html"):
        check_site.check_site(tmp_path)
    assert check_site.main([str(tmp_path)]) == 2
    assert "has no index.html" in capsys.readouterr().err
    stub = tmp_path / "chromium"  # a snap-style stub: on PATH, but it does not start
    stub.write_text("#!/bin/sh\necho 'install the chromium snap' >&2\nexit 1\n")
    stub.chmod(0o755)
    assert not check_site._launches(str(stub))
    assert check_site._launches(BROWSER)


# ---- the real site ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """The course website built once into tmp, checked once: {"dir", "report", "shots"}.
    Whole-page screenshots (seconds each for a long notebook) only where a test looks at one."""
    from build_site import SITE_DIR, build_site  # tools/build_site.py

    js = ("mathjax/es5/tex-chtml.js", "mermaid/dist/mermaid.esm.min.mjs")
    if not all((SITE_DIR / "node_modules" / path).is_file() for path in js):
        pytest.skip("MathJax and Mermaid are not in site/node_modules: `make setup` installs them "
                    "with npm where npm is found (a test never uses the network)")
    out = build_site(tmp_path_factory.mktemp("site") / "out")
    shots = out.parent / "screenshots"
    report = check_site.check_site(out, shots, full_page={FULL_PAGE}, browser=BROWSER)
    print(report.summary())
    return {"dir": out, "report": report, "shots": shots}


def test_every_page_of_the_site_works_in_a_browser(site):
    report = site["report"]
    assert report.problems == [], report.summary(limit=30)
    unreached = {p.relative_to(site["dir"]).as_posix() for p in site["dir"].rglob("*.html")
                 if "_static" not in p.parts} - report.pages.keys()
    assert not {p for p in unreached if not p.endswith("genindex.html")}, \
        f"pages no link reaches: {sorted(unreached)}"


def _page(report, edition: str, *names: str):
    """The one page of `edition` ("en"/"zh") whose path contains every one of `names`."""
    found = [p for path, p in report.pages.items()
             if path.startswith(edition + "/") and all(n in path for n in names)]
    assert len(found) == 1, f"{edition} pages matching {names}: {[p.path for p in found]}"
    return found[0]


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_the_expected_pages_are_there(site, edition):
    report = site["report"]
    for lesson in LESSONS:
        notebook = _page(report, edition, "notebooks", lesson + ".html")
        assert notebook.loaded and notebook.screenshot.is_file()
        _page(report, edition, "instructors", lesson)
    _page(report, edition, "glossary")
    _page(report, edition, "learning")
    assert report.pages["index.html"].loaded


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_formulas_and_diagrams_rendered(site, edition):
    report = site["report"]
    diagram = _page(report, edition, "notebooks", "01_tokenization.html")
    assert diagram.mermaid >= 1 and diagram.mermaid_svg == diagram.mermaid
    attention = _page(report, edition, "notebooks", "03_attention_math.html")
    assert attention.mjx >= 10 and attention.mjx >= attention.math
    assert sum(p.images for p in report.pages.values()) > 0  # the notebooks' plots


def test_chinese_pages_show_chinese(site):
    from PIL import Image

    report = site["report"]
    page = _page(report, "zh", "notebooks", "01_tokenization.html")
    assert page.cjk > 500, f"only {page.cjk} Chinese characters on {page.path}"
    assert _page(report, "en", "notebooks", "01_tokenization.html").cjk < page.cjk / 5
    with Image.open(page.screenshot) as shot:
        colours = shot.convert("L").resize((64, 256)).getcolors(256 * 64)
    assert shot.height > 2000 and len(colours) > 20, "the screenshot is nearly blank"
