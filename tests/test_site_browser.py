"""The built book in a real browser: headless Chromium (Debian's `chromium`) via Playwright.

Every page of the table of contents is opened from a loopback HTTP server; the test fails on
any console error or uncaught exception and on any image that did not load, and saves a
full-page screenshot of each page under ``<build dir>/screenshots``.

Requests to other hosts (Thebe's CDN, Binder) are blocked: the test must not depend on the
network, and the failures of those blocked requests are not counted as console errors.
MathJax is served from the book's own files (``convlab.book.sphinx_ext``), so the test
waits for it and checks that every formula was typeset.

What a reader would see as broken is checked on every page too: a table cell cut with
"...", a Markdown table left as raw ``| --- |`` text, a column header that is a code
name (``ci95_low``, ``a_as_b``), an image that did not load, a second search box.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from conftest import NEEDS_CHROMIUM, serving
from test_book_build import toc_pages

LOOPBACK = {"127.0.0.1", "localhost"}
# A header cell that is a variable name, not words: ci95_low, a_as_b, mean_accuracy.
# A fraction printed as Python would (0.836000), where a page shows percent or points.
RAW_FRACTION = re.compile(r"^-?0\.\d{4,}$")
CODE_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|ci95_|_as_")

# What a reader sees, collected in the page once MathJax has typeset it.
SEEN = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const main = document.querySelector("main") || document.body;
  const maths = Array.from(main.querySelectorAll(".math"));
  return {
    cells: Array.from(main.querySelectorAll("td, th")).map(c => c.innerText.trim()),
    headers: Array.from(main.querySelectorAll("thead th")).map(c => c.innerText.trim()),
    text: main.innerText,
    maths: maths.length,
    typeset: maths.filter(m => m.querySelector("mjx-container")).length,
    mathjax: Boolean(window.MathJax && MathJax.version),
    // search boxes a reader can see (the closed search dialog's field is not one)
    searches: Array.from(document.querySelectorAll(".search-button-field, form.bd-search"))
      .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden")
      .length,
  };
}"""


def reader_problems(docname: str, seen: dict) -> list[str]:
    """What a reader would see as broken on a page (from :data:`SEEN`)."""
    problems = [
        f"{docname}: cell cut short: {c!r}" for c in seen["cells"] if c.endswith(("...", "\u2026"))
    ]
    problems += [
        f"{docname}: a raw fraction in a table: {c!r}"
        for c in seen["cells"]
        if RAW_FRACTION.match(c)
    ]
    if re.search(r"\|\s*-{3,}", seen["text"]):
        problems.append(f"{docname}: raw Markdown table")
    problems += [
        f"{docname}: code name as a column header: {h!r}"
        for h in seen["headers"]
        if CODE_NAME.search(h)
    ]
    if seen["maths"] and seen["typeset"] < seen["maths"]:
        problems.append(
            f"{docname}: {seen['maths'] - seen['typeset']} of {seen['maths']} formulas not typeset "
            f"(MathJax loaded: {seen['mathjax']})"
        )
    if seen["searches"] != 1:
        problems.append(f"{docname}: {seen['searches']} search boxes in view, not one")
    return problems


pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(built_book):
    assert built_book.returncode == 0, built_book.log[-6000:]
    with serving(built_book.html) as url:
        yield url


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
    problems, maths = [], 0
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
        seen = page.evaluate(SEEN)
        problems += reader_problems(docname, seen)
        maths += seen["typeset"]
        page.screenshot(path=str(shots / f"{docname.replace('/', '-')}.png"), full_page=True)
        page.close()
        assert images, f"{docname}: no images at all (the logo buttons, at least, are expected)"
        problems += [f"{docname}: {e}" for e in errors]
        problems += [f"{docname}: image did not load: {src}" for src in broken]
    assert not problems, "\n".join(problems)
    assert maths > 0, "no formula was typeset on any page"
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        f"{d.replace('/', '-')}.png" for d in toc_pages()
    )


def test_reader_problems_catch_what_they_name():
    """The checks themselves: each kind of breakage is reported, a clean page is not."""
    clean = {
        "cells": ["83.60", "kernel size"],
        "headers": ["accuracy %"],
        "text": "a | b",
        "maths": 2,
        "typeset": 2,
        "mathjax": True,
        "searches": 1,
    }
    assert reader_problems("p", clean) == []
    broken = {
        "cells": ["the smallest kernel that sees a neighbour on e...", "0.836000"],
        "headers": ["ci95_low", "a_as_b", "mean_accuracy", "95% CI"],
        "text": "| model | acc |\n| --- | ---: |",
        "maths": 3,
        "typeset": 1,
        "mathjax": False,
        "searches": 2,
    }
    found = reader_problems("p", broken)
    assert sum("cut short" in p for p in found) == 1
    assert sum("raw fraction" in p for p in found) == 1
    assert sum("raw Markdown table" in p for p in found) == 1
    assert sum("code name" in p for p in found) == 3
    assert any("2 of 3 formulas not typeset" in p for p in found)
    assert any("2 search boxes in view, not one" in p for p in found)


def test_the_convolution_lab_works_in_the_built_page(server, browser):
    """The lab on the convolution chapter: started, offline, with the CNN's own filters."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(f"{server}/book/convolution-formula.html", wait_until="load")
    page.wait_for_selector(".convlab-lab[data-ready]")
    learned = page.eval_on_selector_all(
        "select[name=preset] option",
        "os => os.filter(o => o.text.startsWith('learned')).map(o => o.value)",
    )
    assert learned, "the lab offers none of the CNN's learned filters"
    page.select_option("select[name=preset]", learned[0])
    state = page.eval_on_selector(".convlab-lab", "root => root.dataset.state")
    rows = page.eval_on_selector_all(".cl-conv-values tbody tr", "rs => rs.length")
    page.close()
    assert state == "ok" and rows > 0
    assert not errors, errors


def test_the_run_explorer_shows_the_builds_own_runs(server, browser, built_book):
    """The explorer on the experiments page: every run it lists is a record of the store
    the build wrote, with the record's own test accuracy."""
    from convlab.experiments.store import ResultsStore

    stored = {
        r["key"]: r["result"]["test_accuracy"]
        for r in ResultsStore(built_book.build_dir / "results").records()
    }
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(f"{server}/book/experiments.html", wait_until="load")
    page.wait_for_selector(".convlab-explorer[data-ready]")
    studies = page.eval_on_selector_all("select[name=study] option", "os => os.map(o => o.text)")
    shown = {}
    for name in studies:
        page.select_option("select[name=study]", label=name)
        rows = page.eval_on_selector_all(
            ".cx-runs tbody tr", "rs => rs.map(r => [r.dataset.key, r.children[2].dataset.value])"
        )
        assert rows, f"{name}: no run listed"
        shown.update({key: float(value) for key, value in rows})
    page.close()
    assert len(studies) >= 10
    assert {k: stored.get(k) for k in shown} == shown
    assert not errors, errors
