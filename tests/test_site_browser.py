"""The built book in a real browser: headless Chromium (Debian's `chromium`) via Playwright.

Every page of the table of contents is opened from a loopback HTTP server; the test fails on
any console error or uncaught exception and on any image that did not load, and saves a
full-page screenshot of each page under ``<build dir>/screenshots``.

Requests to other hosts (the CDNs of MathJax and Thebe, Binder) are blocked: the test must
not depend on the network, and the failures of those blocked requests are not counted as
console errors. So this test cannot see whether MathJax renders the formulas or Thebe
reaches Binder; it does see every local asset, script and image.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from urllib.parse import urlparse

import pytest
from test_book_build import toc_pages

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost"}

pytestmark = pytest.mark.skipif(
    not shutil.which("chromium"), reason="needs Debian's chromium (apt-get install chromium)"
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(built_book):
    assert built_book.returncode == 0, built_book.log[-6000:]
    handler = functools.partial(_QuietHandler, directory=str(built_book.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # fresh profile each run
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def test_every_page_loads_cleanly_in_chromium(server, browser, built_book):
    shots = built_book.build_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    blocked: set[str] = set()

    def route(request_route):
        url = request_route.request.url
        if urlparse(url).hostname in LOOPBACK or url.startswith("data:"):
            request_route.continue_()
        else:
            blocked.add(url)
            request_route.abort()

    browser.route("**/*", route)
    problems = []
    for docname in toc_pages():
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(f"uncaught: {exc}"))

        def on_console(msg, errors=errors):
            if msg.type != "error":
                return
            source = msg.location.get("url", "") if msg.location else ""
            # The console reports each blocked request as a failed load: not a page error.
            if "net::ERR_FAILED" in msg.text and (source in blocked or not source):
                return
            if source in blocked:
                return
            errors.append(f"console: {msg.text} ({source})")

        page.on("console", on_console)
        page.goto(f"{server}/{docname}.html", wait_until="load")
        page.wait_for_timeout(300)  # let deferred scripts run
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.currentSrc || i.src, i.naturalWidth])"
        )
        broken = [src for src, width in images if width == 0]
        page.screenshot(path=str(shots / f"{docname.replace('/', '-')}.png"), full_page=True)
        page.close()
        assert images, f"{docname}: no images at all (the logo buttons, at least, are expected)"
        problems += [f"{docname}: {e}" for e in errors]
        problems += [f"{docname}: image did not load: {src}" for src in broken]
    assert not problems, "\n".join(problems)
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{d.replace('/', '-')}.png" for d in toc_pages()
    )
