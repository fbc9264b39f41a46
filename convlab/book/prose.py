"""``glue``: hand a computed value to the book's prose, with or without myst-nb installed."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["glue", "glue_all", "glue_markdown", "plain"]


def plain(value: Any) -> Any:
    """NumPy scalars as Python numbers, so ``{glue:text}`key:.3f``` can format them.

    myst-nb formats the ``text/plain`` repr of a glued value; under NumPy 2 that repr is
    ``np.float64(0.91)``, which no format spec can read.
    """
    return value.item() if isinstance(value, np.generic) else value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` for ``{glue:text}`` / ``{glue:figure}`` in the prose.

    In a book build this is ``myst_nb.glue``. Where myst-nb is not installed (a chapter
    opened in Colab or Binder) the value is shown when ``display`` is true and otherwise
    ignored, so the chapter still runs.
    """
    value = plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        myst_glue = None
    if myst_glue is not None:
        myst_glue(name, value, display=display)
    elif display:
        from IPython.display import display as show

        show(value)


def glue_all(**values: Any) -> None:
    """:func:`glue` each keyword argument under its name, none of them displayed."""
    for name, value in values.items():
        glue(name, value)


def glue_markdown(name: str, text: str) -> None:
    """Store a sentence or paragraph under ``name`` for ``{glue:md}``, which pastes it as
    ordinary prose (Markdown, inline).

    ``{glue:text}`` suits numbers: myst-nb sets pasted text in bold, which marks a computed
    figure but makes a computed sentence read as shouted. Outside a build, as :func:`glue`.
    """
    from IPython.display import Markdown

    glue(name, Markdown(text))
