"""A first look at a dataset, as numbers: images per class, pixel statistics, class means.

Its figures (sample grid, class distribution, mean images) are in :mod:`convlab.views.data`.

Example:
    >>> from convlab import data, eda
    >>> ds = data.load("fashion-mnist")  # doctest: +SKIP
    >>> eda.split_summary(ds).loc["total"].tolist()  # doctest: +SKIP
    [60000, 10000]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from convlab.data import Dataset
from convlab.errors import ConvlabError

__all__ = [
    "SPLITS",
    "class_means",
    "pixel_stats",
    "split_arrays",
    "split_summary",
    "template_share",
]

SPLITS = ("train", "test")


def split_arrays(ds: Dataset, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of the ``"train"`` or ``"test"`` split."""
    if name not in SPLITS:
        raise ConvlabError(f"Unknown split {name!r}; use one of: {', '.join(SPLITS)}.")
    return (ds.x_train, ds.y_train) if name == "train" else (ds.x_test, ds.y_test)


def _channels(x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, pixels) per channel; grayscale images (N, H, W) have one, ``gray``."""
    if x.ndim == 3 or x.shape[-1] == 1:
        return [("gray", x)]
    names = ("red", "green", "blue") if x.shape[-1] == 3 else range(x.shape[-1])
    return [(str(name), x[..., c]) for c, name in enumerate(names)]


def split_summary(ds: Dataset) -> pd.DataFrame:
    """Images per class in each official split, with a ``total`` row (the split sizes)."""
    counts = {
        split: np.bincount(split_arrays(ds, split)[1], minlength=len(ds.class_names))
        for split in SPLITS
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
        for channel, pixels in _channels(split_arrays(ds, split)[0]):
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
    x, y = split_arrays(ds, split)
    return np.stack([x[y == k].mean(axis=0, dtype=np.float64) for k in range(len(ds.class_names))])


def template_share(ds: Dataset, split: str = "train") -> float:
    """The share of the pixels' variance that the class means explain (between-class
    variance over total variance, pooled over pixels and channels): how much a
    fixed-position template per class, what an MLP can use directly, captures.

    1 if every image equals its class mean; 0 if the class means are all alike (or the
    pixels do not vary at all).
    """
    x, y = split_arrays(ds, split)
    x = x.reshape(len(x), -1).astype(np.float64)
    means = class_means(ds, split).reshape(len(ds.class_names), -1)
    counts = np.bincount(y, minlength=len(ds.class_names))
    between = (counts[:, None] * (means - x.mean(axis=0)) ** 2).sum()
    total = ((x - x.mean(axis=0)) ** 2).sum()
    return float(between / total) if total > 0 else 0.0
