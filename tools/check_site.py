"""Open every page of the built course website in headless Chromium and report what is broken.

    python tools/check_site.py SITE_DIR [--screenshots DIR] [--first-screen] [--browser PATH]

The site folder is served on 127.0.0.1 (a free port, http.server in a thread). From index.html,
every internal HTML page a link or form reaches is opened in the system's Chromium, driven by
Playwright (which downloads no browser: it is given the executable). The report lists, by page:
console errors and uncaught exceptions, requests answered 4xx/5xx or failed, any request to
another host (blocked: the site must work offline), internal links whose file or #anchor does
not exist, images that did not load, formulas MathJax did not typeset (a `.math` element without
mjx-container, raw `$$`/`\\(` left in the text, MathJax error nodes) and Mermaid diagrams that
did not render (no <svg>, "Syntax error", a ```mermaid block left as code). A PNG of every page
(whole, or its first screen with --first-screen) goes to the screenshots folder.

Left out: links to other hosts are counted, never fetched; diagrams inside closed elements
(Mermaid renders those only when opened) are counted, not checked; fonts are not judged (a
machine without a CJK font shows boxes for Chinese: look at the screenshots).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# --disable-background-networking and friends: Chromium's own calls home (updates, sync,
# field trials) would otherwise be refused by an offline machine and log errors. No host name
# but the local server's resolves: a page's request to another host is reported, and fails at
# once. (Playwright's request routing would do it too, but turns the browser's cache off.)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
MIME_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".woff2": "font/woff2"}

# Everything checked after the page has loaded and its scripts have finished, in one call.
_INSPECT_JS = r"""() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, kbd, samp';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tex = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$\\[A-Za-z]/;
  for (let n = walker.nextNode(); n && raw.length < 5; n = walker.nextNode()) {
    if (tex.test(n.data) && !n.parentElement.closest(skip))
      raw.push('raw TeX left in the text: ' + JSON.stringify(n.data.trim().slice(0, 80)));
  }
  const all = selector => [...document.querySelectorAll(selector)];
  const math = all('span.math, div.math'), mermaid = all('.mermaid');
  return {
    math: math.length,
    mathUntypeset: math.filter(e => !e.querySelector('mjx-container')).length,
    mjx: all('mjx-container').length,
    mathProblems: raw.concat(all('mjx-merror, [data-mjx-error]').map(e => 'MathJax error: '
      + (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80))),
    mermaid: mermaid.length, mermaidSvg: mermaid.filter(e => e.querySelector('svg')).length,
    mermaidHidden: mermaid.filter(e => e.hasAttribute('data-mermaid-deferred')).length,
    mermaidErrors: mermaid.filter(e => /Syntax error|Parse error/.test(e.textContent)
      || e.hasAttribute('data-mermaid-render-failed')).length,
    mermaidAsCode: all('div.highlight-mermaid, code.language-mermaid, pre.language-mermaid')
      .length,
    links: all('a[href]').map(a => a.href).concat(all('form[action]').map(f => f.action)),
    ids: all('[id]').map(e => e.id).concat(all('a[name]').map(a => a.name)),
    cjk: (document.body.innerText.match(/[\u4e00-\u9fff]/g) || []).length,
  };
}"""
# Lazy images are made eager; an image is broken when it cannot be decoded and has no size.
_IMAGES_JS = r"""async (ms) => {
  const bad = [], imgs = [...document.images];
  await Promise.all(imgs.map(async img => {
    img.loading = 'eager';
    const late = new Promise((_, no) => setTimeout(() => no(new Error('timeout')), ms));
    try { await Promise.race([img.decode(), late]); }
    catch (e) { if (img.naturalWidth === 0) bad.push(img.getAttribute('src') || '(no src)'); }
  }));
  return {count: imgs.length, bad};
}"""
_MATHJAX_JS = r"""async (ms) => Promise.race([MathJax.startup.promise.then(() => ''),
  new Promise(done => setTimeout(() => done('MathJax did not finish in time'), ms))])"""
# Is there math for MathJax, a diagram for Mermaid, on this page, and the script to render it?
_SCRIPTS_JS = r"""() => ({mathjax: !!window.MathJax && !!document.querySelector('.math'),
  mermaid: [...document.scripts].some(s => /mermaid/i.test(s.src + s.text.slice(0, 300)))
    && !!document.querySelector('.mermaid')})"""
_MERMAID_DONE_JS = r"""() => [...document.querySelectorAll('.mermaid')].every(e =>
  e.querySelector('svg') || e.matches('[data-mermaid-deferred], [data-mermaid-render-failed]'))"""


@dataclass(frozen=True)
class Problem:
    kind: str  # console, pageerror, request, remote, link, anchor, image, math, mermaid, load
    page: str  # the page's path in the site, e.g. "en/notebooks/01_tokenization.html"
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.page}: {self.detail}"


@dataclass
class PageReport:
    path: str  # in the site, e.g. "en/index.html"
    loaded: bool = False  # opened and inspected (False: a load problem is reported)
    screenshot: Path | None = None
    math: int = 0  # Sphinx's .math elements
    mjx: int = 0  # MathJax's rendered formulas
    mermaid: int = 0
    mermaid_svg: int = 0
    images: int = 0
    cjk: int = 0  # Chinese characters in the visible text
    ids: set[str] = field(default_factory=set)  # the #anchors a link may name


@dataclass
class SiteReport:
    pages: dict[str, PageReport] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    links_checked: int = 0
    external_links: set[str] = field(default_factory=set)

    def summary(self, limit: int = 10) -> str:
        """What was checked, then the problems by kind (at most `limit` of each shown)."""
        total = lambda name: sum(getattr(p, name) for p in self.pages.values())  # noqa: E731
        lines = [f"{len(self.pages)} pages, {self.links_checked} internal links checked, "
                 f"{len(self.external_links)} links to other sites (not fetched), "
                 f"{total('mjx')} formulas, {total('mermaid_svg')} diagrams, "
                 f"{total('images')} images"]
        for kind in sorted({p.kind for p in self.problems}):
            problems = [p for p in self.problems if p.kind == kind]
            lines.append(f"{kind}: {len(problems)} problem(s)")
            lines += [f"  {p}" for p in problems[:limit]]
            if len(problems) > limit:
                lines.append(f"  ... and {len(problems) - limit} more")
        lines.append("no problems" if not self.problems else f"{len(self.problems)} problems")
        return "\n".join(lines)


def _launches(path: str) -> bool:
    """True when `path --version` runs (a snap stub or a broken install does not)."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "chrom" in out.stdout.lower()


def find_chromium() -> str | None:
    """$CHROME_PATH, $CHROMIUM_PATH or the first of BROWSER_NAMES on PATH that starts, or None."""
    candidates = [os.environ.get(v, "") for v in ("CHROME_PATH", "CHROMIUM_PATH")]
    candidates += [shutil.which(name) or "" for name in BROWSER_NAMES]
    return next((c for c in candidates if c and _launches(c)), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib's name)
        """Quiet: the report says what failed."""


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve `site_dir` on 127.0.0.1 at a free port; yields the base URL ("http://.../")."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _target_file(site_dir: Path, url_path: str) -> Path | None:
    """The file a URL path names in the site (a folder means its index.html), or None."""
    target = (site_dir / unquote(url_path).lstrip("/")).resolve()
    if target.is_dir():
        target = target / "index.html"
    inside = target == site_dir or site_dir in target.parents
    return target if inside and target.is_file() else None


class _Crawl:
    """One run over a served site: opens pages in `context` and fills `report`."""

    def __init__(self, context, base: str, site: Path, shots: Path | None,
                 full_page: bool | Collection[str], timeout_s: float) -> None:
        self.context, self.base, self.site, self.shots = context, base, site, shots
        self.ms, self.report = int(timeout_s * 1000), SiteReport()
        self.full_page = (lambda path: full_page) if isinstance(full_page, bool) \
            else lambda path: path in full_page

    def page(self, path: str) -> list[str]:
        """Open one page, record its problems and facts; returns the URLs it links to."""
        from playwright.sync_api import Error as PlaywrightError  # timeouts are Errors too

        page, base, ms = self.context.new_page(), self.base, self.ms

        def add(kind: str, detail: str) -> None:
            self.report.problems.append(Problem(kind, path, detail))

        page.on("request", lambda r: r.url.startswith(("http", "ws")) and not r.url.startswith(
            base) and add("remote", f"request to another host: {r.url}"))
        # not the browser's own /favicon.ico request: a visitor never sees it fail
        page.on("console", lambda m: m.type == "error" and urlsplit(m.location["url"]).path
                != "/favicon.ico" and add("console", m.text[:300]))
        page.on("pageerror", lambda e: add("pageerror", str(e)[:300]))
        page.on("response", lambda r: r.status >= 400 and add("request", f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: r.url.startswith(base)
                and add("request", f"{r.failure} {r.url}"))
        try:
            page.goto(base + path, wait_until="load", timeout=ms)
            scripts = page.evaluate(_SCRIPTS_JS)
            if scripts["mathjax"]:
                try:
                    page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=5000)
                    if late := page.evaluate(_MATHJAX_JS, ms):
                        add("math", late)
                except PlaywrightError:  # a timeout: MathJax's script never ran
                    add("math", "MathJax did not start")
            if scripts["mermaid"]:
                try:
                    page.wait_for_function(_MERMAID_DONE_JS, timeout=ms)
                except PlaywrightError:
                    pass  # the diagrams without an svg are reported below
            images = page.evaluate(_IMAGES_JS, ms)
            page.evaluate("() => document.fonts.ready.then(() => true)")
            facts = page.evaluate(_INSPECT_JS)
            if self.shots is not None:
                shot = self.shots / (path.removesuffix(".html").replace("/", "__") + ".png")
                page.screenshot(path=shot, full_page=self.full_page(path), timeout=ms)
                self.report.pages[path].screenshot = shot
        except PlaywrightError as error:  # a page that does not load or hangs is the problem
            add("load", str(error).splitlines()[0][:300])
            return []
        finally:
            page.close()
        self._record(self.report.pages[path], facts, images, add)
        return facts["links"]

    @staticmethod
    def _record(pr: PageReport, facts: dict, images: dict, add: Callable) -> None:
        pr.loaded, pr.math, pr.mjx = True, facts["math"], facts["mjx"]
        pr.mermaid, pr.mermaid_svg, pr.cjk = facts["mermaid"], facts["mermaidSvg"], facts["cjk"]
        pr.images, pr.ids = images["count"], set(facts["ids"])
        for src in images["bad"]:
            add("image", f"did not load: {src}")
        if facts["mathUntypeset"]:
            add("math", f"{facts['mathUntypeset']} of {facts['math']} formulas not typeset")
        for text in facts["mathProblems"]:
            add("math", text)
        unrendered = facts["mermaid"] - facts["mermaidSvg"] - facts["mermaidHidden"]
        if unrendered > 0 or facts["mermaidErrors"]:
            add("mermaid", f"{unrendered} of {facts['mermaid']} diagrams without an svg, "
                f"{facts['mermaidErrors']} with an error")
        if facts["mermaidAsCode"]:
            add("mermaid", f"{facts['mermaidAsCode']} mermaid block(s) shown as code")

    def run(self) -> SiteReport:
        """Every page reachable from index.html, then the #anchors links point to."""
        report, queue = self.report, ["index.html"]
        report.pages["index.html"] = PageReport("index.html")
        anchors: list[tuple[str, str, str, str]] = []  # (page, href, target path, fragment)
        while queue:
            path = queue.pop(0)
            for href in self.page(path):
                url, fragment = urldefrag(href)
                if not url.startswith(("http://", "https://")):
                    continue  # mailto:, javascript:, data:
                if not url.startswith(self.base):
                    report.external_links.add(url)
                    continue
                report.links_checked += 1
                target = _target_file(self.site, urlsplit(url).path)
                if target is None:
                    report.problems.append(Problem("link", path, f"no such file: {href}"))
                elif target.suffix == ".html":
                    target_path = target.relative_to(self.site).as_posix()
                    if fragment:
                        anchors.append((path, href, target_path, unquote(fragment)))
                    if target_path not in report.pages:
                        report.pages[target_path] = PageReport(target_path)
                        queue.append(target_path)
        for page, href, target_path, fragment in anchors:
            if report.pages[target_path].loaded and fragment not in report.pages[target_path].ids:
                report.problems.append(Problem("anchor", page, f"no #{fragment} in {href}"))
        return report


def check_site(site_dir: str | Path, screenshots: str | Path | None = None, *,
               full_page: bool | Collection[str] = True, browser: str | None = None,
               timeout_s: float = 30.0) -> SiteReport:
    """Crawl the site in `site_dir` from its index.html in headless Chromium (see the module
    docstring). A PNG of each page goes to `screenshots` when given: the whole page, or the first
    screen where `full_page` is False or lacks the page's path (a long page takes seconds)."""
    site = Path(site_dir).resolve()
    if not (site / "index.html").is_file():
        raise ValueError(f"site_dir {site_dir!s} has no index.html: build the site first "
                         "(python tools/build_site.py --out DIR)")
    shots = None if screenshots is None else Path(screenshots)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    browser = browser or find_chromium()
    if browser is None:
        raise OSError("no Chromium found: install it (sudo apt-get install chromium) or set "
                      "CHROME_PATH to a Chromium or Chrome executable")
    from playwright.sync_api import sync_playwright  # imported here: a heavy import

    with serve(site) as base, sync_playwright() as pw, \
            tempfile.TemporaryDirectory(prefix="check-site-profile-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=browser, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            return _Crawl(context, base, site, shots, full_page, timeout_s).run()
        finally:
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site_dir", type=Path, help="the built site (with index.html)")
    parser.add_argument("--screenshots", type=Path, help="folder for a PNG of every page")
    parser.add_argument("--browser", help="Chromium/Chrome executable (default: found)")
    parser.add_argument("--first-screen", action="store_true",
                        help="screenshots of the first screen only (faster than whole pages)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per page step")
    args = parser.parse_args(argv)
    try:
        report = check_site(args.site_dir, args.screenshots, full_page=not args.first_screen,
                            browser=args.browser, timeout_s=args.timeout)
    except (ValueError, OSError) as error:
        print(f"check_site: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
