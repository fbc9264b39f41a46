"""Where models go wrong: per-class accuracy side by side, confused pairs, misclassified images.

The tables start from confusion matrices (rows: true class, columns: predicted), which every
:class:`convlab.train.TrainResult` and stored run record carries, so they need no model. The
example images need predictions, from :func:`predict_classes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from convlab.inspect._common import InspectError
from convlab.train import per_class_accuracy, predict_proba
from convlab.views.plot import figure, grid, show_image

__all__ = [
    "confused_pairs",
    "confused_pairs_figure",
    "misclassified_gallery",
    "misclassified_indices",
    "per_class_figure",
    "per_class_table",
    "predict_classes",
]


def predict_classes(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The predicted class of each image: the argmax of :func:`convlab.train.predict_proba`."""
    return predict_proba(model, x, batch_size).argmax(axis=1)


def _confusion(matrix, class_names: Sequence[str]) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.int64)
    k = len(class_names)
    if m.shape != (k, k):
        raise InspectError(
            f"A confusion matrix for {k} classes must be {k}x{k}, got shape {m.shape}."
        )
    return m


def per_class_table(
    confusions: Mapping[str, Sequence[Sequence[int]]], class_names: Sequence[str]
) -> pd.DataFrame:
    """Per-class accuracy (recall) of each model, side by side.

    Args:
        confusions: model label -> its confusion matrix, e.g.
            ``{"MLP": mlp.confusion, "CNN": cnn.confusion}`` from two ``TrainResult``s.
        class_names: label ``i`` is ``class_names[i]``.

    Returns:
        One row per class, one column per model, in [0, 1] (:func:`convlab.train.
        per_class_accuracy`: NaN for a class without examples). With exactly two models a
        ``difference`` column holds second minus first; rows stay in class order.
    """
    columns = {
        label: per_class_accuracy(_confusion(matrix, class_names))
        for label, matrix in confusions.items()
    }
    table = pd.DataFrame(columns, index=pd.Index(list(class_names), name="class"))
    if len(confusions) == 2:
        first, second = table.columns
        table["difference"] = table[second] - table[first]
    return table


def per_class_figure(table: pd.DataFrame):
    """Horizontal bars of each model's per-class accuracy (the models' columns of
    :func:`per_class_table`); returns a matplotlib ``Figure``."""
    models = [c for c in table.columns if c != "difference"]
    fig, ax = figure((6, 0.35 * len(table) * len(models) / 2 + 1.2))
    height = 0.8 / len(models)
    y = np.arange(len(table))
    for i, label in enumerate(models):
        ax.barh(y + (i - (len(models) - 1) / 2) * height, table[label], height, label=label)
    ax.set_yticks(y, table.index)
    ax.invert_yaxis()  # first class on top, as in the table
    ax.set_xlabel("test accuracy of the class")
    ax.set_xlim(0.0, 1.0)  # a bar's length is its value: bars start at zero
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=len(models), frameon=False)
    return fig


def confused_pairs(
    confusion: Sequence[Sequence[int]], class_names: Sequence[str], top: int = 5
) -> pd.DataFrame:
    """The class pairs a model mixes up most, counting both directions.

    Returns:
        ``top`` rows, most confusions first (ties in class order), with columns ``a``,
        ``b`` (class names, ``a`` first in class order), ``a_as_b`` (true ``a`` predicted
        ``b``), ``b_as_a``, ``total`` and ``share`` (of all the model's errors).
    """
    m = _confusion(confusion, class_names)
    errors = m.sum() - np.trace(m)
    rows = []
    for a in range(len(m)):
        for b in range(a + 1, len(m)):
            total = int(m[a, b] + m[b, a])
            if total:
                rows.append((a, b, int(m[a, b]), int(m[b, a]), total))
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    table = pd.DataFrame(rows[:top], columns=["a_index", "b_index", "a_as_b", "b_as_a", "total"])
    table.insert(0, "a", [class_names[i] for i in table["a_index"]])
    table.insert(1, "b", [class_names[i] for i in table["b_index"]])
    table["share"] = table["total"] / errors if errors else 0.0
    return table


def _mistakes(y, pred, true_class: int, predicted: int, n: int) -> np.ndarray:
    return np.flatnonzero((y == true_class) & (pred == predicted))[:n]


def confused_pairs_figure(
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    pairs: pd.DataFrame,
    per_direction: int = 3,
):
    """For each pair of :func:`confused_pairs`, test images of ``a`` taken for ``b`` and of
    ``b`` taken for ``a`` (the first ones in test order). Returns a matplotlib ``Figure``."""
    y, pred = np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)
    if len(pairs) == 0:
        raise InspectError("No confused pairs to show: the model made no errors.")
    fig, axes = grid(len(pairs), 2 * per_direction, cell=1.2)
    for row, pair in zip(axes, pairs.itertuples(), strict=True):
        directions = (
            (pair.a_index, pair.b_index, f"{pair.a} as {pair.b}"),
            (pair.b_index, pair.a_index, f"{pair.b} as {pair.a}"),
        )
        for d, (true_class, predicted, title) in enumerate(directions):
            cells = row[d * per_direction : (d + 1) * per_direction]
            found = _mistakes(y, pred, true_class, predicted, per_direction)
            for ax in cells[len(found) :]:
                ax.set_axis_off()
            for k, (ax, i) in enumerate(zip(cells, found, strict=False)):
                show_image(ax, x[i], title if k == 0 else None)
    return fig


def misclassified_indices(y: np.ndarray, pred: np.ndarray, n: int = 16, seed: int = 0):
    """A seeded random sample of up to ``n`` indices where ``pred != y``, in test order."""
    y, pred = np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)
    wrong = np.flatnonzero(y != pred)
    if len(wrong) == 0:
        raise InspectError("No misclassified images to show: every prediction is right.")
    return np.sort(np.random.default_rng(seed).choice(wrong, min(n, len(wrong)), replace=False))


def misclassified_gallery(
    x: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    class_names: Sequence[str],
    n: int = 16,
    cols: int = 8,
    seed: int = 0,
):
    """The images of :func:`misclassified_indices`, titled "true -> predicted".

    Returns a matplotlib ``Figure``.
    """
    y, pred = np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)
    chosen = misclassified_indices(y, pred, n, seed)
    rows = -(-len(chosen) // cols)
    fig, axes = grid(rows, min(cols, len(chosen)), cell=1.3)
    for ax in axes.flat[len(chosen) :]:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, chosen, strict=False):
        show_image(ax, x[i], f"{class_names[y[i]]}\n-> {class_names[pred[i]]}")
    return fig
