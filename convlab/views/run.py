"""Figures of one training run (a :class:`~convlab.train.TrainResult`): learning curves and
the confusion matrix (a whole study's curves are :func:`convlab.views.study_figures.study_curves`).

Each function returns a :class:`matplotlib.figure.Figure` (see :mod:`convlab.views.plot`).

Example:
    >>> fig = run_curves(result)  # doctest: +SKIP
    >>> fig.savefig("curves.png")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from convlab.errors import ConvlabError
from convlab.train import confusion_shares
from convlab.views.plot import figure

__all__ = ["confusion_figure", "run_curves"]


def run_curves(result, title: str | None = None):
    """Loss and accuracy per epoch, training beside validation, for one run.

    The epoch whose weights were kept (``result.best_epoch``) is marked.
    """
    from matplotlib.figure import Figure

    history = result.history
    if not history.get("loss"):
        raise ConvlabError("This result has no history: it ran no epoch.")
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric, scale, label in (
        (axes[0], "loss", 1, "cross-entropy loss"),
        (axes[1], "accuracy", 100, "accuracy (%)"),
    ):
        for prefix, name in (("", "training"), ("val_", "validation")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(epochs, np.asarray(values) * scale, "-o", markersize=3, label=name)
        ax.axvline(result.best_epoch, color="0.6", linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs if len(epochs) <= 12 else ax.get_xticks())
    axes[0].legend(frameon=False)
    fig.suptitle(title or f"seed {result.seed}: kept the weights of epoch {result.best_epoch}")
    return fig


def confusion_figure(result, title: str | None = None):
    """The test confusion matrix of one run, each row as shares of its true class (%)."""
    shares = confusion_shares(result.confusion)
    names = list(result.class_names)
    k = len(names)
    fig, ax = figure((0.55 * k + 2.6, 0.5 * k + 1.6))
    image = ax.imshow(100 * shares, cmap="Blues", vmin=0, vmax=100)
    for i in range(k):
        for j in range(k):
            value = 100 * shares[i, j]
            if value >= 0.5:
                colour = "white" if value > 60 else "black"
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(image, ax=ax, label="% of the true class", shrink=0.8)
    ax.set_title(title or f"test confusion matrix (seed {result.seed})", fontsize=10)
    return fig
