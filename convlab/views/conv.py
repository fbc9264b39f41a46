"""Figures of a convolution: what a shift does to its output, and its feature maps."""

from __future__ import annotations

import numpy as np

from convlab import conv
from convlab.inspect.translation import shift_images
from convlab.views.plot import grid, show_image

__all__ = ["conv_output_figure", "equivariance_figure"]


def equivariance_figure(image: np.ndarray, kernel: np.ndarray, shift: int = 4):
    """Convolve-then-shift beside shift-then-convolve for one ``(H, W, C)`` image in [0, 1].

    Four panels: the image, the image shifted ``shift`` pixels right, the convolution of
    the image, and the convolution of the shifted image (which is the first map, shifted).
    Returns a matplotlib ``Figure``.
    """
    image = np.asarray(image, dtype=np.float64)
    moved = shift_images(image[None], dx=shift)[0]
    out = conv.conv2d(image[None], kernel, padding="same")[0]
    out_moved = conv.conv2d(moved[None], kernel, padding="same")[0]
    lim = float(np.abs(out).max()) or 1.0
    fig, axes = grid(1, 4, cell=2.0)
    axes = axes[0]
    show_image(axes[0], image, "image x", frame=False)
    show_image(axes[1], moved, f"shift(x), {shift} px right", frame=False)
    show_image(axes[2], out, "conv(x)", frame=False, cmap="RdBu", vmin=-lim, vmax=lim)
    show_image(axes[3], out_moved, "conv(shift(x))", frame=False, cmap="RdBu", vmin=-lim, vmax=lim)
    return fig


def conv_output_figure(image: np.ndarray, output: np.ndarray, channels: int = 4):
    """The input image and the first ``channels`` feature maps of a convolution of it."""
    channels = min(channels, output.shape[-1])
    fig, axes = grid(1, channels + 1, cell=2.0)
    axes = axes[0]
    show_image(axes[0], np.asarray(image), f"input {'x'.join(map(str, image.shape))}", frame=False)
    for i in range(channels):
        lim = float(np.abs(output[..., i]).max()) or 1.0
        show_image(
            axes[i + 1],
            output[..., i],
            f"filter {i}",
            frame=False,
            cmap="RdBu",
            vmin=-lim,
            vmax=lim,
        )
    return fig
