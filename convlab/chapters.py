"""Small computations and figures behind the first chapters' demonstrations.

The chapters stay one-line calls; what they show is computed here, and tested:

- :func:`connectivity_table`: inputs per unit and parameters of a dense, a locally connected
  and a convolutional layer making the same feature map (locality, then weight sharing).
- :func:`edge_kernel`: a fixed edge detector (what a shift does to its output is
  :func:`convlab.views.conv.equivariance_figure`).
- :func:`output_size_table`: output sizes for kernel, stride and padding choices.
- :func:`compare_with_keras`: the NumPy convolution of :mod:`convlab.conv` beside
  ``keras.layers.Conv2D`` with the same weights, on a real image.

Functions return data and print nothing; the figures are in :mod:`convlab.views.conv`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from convlab import conv

__all__ = [
    "KerasComparison",
    "compare_with_keras",
    "connectivity_table",
    "edge_kernel",
    "output_size_table",
]


def connectivity_table(
    image_shape: tuple[int, ...], kernel_size: int = 3, filters: int = 32
) -> pd.DataFrame:
    """Three layers that turn an ``H x W x C`` image into an ``H x W x filters`` map.

    A dense layer connects every output value to every input value; a locally connected
    layer keeps only a ``k x k`` window per output position, with its own weights at each
    position (locality); a convolution also shares one set of weights across positions
    (weight sharing). Biases: one per output value, except the convolution's one per filter.

    Returns:
        Rows ``dense``, ``locally connected``, ``convolution``; columns ``inputs_per_unit``
        (input values one output value depends on) and ``params``.
    """
    h, w, c = (*image_shape, 1)[:3] if len(image_shape) == 2 else image_shape
    k, f = int(kernel_size), int(filters)
    outputs = h * w * f
    window = k * k * c
    rows = {
        "dense": (h * w * c, h * w * c * outputs + outputs),
        "locally connected": (window, window * outputs + outputs),
        "convolution": (window, window * f + f),
    }
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["inputs_per_unit", "params"]
    ).rename_axis("layer")


def edge_kernel(channels: int = 1) -> np.ndarray:
    """A Sobel filter for vertical edges, ``(3, 3, channels, 1)``, averaged over channels."""
    sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return np.repeat(sobel[:, :, None, None], channels, axis=2) / channels


def output_size_table(
    n: int, kernels: tuple[int, ...] = (3, 5, 7), strides: tuple[int, ...] = (1, 2)
) -> pd.DataFrame:
    """Output side length for an ``n``-pixel input, per kernel, stride and padding.

    Computed with :func:`convlab.conv.output_size_for`, Keras' rule: ``"valid"`` is
    ``floor((n - k) / s) + 1`` and ``"same"`` is ``ceil(n / s)``.
    """
    rows = [
        (k, s, conv.output_size_for(n, k, s, "valid"), conv.output_size_for(n, k, s, "same"))
        for k in kernels
        for s in strides
    ]
    return pd.DataFrame(rows, columns=["kernel", "stride", "valid", "same"]).set_index(
        ["kernel", "stride"]
    )


@dataclass(frozen=True)
class KerasComparison:
    """The NumPy convolutions beside ``keras.layers.Conv2D`` on the same input and weights."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    max_diff_vectorised: float  # max |conv.conv2d - Keras|
    max_diff_loop: float  # max |conv.conv2d_loop - Keras|
    output: np.ndarray  # the NumPy output, (H_out, W_out, filters)


def compare_with_keras(
    image: np.ndarray,
    filters: int = 8,
    kernel_size: int = 3,
    stride: int = 1,
    padding: str = "same",
    seed: int = 0,
) -> KerasComparison:
    """Run one image through a seeded ``Conv2D`` and through both NumPy versions.

    Args:
        image: ``(H, W, C)`` float image (e.g. a test image scaled to [0, 1]).
        filters, kernel_size, stride, padding: the layer; Keras initialises its weights
            (Glorot-uniform kernel) from ``seed``, and a small random bias is added so the
            bias term is checked too.
    """
    import keras

    x = np.asarray(image, dtype=np.float32)[None]
    keras.utils.set_random_seed(seed)
    layer = keras.layers.Conv2D(filters, kernel_size, strides=stride, padding=padding)
    layer.build(x.shape)
    rng = np.random.default_rng(seed)
    w = keras.ops.convert_to_numpy(layer.kernel)
    b = rng.normal(0.0, 0.1, size=filters).astype(np.float32)
    layer.bias.assign(b)
    expected = keras.ops.convert_to_numpy(layer(x))
    fast = conv.conv2d(x, w, b, stride=stride, padding=padding)
    slow = conv.conv2d_loop(x, w, b, stride=stride, padding=padding)
    return KerasComparison(
        input_shape=tuple(x.shape[1:]),
        output_shape=tuple(fast.shape[1:]),
        max_diff_vectorised=float(np.max(np.abs(fast - expected))),
        max_diff_loop=float(np.max(np.abs(slow - expected))),
        output=fast[0],
    )
