"""Learning a kernel by gradient descent: recover a known filter from what it does.

Given inputs ``x`` and the outputs ``y = conv2d(x, w_true)`` of an unknown kernel, the
squared error of a guess ``w``,

    L(w) = mean over n, i, j, f of (conv2d(x, w)[n, i, j, f] - y[n, i, j, f])^2,

has the gradient

    dL/dw[u, v, c, f] = 2 / M * sum over n, i, j of r[n, i, j, f] * x[n, i + u, j + v, c]

with ``r = conv2d(x, w) - y`` the residual and ``M`` its number of values: a correlation
of the input with the residual, computed here from the same windows as
:func:`convlab.conv.conv2d`. Gradient descent on it is how a convolutional layer learns
its filters in training (there the loss is the classifier's, and backpropagation brings
its gradient to the layer's output); the filters the interpretation chapter shows were
found this way. Valid padding and stride 1 keep the example small.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((4, 12, 12, 1))
    >>> w_true = np.array([[1.0, 0.0, -1.0]] * 3)[:, :, None, None]
    >>> fit = fit_kernel(x, conv.conv2d(x, w_true), kernel_size=3)
    >>> bool(np.abs(fit.kernel - w_true).max() < 1e-3)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convlab import conv
from convlab.conv import ConvShapeError

__all__ = ["KernelFit", "fit_kernel", "kernel_gradient", "squared_error"]


@dataclass(frozen=True)
class KernelFit:
    """The kernel gradient descent found, and the loss before each step and at the end."""

    kernel: np.ndarray  # (kh, kw, C_in, C_out)
    losses: tuple[float, ...]  # len = steps + 1


def squared_error(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """``L(w)``: the mean squared difference between ``conv2d(x, w)`` and ``y``."""
    return float(np.mean((conv.conv2d(x, w) - y) ** 2))


def kernel_gradient(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``dL/dw`` of :func:`squared_error` (valid padding, stride 1), shaped like ``w``."""
    x, y, w = (np.asarray(a, dtype=np.float64) for a in (x, y, w))
    residual = conv.conv2d(x, w) - y
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))  # (N, H', W', C, kh, kw)
    grad = np.tensordot(windows, residual, axes=([0, 1, 2], [0, 1, 2]))  # (C, kh, kw, F)
    return 2.0 / residual.size * grad.transpose(1, 2, 0, 3)


def fit_kernel(
    x: np.ndarray,
    y: np.ndarray,
    kernel_size: int = 3,
    steps: int = 300,
    learning_rate: float | None = None,
    seed: int = 0,
) -> KernelFit:
    """Gradient descent from a small random kernel to the one that maps ``x`` to ``y``.

    Args:
        x: Inputs ``(N, H, W, C_in)``.
        y: Targets ``(N, H - k + 1, W - k + 1, C_out)``, e.g. ``conv2d(x, w_true)``.
        kernel_size: ``k`` of the kernel to learn (``k x k``).
        steps: Gradient steps.
        learning_rate: Step size; None takes ``1 / (largest curvature of L)``, the
            largest step that cannot diverge on this quadratic loss.
        seed: Seeds the starting kernel.

    Raises:
        ConvShapeError: If ``y``'s shape is not what a ``k x k`` valid convolution of
            ``x`` gives.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    k = conv._positive_int(kernel_size, "kernel_size")
    if (
        x.ndim != 4
        or y.ndim != 4
        or y.shape[:3]
        != (
            x.shape[0],
            x.shape[1] - k + 1,
            x.shape[2] - k + 1,
        )
    ):
        raise ConvShapeError(
            f"y {y.shape} is not the shape a {k}x{k} valid convolution of x {x.shape} gives "
            f"(N, H - {k - 1}, W - {k - 1}, C_out)."
        )
    windows = sliding_window_view(x, (k, k), axis=(1, 2)).reshape(-1, x.shape[3] * k * k)
    if learning_rate is None:
        # L is quadratic in each filter with Hessian 2 / M * P^T P (P: the windows, one
        # row per output position; M = rows * C_out); its largest eigenvalue bounds the step.
        gram = windows.T @ windows / (len(windows) * y.shape[3])
        curvature = 2.0 * np.linalg.eigvalsh(gram)[-1]
        learning_rate = 1.0 / curvature
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.1, size=(k, k, x.shape[3], y.shape[3]))
    losses = [squared_error(x, y, w)]
    for _ in range(int(steps)):
        w = w - learning_rate * kernel_gradient(x, y, w)
        losses.append(squared_error(x, y, w))
    return KernelFit(kernel=w, losses=tuple(losses))
