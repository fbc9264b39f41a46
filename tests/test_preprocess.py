"""Preprocessing: scaling, channel axis, stratified splits and subsets, checked by counting."""

import numpy as np
import pytest

from convlab.data import DATASETS, Dataset, load
from convlab.preprocess import (
    SplitError,
    make_splits,
    scale,
    stratified_indices,
    with_channel_axis,
)


@pytest.fixture(scope="module")
def fmnist():
    return load("fashion-mnist", download=False)


def indexed_dataset(y_train: np.ndarray, y_test: np.ndarray, channels: int = 0) -> Dataset:
    """A dataset whose image ``i`` carries ``i`` in two pixels, so splits can be traced."""

    def images(n: int) -> np.ndarray:
        shape = (n, 4, 4) if not channels else (n, 4, 4, channels)
        x = np.zeros(shape, np.uint8)
        x[:, 0, 0, ...] = (np.arange(n) // 256).reshape((n,) + (1,) * (x.ndim - 3))
        x[:, 0, 1, ...] = (np.arange(n) % 256).reshape((n,) + (1,) * (x.ndim - 3))
        return x

    return Dataset(
        info=DATASETS["fashion-mnist"],
        x_train=images(len(y_train)),
        y_train=np.asarray(y_train, np.uint8),
        x_test=images(len(y_test)),
        y_test=np.asarray(y_test, np.uint8),
        source=None,
    )


def traced(x: np.ndarray) -> np.ndarray:
    """The original indices of float images made from :func:`indexed_dataset`."""
    pixels = np.rint(x[:, 0, :2, 0] * 255).astype(int)
    return pixels[:, 0] * 256 + pixels[:, 1]


BALANCED = np.random.default_rng(0).permutation(np.repeat(np.arange(10), 100))
BALANCED_TEST = np.random.default_rng(2).permutation(np.repeat(np.arange(10), 50))
# Unequal classes (like MNIST's), to exercise rounding.
UNEQUAL = np.random.default_rng(1).permutation(np.repeat(np.arange(5), [50, 73, 61, 88, 29]))


# --------------------------------------------------------------------------- scale, axis


def test_scale_range_and_dtype():
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    s = scale(x)
    assert s.dtype == np.float32 and s.shape == x.shape
    assert s.min() == 0.0 and s.max() == 1.0
    np.testing.assert_array_equal(s, x.astype(np.float32) / np.float32(255))
    with pytest.raises(SplitError) as e:
        scale(s)
    assert str(e.value) == (
        "scale() expects uint8 pixels 0..255, got float32; pass the arrays from "
        "convlab.data.load() unchanged (they are scaled once, here)."
    )


def test_channel_axis():
    gray = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    out = with_channel_axis(gray)
    assert out.shape == (2, 3, 3, 1)
    np.testing.assert_array_equal(out[..., 0], gray)
    color = np.zeros((2, 3, 3, 3))
    assert with_channel_axis(color) is color


# --------------------------------------------------------------------------- stratified


def test_exact_balance_disjoint_sorted():
    sets = stratified_indices(BALANCED, (100, 300, 50, 550), seed=0)
    for idx, size in zip(sets, (100, 300, 50, 550), strict=True):
        assert len(idx) == size
        assert np.all(np.diff(idx) > 0)  # sorted, no repeats
        assert np.bincount(BALANCED[idx], minlength=10).tolist() == [size // 10] * 10
    every = np.concatenate(sets)
    assert len(np.unique(every)) == len(every) == 1000  # disjoint, and here all of it


def test_balance_after_an_uneven_first_split():
    """A later split of a multiple of the class count stays exactly balanced."""
    first, second = stratified_indices(BALANCED, (15, 40), seed=3)
    assert sorted(np.bincount(BALANCED[first], minlength=10).tolist()) == [1] * 5 + [2] * 5
    assert np.bincount(BALANCED[second], minlength=10).tolist() == [4] * 10


def test_unequal_classes_in_proportion():
    shares = np.bincount(UNEQUAL) / len(UNEQUAL)
    sizes = (30, 100, 171)
    sets = stratified_indices(UNEQUAL, sizes, seed=0)
    for idx, size in zip(sets, sizes, strict=True):
        counts = np.bincount(UNEQUAL[idx], minlength=5)
        assert counts.sum() == size
        assert np.all(np.abs(counts - size * shares) < 2), counts
    # Everything requested: every example used exactly once.
    assert sorted(np.concatenate(sets).tolist()) == list(range(len(UNEQUAL)))


def test_deterministic_for_a_seed_and_different_for_another():
    a = stratified_indices(BALANCED, (100, 200), seed=5)
    b = stratified_indices(BALANCED, (100, 200), seed=5)
    c = stratified_indices(BALANCED, (100, 200), seed=6)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("y", [BALANCED, UNEQUAL], ids=["balanced", "unequal"])
def test_later_sets_are_nested_across_sizes(y):
    val = None
    previous = set()
    for size in range(1, len(y) - 100 + 1, 7):
        v, train = stratified_indices(y, (100, size), seed=2)
        if val is not None:
            np.testing.assert_array_equal(v, val)  # the first split never moves
        val = v
        assert previous <= set(train.tolist())
        previous = set(train.tolist())


def test_small_classes_stay_nested_and_feasible():
    """Cases where largest-remainder rounding drops a class as the size grows (the
    Alabama paradox), or finds no room for a split that fits exactly."""
    y = np.array([0, 1, 1, 1, 2, 2, 2])
    (three,) = stratified_indices(y, (3,), seed=0)
    (four,) = stratified_indices(y, (4,), seed=0)
    assert set(three) <= set(four)
    assert np.bincount(y[three]).tolist() == [1, 1, 1]
    one, two = stratified_indices(np.array([0, 1, 2]), (1, 2), seed=0)
    assert sorted([*one, *two]) == [0, 1, 2]


def test_impossible_sizes():
    with pytest.raises(SplitError) as e:
        stratified_indices(BALANCED, (600, 401), seed=0)
    assert (
        str(e.value)
        == "Asked for 1001 examples in all (600 + 401) but only 1000 exist. Ask for fewer."
    )
    with pytest.raises(SplitError) as e:
        stratified_indices(BALANCED, (10, -5), seed=0)
    assert str(e.value) == "Split sizes must not be negative, got (10, -5)."


# --------------------------------------------------------------------------- make_splits


def test_make_splits_traced_indices():
    ds = indexed_dataset(BALANCED, BALANCED_TEST)
    s = make_splits(ds, val_size=100, train_size=300, test_size=50, seed=1)
    train, val, test = traced(s.x_train), traced(s.x_val), traced(s.x_test)
    assert not set(train) & set(val)
    np.testing.assert_array_equal(s.y_train, BALANCED[train])
    np.testing.assert_array_equal(s.y_val, BALANCED[val])
    np.testing.assert_array_equal(s.y_test, BALANCED_TEST[test])
    assert np.bincount(s.y_train).tolist() == [30] * 10
    assert np.bincount(s.y_val).tolist() == [10] * 10
    assert np.bincount(s.y_test).tolist() == [5] * 10
    # The same as asking stratified_indices directly.
    v, t = stratified_indices(BALANCED, (100, 300), seed=1)
    np.testing.assert_array_equal(val, v)
    np.testing.assert_array_equal(train, t)
    # A larger training subset contains the smaller one; validation stays put.
    bigger = make_splits(ds, val_size=100, train_size=600, test_size=50, seed=1)
    assert set(train) <= set(traced(bigger.x_train))
    np.testing.assert_array_equal(traced(bigger.x_val), val)


def test_make_splits_defaults_and_fraction():
    ds = indexed_dataset(UNEQUAL, UNEQUAL[:100])
    s = make_splits(ds, val_size=0.1, seed=0)
    assert len(s.y_val) == 30 and len(s.y_train) == len(UNEQUAL) - 30
    assert len(s.y_test) == 100
    np.testing.assert_array_equal(traced(s.x_test), np.arange(100))  # test kept, in order
    assert sorted([*traced(s.x_train), *traced(s.x_val)]) == list(range(len(UNEQUAL)))


def test_make_splits_real_data_shapes_and_dtypes(fmnist):
    s = make_splits(fmnist, val_size=6000, train_size=2000, test_size=1000, seed=0)
    assert s.x_train.shape == (2000, 28, 28, 1) and s.x_val.shape == (6000, 28, 28, 1)
    assert s.x_test.shape == (1000, 28, 28, 1)
    for x in (s.x_train, s.x_val, s.x_test):
        assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    for y, per_class in ((s.y_train, 200), (s.y_val, 600), (s.y_test, 100)):
        assert y.dtype == np.int32
        assert np.bincount(y).tolist() == [per_class] * 10
    assert s.input_shape == (28, 28, 1) and s.num_classes == 10
    assert s.class_names == fmnist.class_names


def test_make_splits_keeps_color_channels():
    ds = indexed_dataset(BALANCED[:200], BALANCED[:50], channels=3)
    s = make_splits(ds, val_size=20, seed=0)
    assert s.input_shape == (4, 4, 3) and s.x_val.shape == (20, 4, 4, 3)
    assert s.x_train.dtype == np.float32
    assert sorted([*traced(s.x_train), *traced(s.x_val)]) == list(range(200))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"val_size": 0},
            "val_size=0 gives 0 validation examples; give a count between 1 and 999 or a "
            "fraction between 0 and 1 of the 1000 official training images.",
        ),
        (
            {"val_size": 1.0},
            "val_size=1.0 gives 1000 validation examples; give a count between 1 and 999 or "
            "a fraction between 0 and 1 of the 1000 official training images.",
        ),
        (
            {"val_size": 100, "train_size": 901},
            "train_size=901 must be between 1 and 900 (the official train split minus 100 "
            "validation examples).",
        ),
        (
            {"val_size": 100, "test_size": 501},
            "test_size=501 must be between 1 and 500 (the official test split).",
        ),
    ],
)
def test_make_splits_errors(kwargs, message):
    ds = indexed_dataset(BALANCED, BALANCED[:500])
    with pytest.raises(SplitError) as e:
        make_splits(ds, **kwargs)
    assert str(e.value) == message
