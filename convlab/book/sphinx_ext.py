"""A small Sphinx extension for the book (listed in ``_config.yml`` under ``sphinx``).

With jupyter-book 1.0.4, Sphinx 7.4 and sphinx-thebe 0.3.1, every page gets some inline
scripts twice, among them ``const THEBE_JS_URL = ...``: declaring a ``const`` twice is an
uncaught SyntaxError in the browser, which stops the rest of that script. We drop exact
duplicates from each page's script list before it is written.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dedupe_scripts", "setup"]


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


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
