"""2-D max and average pooling from scratch, as ``keras.layers.MaxPooling2D`` and
``AveragePooling2D`` compute them.

Pooling is a convolution-like window that slides over each channel on its own and has no
weights: it replaces every ``k x k`` window (``pool_size``) by its maximum or its mean. Its
output size follows the convolution's formula with the pool size as kernel
(:func:`convlab.conv.output_size_for`), and like Keras the stride defaults to the pool
size, so windows do not overlap. With ``"same"`` padding the windows at the border are
partly outside the image: max pooling ignores the outside (as if it were ``-inf``) and
average pooling averages only the pixels inside, which is what TensorFlow does.

Example:
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> pool2d(x, 2)[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> pool2d(x, 2, mode="average")[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convlab.conv import ConvShapeError, Padding, Stride, _pair, same_padding

__all__ = ["MODES", "pool2d"]

MODES = ("max", "average")


def _window(pool_size: object) -> tuple[int, int]:
    try:
        return _pair(pool_size)
    except ConvShapeError:
        raise ConvShapeError(
            f"pool_size must be a positive int or a pair (ph, pw), got {pool_size!r}."
        ) from None


def pool2d(
    x: np.ndarray,
    pool_size: Stride = 2,
    stride: Stride | None = None,
    padding: Padding = "valid",
    mode: str = "max",
) -> np.ndarray:
    """Max or average pooling of every channel of ``x`` (NHWC), as Keras computes it.

    Args:
        x: Input, shape ``(N, H, W, C)``.
        pool_size: ``k`` or ``(kh, kw)``, the window.
        stride: ``s`` or ``(sh, sw)``; None (the Keras default) is the pool size.
        padding: ``"valid"`` (windows inside the input) or ``"same"`` (``ceil(H / sh)``
            outputs; border windows use only their pixels inside the input).
        mode: ``"max"`` or ``"average"``.

    Returns:
        ``(N, H_out, W_out, C)`` in the input's float dtype (integers give float64).

    Raises:
        ConvShapeError: For a wrong number of dimensions, an unknown mode or padding, or
            a window larger than a ``"valid"`` input.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        hint = " Add a batch axis with x[None]." if x.ndim == 3 else ""
        raise ConvShapeError(f"x must have 4 dimensions (N, H, W, C), got shape {x.shape}.{hint}")
    if mode not in MODES:
        raise ConvShapeError(f'mode must be "max" or "average", got {mode!r}.')
    kh, kw = _window(pool_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ConvShapeError(
            f'padding must be "valid" or "same" for pooling (as in Keras), got {padding!r}.'
        )
    h, w = x.shape[1:3]
    if padding.lower() == "same":
        pads = (same_padding(h, kh, sh), same_padding(w, kw, sw))
    else:
        pads = ((0, 0), (0, 0))
        for axis, n, k in (("height", h, kh), ("width", w, kw)):
            if k > n:
                raise ConvShapeError(
                    f"pool {axis} {k} is larger than the input {axis} {n}; use a smaller "
                    'pool or padding="same".'
                )
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(dtype, copy=False)
    spec = ((0, 0), pads[0], pads[1], (0, 0))

    def windows(a: np.ndarray) -> np.ndarray:  # (N, H_out, W_out, C, kh, kw), a view
        return sliding_window_view(a, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]

    if mode == "max":  # padding never wins a maximum
        return windows(np.pad(x, spec, constant_values=-np.inf)).max(axis=(4, 5))
    # Average over the pixels inside the input only: sum of zero-padded windows / count.
    inside = np.pad(np.ones((1, h, w, 1), dtype), spec)
    total = windows(np.pad(x, spec)).sum(axis=(4, 5))
    return total / windows(inside).sum(axis=(4, 5))
