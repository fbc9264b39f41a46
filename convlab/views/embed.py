"""Interactive figures that run in the page: data as JSON plus a script, no server.

A figure is a ``<div class="convlab-NAME">`` holding its data in a ``<script
type="application/json">``, followed by its style and its script (``views/NAME.js``).
Jupyter, Colab and the built book all show such HTML as it is, and nothing in it loads
from the network.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

__all__ = ["embedded", "page"]

_HERE = Path(__file__).parent


def embedded(name: str, data: dict, style: str) -> str:
    """The HTML of the ``name`` figure (``views/{name}.js``) showing ``data``."""
    # "</" inside the JSON would end its script element early (a label "</script>", say).
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    script = (_HERE / f"{name}.js").read_text(encoding="utf-8")
    return (
        f'<div class="convlab-{name}">'
        f'<script type="application/json" class="convlab-{name}-data">{payload}</script>'
        f"<noscript>This interactive figure needs JavaScript.</noscript></div>"
        f"<style>{style}</style><script>{script}</script>"
    )


def page(figure, title: str) -> str:
    """A whole HTML page holding only ``figure`` (anything with ``_repr_html_``): to open
    from disk, or for a test."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<link rel='icon' href='data:,'>"  # no favicon request (a 404 in the console)
        f"<title>{html.escape(title)}</title></head><body><main>{figure._repr_html_()}</main>"
        "</body></html>"
    )
