"""The learned first-layer filters of a CNN, as numbers and as an image grid."""

from __future__ import annotations

import math

import numpy as np

from convlab.inspect._common import InspectError
from convlab.views.plot import grid

__all__ = ["conv_layers", "filter_grid", "first_layer_filters"]


def conv_layers(model) -> list:
    """The model's ``Conv2D`` layers, first to last."""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not layers:
        raise InspectError(
            f"Model {model.name!r} has no Conv2D layer: filters and feature maps exist only "
            "for convolutional models (build one with convlab.models.CNNSpec)."
        )
    return layers


def first_layer_filters(model) -> np.ndarray:
    """The first convolution's kernels, one per filter: shape ``(filters, kh, kw, channels)``."""
    kernel = np.asarray(conv_layers(model)[0].get_weights()[0])  # (kh, kw, C_in, F)
    return np.moveaxis(kernel, -1, 0)


def filter_grid(model, cols: int = 8, cell: float = 0.9):
    """Every first-layer filter as a small image; returns a matplotlib ``Figure``.

    Single-channel filters share one diverging colour scale centred on zero (red positive,
    blue negative), so weights compare across filters. Three-channel filters are shown in
    colour, each stretched to [0, 1] on its own, as is usual for RGB filters. Other channel
    counts show the mean over channels.
    """
    filters = first_layer_filters(model)
    n, channels = len(filters), filters.shape[-1]
    rows = math.ceil(n / cols)
    fig, axes = grid(rows, min(cols, n), cell, title=f"{n} first-layer filters")
    limit = float(np.abs(filters).max()) or 1.0
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    image = None
    for i, (ax, f) in enumerate(zip(axes.flat, filters, strict=False)):
        if channels == 3:
            lo, hi = f.min(), f.max()
            ax.imshow((f - lo) / (hi - lo if hi > lo else 1.0))
        else:
            image = ax.imshow(f.mean(axis=-1), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    return fig
