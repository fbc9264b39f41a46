"""A small Sphinx extension for the book (listed in ``_config.yml`` under ``sphinx``).

**MathJax from the book's own files.** Jupyter Book loads MathJax from a CDN, so offline
(and in the browser test, which blocks other hosts) every formula shows as raw TeX. The
``sphinx-mathjax-offline`` package ships MathJax 3; :func:`copy_mathjax` copies the part
the pages use (the ``tex-chtml`` component, its fonts, TeX extensions and the menu, about
3 MB instead of the package's 24) to ``_static/mathjax``, and ``mathjax_path`` points
there.

**Duplicate scripts.** With jupyter-book 1.0.4, Sphinx 7.4 and sphinx-thebe 0.3.1, every
page gets some inline scripts twice, among them ``const THEBE_JS_URL = ...``: declaring a
``const`` twice is an uncaught SyntaxError in the browser, which stops the rest of that
script. We drop exact duplicates from each page's script list before it is written.

**Editions.** The site publishes one edition of the book per dataset (Fashion-MNIST at the
root, CIFAR-10 under ``cifar10/``). With ``convlab_editions`` set (from ``CONVLAB_EDITIONS``,
e.g. ``fashion-mnist=.,cifar10=cifar10``: each edition's folder in the site), every page gets
a banner naming its edition and linking to the same page of the others, by relative links,
so the site works under any base URL.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "MATHJAX_PATH",
    "add_edition_links",
    "copy_mathjax",
    "dedupe_scripts",
    "edition_banner",
    "mathjax_source",
    "parse_editions",
    "setup",
]

MATHJAX_PATH = "mathjax/tex-chtml.js"  # relative to _static
# What tex-chtml.js loads at run time: fonts, TeX extensions it autoloads, the menu and
# the accessibility component the menu starts.
_MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex", "ui", "a11y", "adaptors")


def mathjax_source() -> Path:
    """The MathJax folder of the installed ``sphinx-mathjax-offline`` package."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "The book serves MathJax from its own files and needs the package "
            "sphinx-mathjax-offline: pip install -e '.[book]'."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def copy_mathjax(app, exception) -> None:
    """``build-finished`` handler: copy MathJax into the HTML output's ``_static``."""
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _use_local_mathjax(app, config) -> None:
    mathjax_source()  # fail at the start of a build, not after it
    config.mathjax_path = MATHJAX_PATH


def _key(script: Any) -> tuple:
    # Sphinx registers an inline script with filename None on one path and "" on the other,
    # which is why its own duplicate check lets the second copy through.
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", str(script)) or ""
    return (filename, tuple(sorted(attributes.items())))


def dedupe_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """``html-page-context`` handler: keep the first of identical ``<script>`` entries."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # A new list: the builder shares its own list between pages.
    context["script_files"] = unique


def parse_editions(text: str) -> dict[str, str]:
    """``"fashion-mnist=.,cifar10=cifar10"`` -> dataset name -> its folder in the site
    (``""`` for the root, else ending in ``/``); names are checked against the datasets."""
    from convlab.data import dataset_info

    editions = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, folder = item.partition("=")
        folder = folder.strip().strip("/")
        if not sep or ".." in folder.split("/"):
            raise ValueError(f"CONVLAB_EDITIONS: expected DATASET=FOLDER, got {item!r}.")
        editions[dataset_info(name.strip()).name] = "" if folder in ("", ".") else f"{folder}/"
    return editions


def edition_banner(editions: dict[str, str], this: str, pagename: str) -> str:
    """The banner of one page: its edition's title and links to the same page elsewhere."""
    from html import escape

    from convlab.data import dataset_info

    to_site = "../" * (pagename.count("/") + editions[this].count("/"))
    links = [
        f'<a class="convlab-edition" style="color: inherit; text-decoration: underline" '
        f'href="{escape(to_site + folder + pagename)}.html">'
        f"{escape(dataset_info(name).title)} edition</a>"
        for name, folder in editions.items()
        if name != this
    ]
    title = escape(dataset_info(this).title)
    return f"This is the {title} edition of the book. Also read: {' · '.join(links)}"


def add_edition_links(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """``html-page-context`` handler: the editions banner (see the module's docstring)."""
    editions = app.config.convlab_editions
    if editions and app.config.convlab_edition in editions and len(editions) > 1:
        banner = edition_banner(editions, app.config.convlab_edition, pagename)
        context["theme_announcement"] = banner


def setup(app) -> dict[str, Any]:
    app.add_config_value("convlab_editions", {}, "html")
    app.add_config_value("convlab_edition", "", "html")
    app.connect("html-page-context", add_edition_links)
    app.connect("config-inited", _use_local_mathjax, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
