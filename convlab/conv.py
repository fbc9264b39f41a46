"""2-D convolution from scratch, as the book's chapter "The convolution formula" teaches it.

Everything follows the conventions of ``keras.layers.Conv2D`` so results can be compared
number for number: inputs are NHWC ``(N, H, W, C_in)``, kernels ``(kh, kw, C_in, C_out)``,
bias ``(C_out,)``, and like every deep-learning library the operation is a
cross-correlation (the kernel is not flipped). For one output value::

    y[n, i, j, f] = b[f] + sum_{u, v, c} xp[n, i*sh + u, j*sw + v, c] * w[u, v, c, f]

with ``u < kh``, ``v < kw``, ``c < C_in`` and ``xp`` the zero-padded input.
:func:`conv2d_loop` writes those loops out, :func:`conv2d` is the same computation
vectorised. The size of the output follows::

    out = floor((n + 2p - k) / s) + 1

(:func:`output_size`); Keras' ``"same"`` padding picks ``p`` so that ``out = ceil(n / s)``,
putting the odd extra pixel at the bottom/right (:func:`same_padding`). Stacking layers
grows the receptive field by ``(k - 1) * jump`` per layer (:func:`receptive_field`).

Example:
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> w = np.ones((3, 3, 1, 1))
    >>> conv2d(x, w)[0, :, :, 0]
    array([[45., 54.],
           [81., 90.]])
    >>> conv2d(x, w, padding="same").shape
    (1, 4, 4, 1)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convlab.errors import ConvlabError

__all__ = [
    "ConvShapeError",
    "ReceptiveField",
    "conv2d",
    "conv2d_loop",
    "output_size",
    "output_size_for",
    "receptive_field",
    "same_padding",
]

Padding = str | int
Stride = int | tuple[int, int]


class ConvShapeError(ConvlabError, ValueError):
    """Inputs, kernel, stride or padding that cannot make a convolution.

    The message says which argument is wrong, what was expected and how to fix it.
    """


# --------------------------------------------------------------------------- sizes


def _positive_int(value: object, name: str) -> int:
    # bool is an Integral, but stride=True is always a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConvShapeError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _non_negative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConvShapeError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def _padding_mode(padding: object) -> str | int:
    """Return "valid", "same" (case-insensitive, like Keras) or a non-negative int."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in ("valid", "same"):
            return mode
    elif isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return _non_negative_int(padding, "padding")
    raise ConvShapeError(
        f'padding must be "valid", "same" or a non-negative int, got {padding!r}. '
        '"valid" means no padding, "same" keeps ceil(n / stride) outputs like Keras.'
    )


def output_size(n: int, k: int, p: int, s: int) -> int:
    """Number of outputs along one axis: ``floor((n + 2p - k) / s) + 1``.

    Args:
        n: Input size along the axis.
        k: Kernel size.
        p: Zeros added on *each* side.
        s: Stride.

    Returns:
        The output size, at least 1.

    Raises:
        ConvShapeError: If an argument is out of range or the kernel is larger than the
            padded input ``n + 2p``.
    """
    n = _positive_int(n, "input size n")
    k = _positive_int(k, "kernel size k")
    p = _non_negative_int(p, "padding p")
    s = _positive_int(s, "stride s")
    if k > n + 2 * p:
        raise ConvShapeError(
            f"kernel size {k} is larger than the padded input {n} + 2*{p} = {n + 2 * p}; "
            'use a smaller kernel, a larger input, or padding="same".'
        )
    return (n + 2 * p - k) // s + 1


def same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """Zeros Keras/TensorFlow ``"same"`` padding adds before and after one axis.

    The output has ``out = ceil(n / s)`` positions, which need a padded length of
    ``(out - 1) * s + k``; the total padding is what is missing,
    ``max((out - 1) * s + k - n, 0)``. When that total is odd the extra zero goes *after*
    (bottom/right), as in TensorFlow.

    Args:
        n: Input size along the axis.
        k: Kernel size.
        s: Stride.

    Returns:
        ``(before, after)``.

    Example:
        >>> same_padding(7, 3, 1), same_padding(8, 3, 2), same_padding(5, 4, 1)
        ((1, 1), (0, 1), (1, 2))
    """
    n = _positive_int(n, "input size n")
    k = _positive_int(k, "kernel size k")
    s = _positive_int(s, "stride s")
    out = -(-n // s)  # ceil(n / s) in integers
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def output_size_for(n: int, k: int, stride: int = 1, padding: Padding = "valid") -> int:
    """Output size along one axis for a Keras-style padding name, as Keras computes it.

    ``"valid"`` is :func:`output_size` with ``p = 0``, ``"same"`` is ``ceil(n / stride)``
    and an int is the symmetric padding ``p`` of :func:`output_size`.

    Raises:
        ConvShapeError: For an unknown padding name or a kernel larger than a
            ``"valid"`` input.
    """
    mode = _padding_mode(padding)
    if mode == "same":
        before, after = same_padding(n, k, stride)
        # Same formula as output_size, with the (possibly asymmetric) padding in it.
        return (n + before + after - k) // stride + 1
    return output_size(n, k, 0 if mode == "valid" else mode, stride)


# --------------------------------------------------------------------------- convolution


def _pair(stride: object) -> tuple[int, int]:
    if isinstance(stride, tuple | list) and len(stride) == 2:
        return _positive_int(stride[0], "stride[0]"), _positive_int(stride[1], "stride[1]")
    if isinstance(stride, tuple | list):
        raise ConvShapeError(f"stride must be an int or a pair (sh, sw), got {stride!r}.")
    s = _positive_int(stride, "stride")
    return s, s


def _prepare(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Stride, padding: Padding
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[int, int]]:
    """Check the arguments; return (zero-padded x, w, b) in one dtype, and (sh, sw)."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 4:
        hint = " Add a batch axis with x[None]." if x.ndim == 3 else ""
        raise ConvShapeError(
            f"x must have 4 dimensions (N, H, W, C_in), got shape {x.shape}.{hint}"
        )
    if w.ndim != 4:
        raise ConvShapeError(
            f"w must have 4 dimensions (kh, kw, C_in, C_out) like a Keras Conv2D kernel, "
            f"got shape {w.shape}."
        )
    if 0 in w.shape:
        raise ConvShapeError(f"w must have no empty axis, got shape {w.shape}.")
    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in:
        raise ConvShapeError(
            f"x has {x.shape[3]} channels (last axis of {x.shape}) but w expects "
            f"C_in = {c_in} (third axis of {w.shape}); inputs must be NHWC and kernels "
            "(kh, kw, C_in, C_out)."
        )
    if b is not None:
        b = np.asarray(b)
        if b.shape != (c_out,):
            raise ConvShapeError(
                f"b must have shape (C_out,) = ({c_out},) to match w {w.shape}, got {b.shape}."
            )
    sh, sw = _pair(stride)
    mode = _padding_mode(padding)
    h, wd = x.shape[1:3]
    if mode == "same":
        pads = (same_padding(h, kh, sh), same_padding(wd, kw, sw))
    else:
        p = 0 if mode == "valid" else mode
        pads = ((p, p), (p, p))
        for axis, n, k, (lo, hi) in (("height", h, kh, pads[0]), ("width", wd, kw, pads[1])):
            if k > n + lo + hi:
                raise ConvShapeError(
                    f"kernel {axis} {k} is larger than the input {axis} {n} (+ padding "
                    f'{lo + hi}); use a smaller kernel, a larger input, or padding="same".'
                )
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    if dtype.kind in "biu":
        dtype = np.dtype(np.int64)  # uint8 images would overflow in the products and sums
    xp = np.pad(x.astype(dtype, copy=False), ((0, 0), pads[0], pads[1], (0, 0)))
    w = w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return xp, w, b, (sh, sw)


def conv2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Stride = 1,
    padding: Padding = "valid",
) -> np.ndarray:
    """2-D convolution written as explicit loops: the formula, one output value at a time.

    ``y[n, i, j, f] = b[f] + sum_{u, v, c} xp[n, i*sh + u, j*sw + v, c] * w[u, v, c, f]``
    with ``xp`` the zero-padded input. Slow; use :func:`conv2d` for anything but tiny
    inputs.

    Args:
        x: Input, shape ``(N, H, W, C_in)`` (channels last).
        w: Kernel, shape ``(kh, kw, C_in, C_out)``, the layout of a Keras Conv2D kernel.
        b: Bias, shape ``(C_out,)``, or None for no bias.
        stride: ``s`` or ``(sh, sw)``.
        padding: ``"valid"`` (none), ``"same"`` (Keras/TensorFlow semantics, output
            ``ceil(H / sh) x ceil(W / sw)``) or an int ``p`` of zeros on every side.

    Returns:
        Output of shape ``(N, H_out, W_out, C_out)`` with
        ``H_out = floor((H + pad_top + pad_bottom - kh) / sh) + 1`` (and likewise W_out).
        Integer inputs give int64 so sums cannot overflow.

    Raises:
        ConvShapeError: For wrong dimensions, mismatched channels, a bad padding or
            stride, or a kernel larger than the (padded) input.
    """
    xp, w, b, (sh, sw) = _prepare(x, w, b, stride, padding)
    kh, kw, _, c_out = w.shape
    n_batch = xp.shape[0]
    h_out = (xp.shape[1] - kh) // sh + 1  # output_size() with the padding already in xp
    w_out = (xp.shape[2] - kw) // sw + 1
    y = np.zeros((n_batch, h_out, w_out, c_out), dtype=xp.dtype)
    for n in range(n_batch):
        for i in range(h_out):
            for j in range(w_out):
                # The input window under the kernel for output (i, j): kh x kw x C_in.
                patch = xp[n, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for f in range(c_out):
                    y[n, i, j, f] = np.sum(patch * w[:, :, :, f])
                    if b is not None:
                        y[n, i, j, f] += b[f]
    return y


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Stride = 1,
    padding: Padding = "valid",
) -> np.ndarray:
    """2-D convolution, vectorised: every window at once, then one tensor contraction.

    Computes what :func:`conv2d_loop` does (same arguments, same result up to rounding), but
    takes a strided view of all ``kh x kw`` windows of the padded input and contracts it
    with the kernel over ``(u, v, c)``.

    Args:
        x: Input, shape ``(N, H, W, C_in)``.
        w: Kernel, shape ``(kh, kw, C_in, C_out)``.
        b: Bias, shape ``(C_out,)``, or None.
        stride: ``s`` or ``(sh, sw)``.
        padding: ``"valid"``, ``"same"`` or an int ``p``.

    Returns:
        Output of shape ``(N, H_out, W_out, C_out)``.

    Raises:
        ConvShapeError: As :func:`conv2d_loop`.
    """
    xp, w, b, (sh, sw) = _prepare(x, w, b, stride, padding)
    kh, kw = w.shape[:2]
    # (N, H', W', C_in, kh, kw): a view, no copy; the stride keeps every sh-th/sw-th window.
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    # Sum windows' (C_in, kh, kw) against the kernel's: (N, H_out, W_out, C_out).
    y = np.tensordot(windows, w, axes=([3, 4, 5], [2, 0, 1]))
    return y if b is None else y + b


# --------------------------------------------------------------------------- receptive field


@dataclass(frozen=True)
class ReceptiveField:
    """One layer of a stack, seen from the input.

    Attributes:
        kernel: Kernel (or pool) size ``k``.
        stride: Stride ``s``.
        jump: Input pixels between neighbouring outputs of this layer, ``j_in * s``.
        receptive_field: Input pixels one output sees, ``r_in + (k - 1) * j_in``.
    """

    kernel: int
    stride: int
    jump: int
    receptive_field: int


def receptive_field(layers: Iterable[Sequence[int]]) -> list[ReceptiveField]:
    """Receptive field and jump after each layer of a stack, along one axis.

    Starting from the input (``r = 1``, ``j = 1``) each layer ``(k, s)`` applies::

        r_out = r_in + (k - 1) * j_in
        j_out = j_in * s

    Padding shifts where a receptive field starts but not its size.

    Args:
        layers: ``(kernel, stride)`` pairs, first layer first; a pooling layer is
            ``(pool, pool)``. For non-square kernels call once per axis.

    Returns:
        One :class:`ReceptiveField` per layer.

    Example:
        >>> [r.receptive_field for r in receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)])]
        [3, 4, 8, 10]
    """
    result = []
    r, j = 1, 1
    for index, layer in enumerate(layers):
        if isinstance(layer, str) or len(layer) != 2:
            raise ConvShapeError(
                f"layer {index} must be a (kernel, stride) pair, got {layer!r}; "
                "write a pooling layer as (pool, pool)."
            )
        k = _positive_int(layer[0], f"kernel of layer {index}")
        s = _positive_int(layer[1], f"stride of layer {index}")
        r, j = r + (k - 1) * j, j * s
        result.append(ReceptiveField(kernel=k, stride=s, jump=j, receptive_field=r))
    return result
