"""The CIFAR-10 edition: the whole book, built strictly in the smoke profile.

CIFAR-10 cannot be downloaded here, so the test writes an archive in the official format
(Python-2 pickled batches, 50,000 training and 10,000 test images of class colours with
noise) and vouches for it with its exact SHA-256 (``CONVLAB_VOUCHED_SHA256``): the loader
then reads it through the same restricted unpickler as the official file.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import EDITIONS, REPO, cifar_archive, run_book_build
from test_book_build import toc_pages

# Words that fit Fashion-MNIST only: a CIFAR-10 page that uses one says something untrue.
FASHION_ONLY = re.compile(
    r"\b(shirts?|shoes?|sneakers?|trousers?|boots?|garments?|clothing)\b", re.I
)


@pytest.fixture(scope="module")
def cifar_book(tmp_path_factory):
    data = tmp_path_factory.mktemp("cifar-data")
    raw, _ = cifar_archive(n=10000, learnable=True)
    (data / "cifar-10-python.tar.gz").write_bytes(raw)
    env = {
        "CONVLAB_DATASET": "cifar10",
        "CONVLAB_DATA_DIR": str(data),
        "CONVLAB_VOUCHED_SHA256": hashlib.sha256(raw).hexdigest(),
        "CONVLAB_EDITIONS": EDITIONS,
    }
    build_dir = tmp_path_factory.mktemp("cifar-book") / "_build"
    proc = run_book_build(REPO, build_dir, env=env)
    return proc, build_dir / "html"


def test_the_cifar10_book_builds_strictly(cifar_book):
    proc, html = cifar_book
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "dataset cifar10" in proc.stdout
    for page in toc_pages():
        assert (html / f"{page}.html").is_file(), page
    report = (html / "book" / "build-report.html").read_text(encoding="utf-8")
    assert "vouched for by CONVLAB_VOUCHED_SHA256, not the official ones" in report


def test_no_cifar10_page_speaks_of_clothes(cifar_book):
    proc, html = cifar_book
    assert proc.returncode == 0
    found = []
    for page in toc_pages():
        text = (html / f"{page}.html").read_text(encoding="utf-8")
        main = text[text.find("<main") :]
        prose = re.sub(r"<(script|style|pre)\b.*?</\1>", " ", main, flags=re.S)
        prose = re.sub(r"<[^>]+>", " ", prose)
        found += [f"{page}: {m.group(0)!r}" for m in FASHION_ONLY.finditer(prose)]
    assert not found, found


def test_every_page_of_each_edition_links_to_the_same_page_of_the_other(
    cifar_book, built_book, tmp_path
):
    """The site as the book workflow assembles it: Fashion-MNIST at the root, CIFAR-10 under
    cifar10/. Every page's banner names its edition and links to a page that exists."""
    import shutil
    from pathlib import Path
    from urllib.parse import urljoin

    proc, cifar_html = cifar_book
    assert proc.returncode == 0 and built_book.returncode == 0
    site = tmp_path / "site"
    shutil.copytree(built_book.html, site)
    shutil.copytree(cifar_html, site / "cifar10")
    checked = 0
    for edition, title, other in (("", "Fashion-MNIST", "CIFAR-10"),
                                  ("cifar10/", "CIFAR-10", "Fashion-MNIST")):  # fmt: skip
        for page in [*toc_pages(), "search", "genindex"]:
            path = site / f"{edition}{page}.html"
            text = path.read_text(encoding="utf-8")
            assert f"This is the {title} edition of the book" in text, path
            (href,) = re.findall(r'class="convlab-edition"[^>]*href="([^"]+)"', text)
            assert f">{other} edition</a>" in text
            target = Path(urljoin(path.as_uri(), href).removeprefix("file://"))
            other_edition = "cifar10/" if edition == "" else ""
            assert target == site / f"{other_edition}{page}.html", (path, href)
            assert target.is_file(), target
            checked += 1
    assert checked == 2 * (len(toc_pages()) + 2)
