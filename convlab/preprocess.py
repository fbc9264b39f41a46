"""Pure preprocessing: scaling, channel axis, seeded stratified splits and per-class subsets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.data import Dataset
from convlab.errors import ConvlabError

__all__ = ["Splits", "make_splits", "scale", "stratified_indices", "with_channel_axis"]


class SplitError(ConvlabError, ValueError):
    """A split or subset that the data cannot provide."""


def scale(x: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [0, 1]."""
    if x.dtype != np.uint8:
        raise SplitError(
            f"scale() expects uint8 pixels 0..255, got {x.dtype}; pass the arrays from "
            "convlab.data.load() unchanged (they are scaled once, here)."
        )
    return x.astype(np.float32) / np.float32(255.0)


def with_channel_axis(x: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (N, H, W, 1); arrays that already have channels pass through."""
    return x[..., np.newaxis] if x.ndim == 3 else x


def _stratified_order(per_class: list[np.ndarray]) -> np.ndarray:
    """All indices in one order in which every stretch holds the classes in proportion.

    Example ``j`` of a class of ``n`` gets the key ``(j + 1/2) / n``, its place within its
    class as a fraction, and the classes are merged by key (ties go to the lower class), so
    each class is spread evenly along the order. Splits are consecutive stretches of it,
    which makes later splits nested (a smaller one is a prefix of a larger one) and never
    short of any class.
    """
    # A single division of exact integers: equal fractions give equal floats.
    keys = np.concatenate([(2 * np.arange(len(p)) + 1) / (2 * len(p)) for p in per_class])
    cls = np.concatenate([np.full(len(p), k) for k, p in enumerate(per_class)])
    return np.concatenate(per_class)[np.lexsort((cls, keys))]


def stratified_indices(y: np.ndarray, sizes: tuple[int, ...], seed: int) -> tuple[np.ndarray, ...]:
    """Disjoint, seeded, stratified index sets of the given sizes.

    Each set holds every class in proportion to its share of ``y`` (exactly equal counts
    when the classes are balanced and the sizes divide evenly). With the same ``y``, seed
    and earlier sizes, a later set of some size is a subset of one of a larger size. Indices
    in each set are sorted, so the result depends on nothing but ``y``, ``sizes`` and ``seed``.
    """
    y = np.asarray(y).reshape(-1)
    if any(size < 0 for size in sizes):
        raise SplitError(f"Split sizes must not be negative, got {tuple(sizes)}.")
    if sum(sizes) > len(y):
        raise SplitError(
            f"Asked for {sum(sizes)} examples in all ({' + '.join(map(str, sizes))}) but "
            f"only {len(y)} exist. Ask for fewer."
        )
    rng = np.random.default_rng(seed)
    order = _stratified_order([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
    ends = np.cumsum(sizes)
    return tuple(np.sort(order[end - size : end]) for size, end in zip(sizes, ends, strict=True))


@dataclass(frozen=True, eq=False)
class Splits:
    """Model-ready float32 arrays (channels last, in [0, 1]) and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def make_splits(
    ds: Dataset,
    val_size: int | float = 0.1,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
) -> Splits:
    """Official train split -> stratified train/validation; test kept (or sliced, stratified).

    Args:
        ds: a loaded dataset.
        val_size: validation examples, as a count or a fraction of the official train split.
        train_size: if given, a stratified subset of this many training examples (taken
            from what validation leaves), for quick runs and data-efficiency studies.
        test_size: if given, a stratified subset of the test split (smoke runs only).
        seed: the same seed gives the same split.
    """
    n = len(ds.y_train)
    n_val = int(round(val_size * n)) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < n:
        raise SplitError(
            f"val_size={val_size!r} gives {n_val} validation examples; give a count between "
            f"1 and {n - 1} or a fraction between 0 and 1 of the {n} official training images."
        )
    n_train = n - n_val if train_size is None else int(train_size)
    if n_train <= 0 or n_train > n - n_val:
        raise SplitError(
            f"train_size={train_size} must be between 1 and {n - n_val} (the official train "
            f"split minus {n_val} validation examples)."
        )
    if test_size is not None and not 0 < int(test_size) <= len(ds.y_test):
        raise SplitError(
            f"test_size={test_size} must be between 1 and {len(ds.y_test)} (the official "
            "test split)."
        )
    val_idx, train_idx = stratified_indices(ds.y_train, (n_val, n_train), seed)
    if test_size is None:
        test_idx = np.arange(len(ds.y_test))
    else:
        (test_idx,) = stratified_indices(ds.y_test, (int(test_size),), seed)

    def prep(x: np.ndarray) -> np.ndarray:
        return with_channel_axis(scale(x))

    return Splits(
        x_train=prep(ds.x_train[train_idx]),
        y_train=ds.y_train[train_idx].astype(np.int32),
        x_val=prep(ds.x_train[val_idx]),
        y_val=ds.y_train[val_idx].astype(np.int32),
        x_test=prep(ds.x_test[test_idx]),
        y_test=ds.y_test[test_idx].astype(np.int32),
        class_names=ds.class_names,
    )
