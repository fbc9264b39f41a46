"""The plotting helpers every figure of convlab is drawn with (matplotlib, without pyplot).

Figures are plain :class:`matplotlib.figure.Figure` objects, made without pyplot, so
nothing is shown or kept open behind the caller's back: a notebook displays the returned
figure once, ``fig.savefig(...)`` writes it anywhere, and tests leak no figures.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

__all__ = ["error_bars", "figure", "grid", "show_image"]


def figure(size: tuple[float, float] = (6.0, 3.6)):
    """A figure with one axes: ``(fig, ax)``."""
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def grid(rows: int, cols: int, cell: float = 1.3, title: str | None = None):
    """A ``rows x cols`` grid of axes with ticks off: ``(fig, axes)``, axes 2-D."""
    fig = Figure(figsize=(cols * cell, rows * cell + (0.4 if title else 0)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig, axes


def show_image(
    ax,
    image: np.ndarray,
    title: str | None = None,
    value_range: tuple[float, float] | None = None,
    frame: bool = True,
    **kwargs,
) -> None:
    """Draw one image, grayscale ``(H, W)``/``(H, W, 1)`` or RGB ``(H, W, 3)``, ticks off.

    Args:
        value_range: the values drawn black and white, e.g. ``(0, 255)`` for stored
            pixels; ``None``: RGB images are floats in [0, 1] and grayscale ones are scaled
            to their own range (or to ``vmin``/``vmax`` in ``kwargs``).
        frame: keep the axes' frame (``False``: no frame, as for a gallery).
        kwargs: passed to ``imshow`` (e.g. ``cmap="RdBu", vmin=-1, vmax=1``).
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        kwargs.setdefault("cmap", "gray")
        if value_range is not None:
            kwargs.setdefault("vmin", value_range[0])
            kwargs.setdefault("vmax", value_range[1])
    elif value_range is not None:
        lo, hi = value_range
        image = np.clip((np.asarray(image, np.float64) - lo) / (hi - lo), 0.0, 1.0)
    ax.imshow(image, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if not frame:
        for spine in ax.spines.values():
            spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=8)


def error_bars(half_widths) -> list[float]:
    """Half-widths in points for ``errorbar``; a missing interval (one seed) draws none."""
    return [0.0 if math.isnan(h) else 100 * h for h in half_widths]
