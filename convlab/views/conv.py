"""Figures of a convolution: what a shift does to its output, its feature maps, and a kernel
learned by gradient descent."""

from __future__ import annotations

import numpy as np

from convlab import conv
from convlab.inspect.translation import shift_images
from convlab.views.plot import figure, grid, show_image

__all__ = ["conv_output_figure", "equivariance_figure", "kernel_fit_figure"]


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


def kernel_fit_figure(fit, true_kernel: np.ndarray):
    """The loss of :func:`convlab.kernel_fit.fit_kernel` step by step (log scale), and the
    learned kernel beside the true one (first input and output channel), same colours."""
    fig, ax = figure((8.0, 2.8))
    ax.remove()
    loss_ax = fig.add_subplot(1, 3, (1, 2))
    loss_ax.semilogy(np.arange(len(fit.losses)), fit.losses)
    loss_ax.set_xlabel("gradient step")
    loss_ax.set_ylabel("mean squared error")
    loss_ax.grid(alpha=0.3)
    true = np.asarray(true_kernel)[:, :, 0, 0]
    learned = np.asarray(fit.kernel)[:, :, 0, 0]
    lim = float(np.abs(true).max()) or 1.0
    pair = fig.add_subplot(1, 3, 3)
    pair.imshow(
        np.hstack([true, np.full((true.shape[0], 1), np.nan), learned]),
        cmap="RdBu",
        vmin=-lim,
        vmax=lim,
    )
    pair.set_title("true | learned", fontsize=9)
    pair.set_xticks([])
    pair.set_yticks([])
    return fig
