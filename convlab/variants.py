"""The data side of an experiment arm: training-subset size and a fixed pixel permutation.

Every run of a study sees the same validation and test images (one split seed per
profile); an arm may train on fewer images or on images whose pixels are shuffled by one
fixed permutation (the same for train, validation and test, for every arm and seed), which
keeps everything an MLP can use and destroys the neighbourhoods a convolution relies on.

Example:
    >>> import numpy as np
    >>> x = np.arange(2 * 2 * 2 * 1, dtype=np.float32).reshape(2, 2, 2, 1)
    >>> permute_pixels(x, seed=0).shape
    (2, 2, 2, 1)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from convlab.errors import ConvlabError

__all__ = [
    "DataVariant",
    "data_slice",
    "load_splits",
    "permute_pixels",
    "pixel_permutation",
    "test_labels",
]


class VariantError(ConvlabError, ValueError):
    """A data variant that cannot be built."""


@dataclass(frozen=True)
class DataVariant:
    """How an arm's data differs from the profile's slices (the default: not at all)."""

    train_size: int | None = None  # a stratified subset; capped by the profile's train_size
    permutation_seed: int | None = None  # shuffle pixel positions with this seed's permutation

    def __post_init__(self) -> None:
        if self.train_size is not None and self.train_size < 1:
            raise VariantError(f"train_size must be >= 1 or None, got {self.train_size}.")


def data_slice(profile, variant: DataVariant | None = None) -> dict:
    """The exact data a run sees, as plain JSON (part of the run's key).

    The training subset is the smaller of the arm's and the profile's ``train_size``: under
    the ``quick`` profile an arm asking for "all" images gets the profile's cap.
    """
    variant = variant or DataVariant()
    sizes = [s for s in (variant.train_size, profile.train_size) if s is not None]
    return {
        "train_size": min(sizes) if sizes else None,
        "val_size": profile.val_size,
        "test_size": profile.test_size,
        "split_seed": profile.split_seed,
        "permutation_seed": variant.permutation_seed,
    }


def pixel_permutation(image_shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The permutation of ``height * width`` pixel positions that ``seed`` selects."""
    h, w = image_shape[:2]
    return np.random.default_rng(seed).permutation(h * w)


def permute_pixels(x: np.ndarray, seed: int) -> np.ndarray:
    """Move every pixel (all its channels together) to a fixed, seeded random position.

    Args:
        x: images ``(N, H, W)`` or ``(N, H, W, C)``.
        seed: selects the permutation; the same seed permutes every array identically.
    """
    if x.ndim not in (3, 4):
        raise VariantError(f"Expected images (N, H, W[, C]), got shape {x.shape}.")
    perm = pixel_permutation(x.shape[1:3], seed)
    n, h, w = x.shape[:3]
    flat = x.reshape(n, h * w, -1)[:, perm]
    return flat.reshape(x.shape)


@functools.lru_cache(maxsize=1)
def _dataset(name: str):
    from convlab.data import load

    return load(name)


@functools.lru_cache(maxsize=2)
def _splits(name: str, slice_json: str):
    from convlab.preprocess import Splits, make_splits
    from convlab.tabular import TABLE, TabularTask, make_tabular

    s = json.loads(slice_json)
    if name == TABLE:
        return make_tabular(TabularTask(**s["task"]))
    splits = make_splits(
        _dataset(name),
        val_size=s["val_size"],
        train_size=s["train_size"],
        test_size=s["test_size"],
        seed=s["split_seed"],
    )
    seed = s.get("permutation_seed")
    if seed is None:
        return splits
    return Splits(
        x_train=permute_pixels(splits.x_train, seed),
        y_train=splits.y_train,
        x_val=permute_pixels(splits.x_val, seed),
        y_val=splits.y_val,
        x_test=permute_pixels(splits.x_test, seed),
        y_test=splits.y_test,
        class_names=splits.class_names,
    )


def load_splits(dataset: str, slice_: dict):
    """Model-ready :class:`~convlab.preprocess.Splits` for a :func:`data_slice` (cached), or
    for the synthetic table's :func:`convlab.tabular.table_slice`."""
    return _splits(dataset, json.dumps(slice_, sort_keys=True))


def test_labels(dataset: str, slice_: dict) -> np.ndarray:
    """The test labels of a :func:`data_slice`, in test order, without preparing any image
    (what a run's ``test_predictions`` are scored against)."""
    from convlab.preprocess import stratified_indices
    from convlab.tabular import TABLE

    if dataset == TABLE:
        return load_splits(dataset, slice_).y_test
    y = _dataset(dataset).y_test
    if slice_["test_size"] is None:
        return y
    (idx,) = stratified_indices(y, (int(slice_["test_size"]),), slice_["split_seed"])
    return y[idx]
