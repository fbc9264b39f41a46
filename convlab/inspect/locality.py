"""Locality: one fixed random permutation of pixel positions, applied to every image.

Permuting pixels destroys which pixels are neighbours and keeps everything else: each image
still holds the same values, and every image is scrambled the same way, so the information
a classifier can use is unchanged. An MLP, which treats its input as an unordered vector,
cannot tell the difference (its first layer just learns permuted weights); a CNN, whose
small kernels assume neighbouring pixels belong together, loses what that assumption gave.

The permutation is the experiments engine's (:func:`convlab.variants.pixel_permutation`,
which the ``locality`` study trains with), so what this module shows is what was trained
on. :func:`reorder_pixels` applies any permutation, including the inverse that undoes it.

Example:
    >>> x = np.arange(2 * 4 * 4).reshape(2, 4, 4)
    >>> perm = pixel_permutation(x.shape[1:], seed=0)
    >>> back = reorder_pixels(reorder_pixels(x, perm), inverse_permutation(perm))
    >>> bool((back == x).all())
    True
"""

from __future__ import annotations

import numpy as np

from convlab.inspect._common import InspectError
from convlab.variants import pixel_permutation
from convlab.views.plot import grid, show_image

__all__ = ["inverse_permutation", "permutation_figure", "pixel_permutation", "reorder_pixels"]


def inverse_permutation(perm: np.ndarray) -> np.ndarray:
    """The permutation that undoes ``perm``: ``inverse[perm[i]] == i``."""
    perm = np.asarray(perm)
    if perm.ndim != 1 or not np.array_equal(np.sort(perm), np.arange(len(perm))):
        raise InspectError("perm must be a permutation of 0..n-1 (from pixel_permutation).")
    return np.argsort(perm)


def reorder_pixels(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Images whose pixel ``i`` (row-major) is the original pixel ``perm[i]``, channels kept
    together.

    ``reorder_pixels(x, pixel_permutation(x.shape[1:], seed))`` equals the engine's
    ``convlab.experiments.permute_pixels(x, seed)``.

    Args:
        x: a batch ``(N, H, W)`` or ``(N, H, W, C)``.
        perm: a permutation of ``range(H * W)``.
    """
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise InspectError(f"x must be a batch (N, H, W) or (N, H, W, C), got {x.shape}.")
    n, h, w = x.shape[:3]
    perm = np.asarray(perm)
    if perm.shape != (h * w,):
        raise InspectError(
            f"perm has {perm.size} entries but images of {h}x{w} have {h * w} pixels; make "
            "it with pixel_permutation(x.shape[1:], seed)."
        )
    return x.reshape(n, h * w, -1)[:, perm].reshape(x.shape)


def permutation_figure(images: np.ndarray, seed: int = 0):
    """Three rows: the images, the same images with pixels permuted (what the ``locality``
    study's permuted arms train and test on), and the permutation undone.

    Returns a matplotlib ``Figure``.
    """
    images = np.asarray(images)
    perm = pixel_permutation(images.shape[1:], seed)
    scrambled = reorder_pixels(images, perm)
    rows = (images, scrambled, reorder_pixels(scrambled, inverse_permutation(perm)))
    titles = ("original", f"permuted\n(seed {seed})", "undone")
    fig, axes = grid(3, len(images), cell=1.2)
    for row_axes, row, title in zip(axes, rows, titles, strict=True):
        row_axes[0].set_ylabel(title, fontsize=8)
        for ax, image in zip(row_axes, row, strict=True):
            show_image(ax, image)
    return fig
