"""Figures of a dataset: random images per class, images per class, class mean images."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from convlab.data import Dataset
from convlab.eda import class_means, split_arrays, split_summary
from convlab.errors import ConvlabError
from convlab.views.plot import show_image

__all__ = ["class_distribution", "class_means_reading", "mean_images_figure", "sample_grid"]


def sample_grid(ds: Dataset, per_class: int = 8, seed: int = 0, split: str = "train") -> Figure:
    """A grid of randomly drawn images: one row per class, labelled with its name."""
    x, y = split_arrays(ds, split)
    counts = np.bincount(y, minlength=len(ds.class_names))
    if per_class < 1 or per_class > counts.min():
        raise ConvlabError(
            f"per_class={per_class}: every class must be able to fill its row; choose 1 to "
            f"{counts.min()} (the smallest class in the {split} split)."
        )
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(per_class * 0.9 + 1.4, len(ds.class_names) * 0.9), layout="tight")
    axes = fig.subplots(len(ds.class_names), per_class, squeeze=False)
    for k, name in enumerate(ds.class_names):
        chosen = rng.choice(np.flatnonzero(y == k), size=per_class, replace=False)
        for ax, i in zip(axes[k], np.sort(chosen), strict=True):
            show_image(ax, x[i], value_range=(0, 255), frame=False)
        axes[k, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.suptitle(f"{ds.info.title}: {per_class} random {split} images per class")
    return fig


def class_distribution(ds: Dataset) -> Figure:
    """Images per class, train and test side by side."""
    table = split_summary(ds).drop(index="total")
    fig = Figure(figsize=(8, 3.5), layout="tight")
    ax = fig.subplots()
    where = np.arange(len(table))
    for offset, split in ((-0.2, "train"), (0.2, "test")):
        ax.bar(where + offset, table[split], width=0.4, label=f"{split} ({table[split].sum():,})")
    ax.set_xticks(where, table.index, rotation=45, ha="right")
    ax.set_ylabel("images")
    ax.set_title(f"{ds.info.title}: images per class")
    ax.margins(y=0.2)  # room for the legend above the bars
    ax.legend(loc="upper center", ncols=2)
    return fig


def mean_images_figure(ds: Dataset, split: str = "train") -> Figure:
    """The mean image of each class (:func:`class_means`), titled with the class name."""
    means = class_means(ds, split)
    cols = min(5, len(means))
    rows = -(-len(means) // cols)
    fig = Figure(figsize=(cols * 1.6, rows * 2.0 + 0.4), layout="tight")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, mean, name in zip(axes, means, ds.class_names, strict=False):
        show_image(ax, mean, value_range=(0, 255), frame=False)
        ax.set_title(name, fontsize=9)
    for ax in axes[len(means) :]:
        ax.remove()
    fig.suptitle(f"{ds.info.title}: mean {split} image per class")
    return fig


def class_means_reading(share: float) -> str:
    """What the class means say about the models, from :func:`convlab.eda.template_share`."""
    pct = f"{share:.0%}"
    if share >= 0.25:
        return (
            f"The class means explain {pct} of the pixels' variance: each class has a template "
            "at a fixed position, the outline of a centred object. A fixed-position template "
            "is what an MLP, with its own weight for every pixel, can use directly; a "
            "convolution builds its answer from local patterns wherever they occur. That the "
            "objects are centred and alike is one reason the MLP is a strong baseline here."
        )
    return (
        f"The class means explain only {pct} of the pixels' variance: position, pose, colour "
        "and background vary so much within a class that its mean is a blur. A "
        "fixed-position template, what an MLP can use directly, captures little; a model "
        "has to find local patterns wherever they occur, which is what a convolution is "
        "built for."
    )
