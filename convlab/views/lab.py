"""The convolution lab: an interactive convolution (and pooling) that runs in the page.

A cell that ends with :func:`convolution_lab` shows, in the built book, in Jupyter and in
Colab alike, a panel where the reader picks an image (a few of the dataset's, or one they
draw), a kernel (presets, an editable grid, the book CNN's learned first-layer filters), a
kernel size, stride, padding and pooling, and sees the feature map, its size with the
formula filled in, the layer's parameters, a stack's receptive field and, for the output
pixel under the cursor (or moved with the arrow keys), its dot product term by term.

Everything the panel needs is in its HTML (:mod:`convlab.views.embed`): the data as JSON
and ``lab.js``, a second implementation of :func:`convlab.conv.conv2d` and
:func:`convlab.pool.pool2d` in plain JavaScript (``tests/test_lab_browser.py`` checks the
two agree in Chromium). No library, no network, no kernel: it works on GitHub Pages and
from a file on disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.errors import ConvlabError
from convlab.views.embed import embedded

__all__ = ["ConvolutionLab", "LabError", "convolution_lab"]

_STYLE = """
.convlab-lab { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em; margin: 1em 0; }
.convlab-lab .cl-controls { display: flex; flex-wrap: wrap; gap: 0.5em 1.2em; }
.convlab-lab .cl-field { display: flex; flex-direction: column; font-size: 0.85em; }
.convlab-lab .cl-field input { width: 6em; }
.convlab-lab .cl-draw { display: grid; gap: 1px; margin: 0.6em 0; }
.convlab-lab .cl-draw button { width: 1.1em; height: 1.1em; padding: 0; border: 1px solid #bbb;
  background: #000; }
.convlab-lab .cl-draw button[aria-pressed="true"] { background: #fff; }
.convlab-lab .cl-kernel { display: grid; gap: 2px; }
.convlab-lab .cl-kernel input { width: 5.5em; font-size: 0.8em; }
.convlab-lab .cl-panels { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.convlab-lab figure { margin: 0.5em 0; }
.convlab-lab canvas { image-rendering: pixelated; border: 1px solid #999; }
.convlab-lab canvas:focus { outline: 3px solid #ff8c00; }
.convlab-lab .cl-message:not(:empty) { color: #a00; font-weight: bold; }
.convlab-lab .cl-terms td { font-size: 0.75em; padding: 1px 4px; white-space: nowrap; }
.convlab-lab .cl-values td { font-size: 0.7em; padding: 0 3px; }
"""


class LabError(ConvlabError, ValueError):
    """Images or filters the lab cannot show."""


@dataclass(frozen=True)
class ConvolutionLab:
    """The lab's data; shown by Jupyter and the book through :meth:`_repr_html_`.

    Attributes:
        images: grey images on the 0-255 scale, shape ``(N, H, W)``.
        labels: one label per image.
        filters: kernels, shape ``(F, k, k)``; may be empty.
        filter_labels: one label per filter.
        draw: side of the grid the reader draws on.
    """

    images: np.ndarray
    labels: tuple[str, ...]
    filters: np.ndarray
    filter_labels: tuple[str, ...]
    draw: int = 10

    def data(self) -> dict:
        """What the page's script reads: pixels (0-255) and kernels as nested lists."""
        return {
            "images": [
                {"label": label, "pixels": np.round(image, 2).tolist()}
                for label, image in zip(self.labels, self.images, strict=True)
            ],
            "filters": [
                {"label": label, "weights": np.round(f, 4).tolist()}
                for label, f in zip(self.filter_labels, self.filters, strict=True)
            ],
            "draw": self.draw,
        }

    def _repr_html_(self) -> str:
        return embedded("lab", self.data(), _STYLE)

    def __repr__(self) -> str:  # a terminal has no page to draw it in
        return (
            f"ConvolutionLab({len(self.labels)} images of {self.images.shape[1]}x"
            f"{self.images.shape[2]}, {len(self.filter_labels)} filters; shown in a notebook)"
        )


def _grey(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:  # colour: the mean over channels, what a grey version would be
        x = x.mean(axis=-1)
    if x.ndim != 3:
        raise LabError(f"images must be (N, H, W) or (N, H, W, C), got shape {x.shape}.")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise LabError("image pixels must be on the 0-255 scale (the dataset's own values).")
    return x


def convolution_lab(
    images: np.ndarray,
    labels: list[str] | tuple[str, ...],
    filters: np.ndarray | None = None,
    draw: int = 10,
) -> ConvolutionLab:
    """The lab for ``images`` (0-255; colour ones become grey) and, optionally, learned
    ``filters`` of shape ``(F, k, k)`` or ``(F, k, k, C)`` as
    :func:`convlab.inspect.first_layer_filters` returns them. A filter with several input
    channels is summed over them: what it computes on a grey image, whose channels are
    equal. Biases are left out; the lab shows the kernel's sum only.
    """
    x = _grey(images)
    labels = tuple(str(label) for label in labels)
    if len(labels) != len(x) or not len(x):
        raise LabError(f"Give one label per image: {len(x)} images, {len(labels)} labels.")
    f = np.zeros((0, 1, 1)) if filters is None else np.asarray(filters, dtype=np.float64)
    if f.ndim == 4:
        f = f.sum(axis=-1)
    if f.ndim != 3 or f.shape[1] != f.shape[2] or (len(f) and not 1 <= f.shape[1] <= 7):
        raise LabError(f"filters must be square kernels of size 1-7, got shape {f.shape}.")
    if not 4 <= draw <= 16:
        raise LabError(f"The drawing grid's side must be 4-16 pixels, got {draw}.")
    names = tuple(f"learned filter {i + 1}" for i in range(len(f)))
    return ConvolutionLab(x, labels, f, names, draw)
