"""Translation: accuracy on shifted test images, and how a layer's output follows a shift.

A convolution is *equivariant* to translation: shifting the input shifts the output, so
``conv(shift(x)) == shift(conv(x))`` away from the borders. A dense layer has no such
rule. :func:`equivariance_error` measures the first fact directly; :func:`shift_response`
puts a conv layer and a dense layer through the same test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from convlab.inspect._common import InspectError
from convlab.inspect.errors import predict_classes
from convlab.inspect.filters import conv_layers
from convlab.views.plot import figure

__all__ = [
    "accuracy_vs_shift",
    "equivariance_error",
    "shift_figure",
    "shift_images",
    "shift_response",
]


def shift_images(x: np.ndarray, dx: int, dy: int = 0, fill: float = 0.0) -> np.ndarray:
    """Images moved ``dx`` pixels right and ``dy`` down (negative: left, up).

    Pixels pushed past an edge are lost and the vacated strip is filled with ``fill``,
    by default 0: the black background of MNIST and Fashion-MNIST, which is also the
    value ``"same"`` padding feeds a convolution at the border. (For CIFAR-10, whose
    backgrounds are not black, the strip is a visible black band.)

    Args:
        x: a batch, ``(N, H, W)`` or ``(N, H, W, C)``.
        dx, dy: whole pixels; ``shift_images(x, 0, 0)`` is a copy of ``x``.
        fill: the value of the vacated pixels.
    """
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise InspectError(
            f"shift_images takes a batch (N, H, W) or (N, H, W, C), got shape {x.shape}; "
            "add a batch axis with x[None]."
        )
    dx, dy = int(dx), int(dy)
    h, w = x.shape[1:3]
    out = np.full_like(x, fill)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def directions(k: int) -> list[tuple[int, int]]:
    """The four shifts by ``k`` pixels (right, left, down, up) as ``(dx, dy)``; for 0,
    ``[(0, 0)]``."""
    return [(0, 0)] if k == 0 else [(k, 0), (-k, 0), (0, k), (0, -k)]


def accuracy_vs_shift(
    models: Mapping[str, object],
    x: np.ndarray,
    y: np.ndarray,
    shifts: Iterable[int] = range(0, 5),
) -> pd.DataFrame:
    """Test accuracy of each model on images shifted by ``k`` pixels, for each ``k``.

    A shift of ``k`` is evaluated in all four directions (right, left, down, up) and the
    four accuracies are averaged, so no model gains from a lucky direction.

    Args:
        models: label -> trained Keras model, e.g. ``{"MLP": mlp, "CNN": cnn}``.
        x, y: test images (model-ready) and labels.
        shifts: the ``k`` to evaluate, in pixels.

    Returns:
        Index ``shift`` (pixels), one column of accuracies per model.
    """
    y = np.asarray(y).reshape(-1)
    shifts = [int(k) for k in shifts]
    if any(k < 0 for k in shifts):
        raise InspectError(f"shifts are distances in pixels and must be >= 0, got {shifts}.")
    table = {}
    for label, model in models.items():
        table[label] = [
            float(
                np.mean(
                    [
                        np.mean(predict_classes(model, shift_images(x, dx, dy)) == y)
                        for dx, dy in directions(k)
                    ]
                )
            )
            for k in shifts
        ]
    return pd.DataFrame(table, index=pd.Index(shifts, name="shift"))


def shift_figure(table: pd.DataFrame):
    """Accuracy against shift, one line per model (from :func:`accuracy_vs_shift`)."""
    fig, ax = figure((5, 3.2))
    for label in table.columns:
        ax.plot(table.index, table[label], marker="o", label=label)
    ax.set_xlabel("shift (pixels, mean of right, left, down, up)")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(list(table.index))
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


# --------------------------------------------------------------------------- equivariance


def _pair(shift: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(shift, tuple | list):
        return int(shift[0]), int(shift[1])
    return int(shift), 0


def _apply_conv(conv, x: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Run a Conv2D layer, or a bare kernel with "same" padding; also return (kh, kw)."""
    import keras

    x = np.asarray(x, dtype="float32")
    if isinstance(conv, keras.layers.Layer):
        if not isinstance(conv, keras.layers.Conv2D):
            raise InspectError(f"Expected a Conv2D layer, got {type(conv).__name__}.")
        if tuple(conv.strides) != (1, 1) or tuple(conv.dilation_rate) != (1, 1):
            raise InspectError(
                f"Layer {conv.name!r} has strides {conv.strides} and dilation "
                f"{conv.dilation_rate}: a strided convolution is equivariant only to shifts "
                "by multiples of its stride; use a stride-1 layer."
            )
        return keras.ops.convert_to_numpy(conv(x)), tuple(conv.kernel_size)
    kernel = np.asarray(conv, dtype="float32")
    if kernel.ndim != 4 or kernel.shape[2] != x.shape[-1]:
        raise InspectError(
            f"A kernel must be (kh, kw, C_in, C_out) with C_in = {x.shape[-1]} (the image's "
            f"channels), got shape {kernel.shape}."
        )
    y = keras.ops.conv(x, kernel, strides=1, padding="same")
    return keras.ops.convert_to_numpy(y), kernel.shape[:2]


def _interior(a: np.ndarray, dx: int, dy: int, kh: int, kw: int) -> np.ndarray:
    # A conv output differs from the shifted one only where its window met the vacated
    # strip or pixels that left the frame: within |shift| + k - 1 of an edge.
    my, mx = abs(dy) + kh - 1, abs(dx) + kw - 1
    h, w = a.shape[1:3]
    if h <= 2 * my or w <= 2 * mx:
        raise InspectError(
            f"No interior left: a {h}x{w} output loses {my} rows and {mx} columns at each "
            "edge for this shift and kernel; use a larger image or a smaller shift."
        )
    return a[:, my : h - my, mx : w - mx]


def _conv_pair(conv, images: np.ndarray, shift) -> tuple[np.ndarray, ...]:
    """(conv(x), conv(shift(x)), shift(conv(x))) restricted to the interior."""
    dx, dy = _pair(shift)
    plain, (kh, kw) = _apply_conv(conv, images)
    moved, _ = _apply_conv(conv, shift_images(images, dx, dy))
    return tuple(_interior(a, dx, dy, kh, kw) for a in (plain, moved, shift_images(plain, dx, dy)))


def equivariance_error(conv, image: np.ndarray, shift: int | tuple[int, int] = 1) -> float:
    """Largest difference between shift-then-convolve and convolve-then-shift, inside.

    Args:
        conv: a stride-1 ``keras.layers.Conv2D`` (e.g. ``model.get_layer("conv1_1")``,
            activation included) or a kernel ``(kh, kw, C_in, C_out)`` applied with
            ``"same"`` padding.
        image: one image ``(H, W, C)``.
        shift: ``dx`` pixels to the right, or ``(dx, dy)``.

    Returns:
        ``max |conv(shift(x)) - shift(conv(x))|`` over the interior: every position at least
        ``|shift| + k - 1`` pixels from each edge, since only there are both sides computed
        from the same pixels (elsewhere one side saw the zero fill, the other the padding or
        pixels that left the frame). It is 0 up to float rounding.
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise InspectError(f"equivariance_error takes one image (H, W, C), got {image.shape}.")
    _, moved, shifted = _conv_pair(conv, image[None], shift)
    return float(np.max(np.abs(moved - shifted)))


def _first_dense(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            return layer
    raise InspectError(f"Model {model.name!r} has no Dense layer.")


def _best_matching(moved: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """For every unit of ``moved`` (N, U) the unit of ``plain`` closest over the batch."""
    moved, plain = moved.astype(np.float64), plain.astype(np.float64)
    # Squared distances between columns, |a|^2 - 2 a.b + |b|^2, for all pairs at once.
    cost = (moved**2).sum(axis=0)[:, None] - 2.0 * moved.T @ plain + (plain**2).sum(axis=0)
    return plain[:, cost.argmin(axis=1)]


def _scores(plain: np.ndarray, moved: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(change, unexplained) of :func:`shift_response`."""
    norm = lambda a: float(np.linalg.norm(a.astype(np.float64)))  # noqa: E731
    change = norm(moved - plain)
    unexplained = norm(moved - predicted) / change if change > 0 else 0.0
    return change / norm(plain), unexplained


def shift_response(cnn, mlp, images: np.ndarray, shifts: Iterable[int] = (1, 2, 3)):
    """How the CNN's first conv layer and the MLP's first dense layer follow a shift.

    For a layer ``F``, a batch ``x`` and its shift ``Sx`` (right by ``k`` pixels):

    - ``change = |F(Sx) - F(x)| / |F(x)|``: how much the shift changes the layer's output.
    - ``unexplained = |F(Sx) - T F(x)| / |F(Sx) - F(x)|``: the share of that change a
      rearrangement ``T`` of the unshifted output fails to reproduce (Frobenius norms over
      the batch). 0 means the layer is equivariant: a known rearrangement of its output
      accounts for the shift. 1 means no better than not rearranging at all.

    For the conv layer ``T`` is fixed in advance (shift the feature maps by ``k``) and the
    norms are taken over the interior (see :func:`equivariance_error`). The dense layer's
    128 (or so) outputs have no positions to shift, so it gets the most lenient test we can
    give it: ``T`` sends every output unit to the unshifted unit that matches it best over
    this very batch (a search over all units, chosen after seeing the answer, more freedom
    than any fixed permutation). Since "no rearrangement" is among the choices, its
    ``unexplained`` is at most 1.

    Args:
        cnn, mlp: trained Keras models; the CNN's first ``Conv2D`` must have stride 1.
        images: a batch of model-ready images, e.g. 256 test images.
        shifts: shifts in pixels (to the right).

    Returns:
        One row per (layer, shift) with columns ``model``, ``layer``, ``shift``,
        ``change`` and ``unexplained``.
    """
    import keras

    images = np.asarray(images, dtype="float32")
    conv, dense = conv_layers(cnn)[0], _first_dense(mlp)
    probe = keras.Model(inputs=mlp.inputs[0], outputs=dense.output)

    def hidden_of(x: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(probe(x, training=False))

    hidden = hidden_of(images)
    rows = []
    for k in map(int, shifts):
        plain, moved, shifted = _conv_pair(conv, images, k)
        rows.append(("CNN", conv.name, k, *_scores(plain, moved, shifted)))
        hidden_moved = hidden_of(shift_images(images, k, 0))
        matched = _best_matching(hidden_moved, hidden)
        rows.append(("MLP", dense.name, k, *_scores(hidden, hidden_moved, matched)))
    return pd.DataFrame(rows, columns=["model", "layer", "shift", "change", "unexplained"])
