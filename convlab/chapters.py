"""Small computations and figures behind the first chapters' demonstrations.

The chapters stay one-line calls; what they show is computed here, and tested:

- :func:`connectivity_table`: inputs per unit and parameters of a dense, a locally connected
  and a convolutional layer making the same feature map (locality, then weight sharing).
- :func:`edge_kernel`: a fixed edge detector (what a shift does to its output is
  :func:`convlab.views.conv.equivariance_figure`).
- :func:`equivariant_columns`: the exact columns where shift-then-convolve equals
  convolve-then-shift.
- :func:`stacked_versus_large`: a stack of small kernels against one large kernel with the
  same receptive field (weights counted by formula and by Keras).
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
    "equivariant_columns",
    "output_size_table",
    "stacked_versus_large",
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


def equivariant_columns(width: int, kernel_size: int, shift: int) -> range:
    """The output columns ``j`` at which ``conv(T_d x)[j] == (T_d conv(x))[j]`` for every
    image and kernel (bias included), for a stride-1, ``"same"``-padded convolution with an
    odd ``kernel_size`` and a horizontal shift ``T_d`` by ``shift`` pixels (positive: right,
    zeros entering at the left; the shifted feature map is filled with zeros too).

    With ``h = (kernel_size - 1) // 2``: a right shift ``d >= 0`` agrees exactly for
    ``d <= j <= width - 1 - h``. On the left the zeros that entered act like the padding
    ``conv(x)`` saw; on the right the last ``h`` columns of ``conv(T_d x)`` saw padding
    where ``conv(x)`` saw the pixels that the shift pushed out of the frame. A left shift is
    the mirror image: ``h <= j <= width - 1 - |d|``. Outside these columns the two may
    still agree for a particular image or kernel (without a bias, a column whose window
    sees only the zeros that entered is 0 on both sides), but not for every one. With no
    shift every column agrees.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}.")
    if width < 1:
        raise ValueError(f"width must be positive, got {width}.")
    h, d = (kernel_size - 1) // 2, int(shift)
    if d == 0:
        return range(width)
    if d > 0:
        return range(d, max(d, width - h))
    return range(h, max(h, width - abs(d)))


def stacked_versus_large(channels: int = 32, small: int = 3, large: int = 5) -> pd.DataFrame:
    """``(large - 1) / (small - 1)`` stacked ``small x small`` convolutions against one
    ``large x large`` one, all from ``channels`` to ``channels`` channels with ReLU after
    each: receptive field (:func:`convlab.conv.receptive_field`), weights by formula
    (``k^2 C^2`` per layer, biases apart), parameters as Keras counts them, and the number
    of non-linearities.
    """
    import keras

    if small < 2 or large <= small or (large - 1) % (small - 1):
        raise ValueError(
            f"{large}x{large} is not reached by stacking {small}x{small} kernels: need "
            "large > small >= 2 with (large - 1) a multiple of (small - 1)."
        )
    depth = (large - 1) // (small - 1)
    rows = []
    for label, kernels in (
        (f"{depth} x {small}x{small}", [small] * depth),
        (f"1 x {large}x{large}", [large]),
    ):
        model = keras.Sequential(
            [keras.Input((16, 16, channels))]
            + [keras.layers.Conv2D(channels, k, padding="same", activation="relu") for k in kernels]
        )
        rows.append(
            {
                "layers": label,
                "receptive field": conv.receptive_field([(k, 1) for k in kernels])[
                    -1
                ].receptive_field,
                "weights (formula)": sum(k * k * channels * channels for k in kernels),
                "parameters (Keras)": model.count_params(),
                "non-linearities": len(kernels),
            }
        )
    return pd.DataFrame(rows).set_index("layers")


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
