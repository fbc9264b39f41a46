"""A first look at a dataset: tables (pandas) and figures (matplotlib); nothing prints or shows.

Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot figures: nothing is
left open in pyplot's global state, a notebook displays the returned figure once, and
``fig.savefig(...)`` writes it anywhere.

Example:
    >>> from convlab import data, eda
    >>> ds = data.load("fashion-mnist")  # doctest: +SKIP
    >>> eda.split_summary(ds).loc["total"].tolist()  # doctest: +SKIP
    [60000, 10000]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from convlab.data import Dataset
from convlab.errors import ConvlabError

__all__ = [
    "class_distribution",
    "class_means",
    "mean_images_figure",
    "pixel_stats",
    "sample_grid",
    "split_summary",
]

SPLITS = ("train", "test")


def _split(ds: Dataset, split: str) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLITS:
        raise ConvlabError(f"Unknown split {split!r}; use one of: {', '.join(SPLITS)}.")
    return (ds.x_train, ds.y_train) if split == "train" else (ds.x_test, ds.y_test)


def _channels(x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, pixels) per channel; grayscale images (N, H, W) have one, ``gray``."""
    if x.ndim == 3 or x.shape[-1] == 1:
        return [("gray", x)]
    names = ("red", "green", "blue") if x.shape[-1] == 3 else range(x.shape[-1])
    return [(str(name), x[..., c]) for c, name in enumerate(names)]


def split_summary(ds: Dataset) -> pd.DataFrame:
    """Images per class in each official split, with a ``total`` row (the split sizes)."""
    counts = {
        split: np.bincount(_split(ds, split)[1], minlength=len(ds.class_names)) for split in SPLITS
    }
    table = pd.DataFrame(counts, index=pd.Index(ds.class_names, name="class"))
    table.loc["total"] = table.sum()
    return table


def pixel_stats(ds: Dataset) -> pd.DataFrame:
    """Min, max, mean and std of the pixels per split and channel.

    Rows are ``(split, channel)``; columns are ``(scale, statistic)`` with scale ``0-255``
    (the stored uint8 values) and ``0-1`` (after :func:`convlab.preprocess.scale`), so
    ``pixel_stats(ds)["0-1"]["mean"]`` gives normalisation constants.
    """
    rows, index = [], []
    for split in SPLITS:
        for channel, pixels in _channels(_split(ds, split)[0]):
            # A histogram of the 256 values gives exact statistics without a float copy.
            hist = np.bincount(pixels.ravel(), minlength=256)
            values = np.flatnonzero(hist)
            mean = np.dot(hist, np.arange(256)) / hist.sum()
            std = np.sqrt(np.dot(hist, (np.arange(256) - mean) ** 2) / hist.sum())
            stats = [values.min(), values.max(), mean, std]
            rows.append([float(s) for s in stats] + [float(s) / 255 for s in stats])
            index.append((split, channel))
    columns = pd.MultiIndex.from_product([("0-255", "0-1"), ("min", "max", "mean", "std")])
    return pd.DataFrame(
        rows, index=pd.MultiIndex.from_tuples(index, names=("split", "channel")), columns=columns
    )


def class_means(ds: Dataset, split: str = "train") -> np.ndarray:
    """The mean image of each class, float64 on the 0-255 scale: ``(classes, H, W[, C])``."""
    x, y = _split(ds, split)
    return np.stack([x[y == k].mean(axis=0, dtype=np.float64) for k in range(len(ds.class_names))])


def _show(ax: Axes, image: np.ndarray) -> None:
    """Draw one image on its true 0-255 scale, without ticks or frame."""
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(np.asarray(image, np.float64) / 255)  # imshow wants RGB floats in [0, 1]
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def sample_grid(ds: Dataset, per_class: int = 8, seed: int = 0, split: str = "train") -> Figure:
    """A grid of randomly drawn images: one row per class, labelled with its name."""
    x, y = _split(ds, split)
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
            _show(ax, x[i])
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
        _show(ax, mean)
        ax.set_title(name, fontsize=9)
    for ax in axes[len(means) :]:
        ax.remove()
    fig.suptitle(f"{ds.info.title}: mean {split} image per class")
    return fig
