"""Shared by the inspect modules: their error type, figures outside pyplot, plain images."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from convlab.errors import ConvlabError


class InspectError(ConvlabError, ValueError):
    """A model or input the inspect tools cannot work with."""


def grid(rows: int, cols: int, cell: float = 1.3, title: str | None = None):
    """A ``rows x cols`` grid of axes with ticks off.

    The figure is made without pyplot, so nothing is shown or kept open behind the caller's
    back: a notebook displays the returned figure once, and tests leak no figures.
    """
    fig = Figure(figsize=(cols * cell, rows * cell + (0.4 if title else 0)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols, squeeze=False))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig, axes


def show_image(ax, image: np.ndarray, title: str | None = None, **kwargs) -> None:
    """One image, grayscale ``(H, W)``/``(H, W, 1)`` or RGB ``(H, W, 3)`` in [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        kwargs.setdefault("cmap", "gray")
    ax.imshow(image, **kwargs)
    if title:
        ax.set_title(title, fontsize=8)
