"""The whole book, built in the smoke profile (`built_book` in conftest.py), checked as HTML.

Every page of _toc.yml is there; figures are embedded images whose files exist; no page
shows an error, a traceback or stderr output; every glue role was filled in; every launch
link opens a notebook that exists in the repository.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from conftest import BOOK_PROFILE, REPO

from convlab.book.paired import notebook_sources

CHAPTERS = [  # pages that must show at least one figure
    "book/index",  # the forest plot of every study's main comparison
    "book/why-convolution",
    "book/convolution-formula",
    "book/data",
    "book/mlp-baseline",
    "book/cnn",
    "book/experiments",
    "book/interpretation",
    "book/deployment",
]


def toc_pages() -> list[str]:
    """Every page of _toc.yml (root first), as docnames like ``book/cnn``."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", [toc]):
        walk(part.get("chapters"))
    return pages


NOTEBOOKS = {p.relative_to(REPO).with_suffix("").as_posix() for p in notebook_sources(REPO)}


def article(page: Path) -> str:
    """The HTML of a page's main content (without navigation, scripts and styles)."""
    text = page.read_text(encoding="utf8")
    main = text[text.index("<main") : text.index("</main>")]
    return re.sub(r"<(script|style)\b.*?</\1>", "", main, flags=re.S)


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


@pytest.fixture(scope="module")
def site(built_book):
    assert built_book.returncode == 0, built_book.log[-6000:]
    return built_book.html


def test_the_build_reports_its_output_and_time(built_book):
    assert built_book.returncode == 0, built_book.log[-6000:]
    assert re.search(r"convlab book: built in \d+ min \d+ s", built_book.log)
    assert f"HTML: {built_book.html / 'index.html'}" in built_book.log


@pytest.mark.parametrize("page", toc_pages())
def test_every_page_is_there_without_errors(site, page):
    path = site / f"{page}.html"
    assert path.is_file(), f"{page} missing from the built site"
    main = article(path)
    text = visible_text(main)
    assert "Traceback" not in text
    assert not re.search(r"\b[A-Z]\w*(Error|Exception): ", text), "an exception in the page"
    # A figure without the inline backend's formatter prints as its repr instead.
    assert not re.search(r"<Figure size \d+x\d+ with", text), f"{page} prints a figure as text"
    for css in ("output error", "output traceback", "output stderr", "system-message"):
        assert css not in main, f"{page} shows a {css!r} block"
    # Every {glue:text} role was replaced by its value.
    assert "{glue" not in text and "glue:text" not in text
    source = (REPO / page).with_suffix(".md").read_text(encoding="utf8")
    roles = len(re.findall(r"\{glue:text\}`", source))
    assert main.count('class="pasted-text"') == roles, "a glued value is missing"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapters_embed_their_figures(site, page):
    path = site / f"{page}.html"
    sources = re.findall(r'<img[^>]*\bsrc="([^"]+)"', article(path))
    figures = [s for s in sources if "_images/" in s or s.startswith("data:image/")]
    assert figures, f"{page} has no figure"
    for src in sources:
        if not src.startswith("data:"):
            assert (path.parent / unquote(src)).is_file(), f"{page}: {src} does not exist"


@pytest.mark.parametrize("page", sorted(NOTEBOOKS & set(toc_pages())))
def test_launch_buttons_open_notebooks_that_exist(site, page):
    text = (site / f"{page}.html").read_text(encoding="utf8")
    repo_url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    owner_repo = urlparse(repo_url).path.strip("/")
    binder = re.findall(r'href="(https://mybinder\.org/v2/gh/[^"]+)"', text)
    colab = re.findall(r'href="(https://colab\.research\.google\.com/github/[^"]+)"', text)
    assert len(binder) == 1 and len(colab) == 1, f"{page}: expected one Binder and one Colab link"
    assert "launch-thebe" in text, f"{page}: no live-code (Thebe) button"
    binder_path = html.unescape(binder[0]).split("urlpath=lab/tree/", 1)[1]
    colab_path = colab[0].split(f"github/{owner_repo}/blob/", 1)[1].split("/", 1)[1]
    assert f"/v2/gh/{owner_repo}/" in binder[0]
    for path in (binder_path, colab_path):
        assert path == f"{page}.ipynb", path
        assert (REPO / path).is_file(), f"{path} (launch target) is not in the repository"


def test_the_build_report_names_profile_and_times_every_chapter(site):
    text = visible_text(article(site / "book" / "build-report.html"))
    assert f"profile {BOOK_PROFILE}" in text and "dataset fashion-mnist" in text
    for page in NOTEBOOKS & set(toc_pages()):
        assert re.search(rf"{re.escape(page)} [\d-]+ [\d:]+ (cache|force) [\d.]+ ✅", text), page


def test_the_copyright_year_is_the_build_year(site):
    import time

    page = (site / "book" / "cnn.html").read_text(encoding="utf8")
    assert f"© Copyright {time.strftime('%Y')}." in page
