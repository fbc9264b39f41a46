"""Demonstrations behind the convolution chapter's sections on channels and pooling.

- :func:`one_by_one_as_matmul`: a 1x1 convolution is one matrix product per pixel.
- :func:`compare_pooling_with_keras`: :func:`convlab.pool.pool2d` beside Keras' pooling
  layers on real feature maps, for both modes and paddings.
- :func:`pooled_shift_table`: what a shift of the input does to a max-pooled map: shifts by
  the pool's stride move it exactly, smaller ones leave only some of its values in place.

Functions return data and print nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from convlab import conv, pool

__all__ = ["compare_pooling_with_keras", "one_by_one_as_matmul", "pooled_shift_table"]


def one_by_one_as_matmul(x: np.ndarray, filters: int = 4, seed: int = 0) -> float:
    """``max |conv2d(x, w) - x @ w[0, 0]|`` for a random 1x1 kernel ``w`` on ``x`` (NHWC).

    A 1x1 convolution mixes the channels of each pixel with the same ``C_in x C_out``
    matrix and never looks at a neighbour: a dense layer applied at every position.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise conv.ConvShapeError(f"x must be (N, H, W, C), got shape {x.shape}.")
    w = np.random.default_rng(seed).standard_normal((1, 1, x.shape[-1], filters))
    return float(np.max(np.abs(conv.conv2d(x, w) - x @ w[0, 0])))


def compare_pooling_with_keras(x: np.ndarray, pool_size: int = 2) -> pd.DataFrame:
    """Largest difference between :func:`convlab.pool.pool2d` and ``keras.layers.
    MaxPooling2D`` / ``AveragePooling2D`` on ``x`` (NHWC), per mode and padding.

    Returns:
        One row per (mode, padding): the output shape and the max absolute difference.
    """
    import keras

    x = np.asarray(x, dtype=np.float32)
    layers = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
    rows = []
    for mode, layer in layers.items():
        for padding in ("valid", "same"):
            expected = keras.ops.convert_to_numpy(layer(pool_size, padding=padding)(x))
            ours = pool.pool2d(x, pool_size, padding=padding, mode=mode)
            rows.append(
                {
                    "mode": mode,
                    "padding": padding,
                    "output": " x ".join(map(str, ours.shape[1:])),
                    "max |difference|": float(np.max(np.abs(ours - expected))),
                }
            )
    return pd.DataFrame(rows).set_index(["mode", "padding"])


def _shift_right(x: np.ndarray, d: int) -> np.ndarray:
    out = np.zeros_like(x)
    out[:, :, d:] = x[:, :, : x.shape[2] - d]
    return out


def pooled_shift_table(x: np.ndarray, pool_size: int = 2, shifts=(1, 2, 3, 4)) -> pd.DataFrame:
    """For each shift ``d`` of ``x`` (NHWC) to the right: the share (a fraction) of max-pooled
    values that did not change, and the share equal to the unshifted pooled map moved ``d /
    pool_size`` positions (only for shifts by a multiple of the pool size).

    Compared over the interior columns, away from both edges, so the pixels that enter or
    leave the frame do not count. Values equal to within 1e-12 count as equal.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise conv.ConvShapeError(f"x must be (N, H, W, C), got shape {x.shape}.")
    plain = pool.pool2d(x, pool_size)
    rows = []
    for d in shifts:
        d = int(d)
        if d < 1:
            raise ValueError(f"shifts must be positive whole pixels, got {d}.")
        moved = pool.pool2d(_shift_right(x, d), pool_size)
        m = -(-d // pool_size) + 1  # pooled columns touched by the edges
        inner = slice(m, plain.shape[2] - m)
        unchanged = np.isclose(moved[:, :, inner], plain[:, :, inner], rtol=0, atol=1e-12)
        row = {"shift (pixels)": d, "unchanged": float(unchanged.mean())}
        if d % pool_size == 0:
            follows = _shift_right(plain, d // pool_size)
            same = np.isclose(moved[:, :, inner], follows[:, :, inner], rtol=0, atol=1e-12)
            row["moved exactly"] = float(same.mean())
        else:
            row["moved exactly"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("shift (pixels)")
