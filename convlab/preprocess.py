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
        raise SplitError(f"scale() expects uint8 pixels 0..255, got {x.dtype}.")
    return x.astype(np.float32) / np.float32(255.0)


def with_channel_axis(x: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (N, H, W, 1); arrays that already have channels pass through."""
    return x[..., np.newaxis] if x.ndim == 3 else x


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts``, largest remainders first."""
    exact = counts * total / counts.sum()
    alloc = np.floor(exact).astype(int)
    # Ties broken by class index, so the allocation is deterministic.
    order = np.lexsort((np.arange(len(counts)), -(exact - alloc)))
    alloc[order[: total - alloc.sum()]] += 1
    return alloc


def stratified_indices(
    y: np.ndarray, sizes: tuple[int, ...], seed: int
) -> tuple[np.ndarray, ...]:
    """Disjoint, seeded, stratified index sets of the given sizes.

    Each set holds every class in proportion to its share of ``y`` (exactly equal counts
    when the classes are balanced and the size divides evenly). Indices in each set are
    sorted, so the result does not depend on anything but ``y``, ``sizes`` and ``seed``.
    """
    y = np.asarray(y).reshape(-1)
    classes, counts = np.unique(y, return_counts=True)
    if sum(sizes) > len(y):
        raise SplitError(f"Asked for {sum(sizes)} examples in all but only {len(y)} exist.")
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    out, start = [], np.zeros(len(classes), dtype=int)
    for size in sizes:
        alloc = _allocate(counts, size)
        if np.any(start + alloc > counts):
            raise SplitError(f"Not enough examples per class for a split of {size}.")
        out.append(
            np.sort(np.concatenate([p[s : s + a] for p, s, a in zip(per_class, start, alloc)]))
        )
        start += alloc
    return tuple(out)


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
        raise SplitError(f"val_size={val_size!r} must leave examples on both sides of {n}.")
    n_train = n - n_val if train_size is None else int(train_size)
    if n_train <= 0 or n_train > n - n_val:
        raise SplitError(
            f"train_size={train_size} must be between 1 and {n - n_val} (the official train "
            f"split minus {n_val} validation examples)."
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
