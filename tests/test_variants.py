"""The data side of an arm: capped subsets and one fixed pixel permutation."""

import numpy as np
import pytest

from convlab import data, preprocess
from convlab.experiments.profiles import PROFILES
from convlab.variants import (
    DataVariant,
    VariantError,
    data_slice,
    load_splits,
    permute_pixels,
    pixel_permutation,
)


def test_data_slice_caps_train_size_by_the_profile():
    smoke, full = PROFILES["smoke"], PROFILES["full"]
    assert data_slice(full)["train_size"] is None
    assert data_slice(full, DataVariant(1000))["train_size"] == 1000
    assert data_slice(smoke, DataVariant(1000))["train_size"] == smoke.train_size
    assert data_slice(smoke, DataVariant(permutation_seed=3)) == {
        "train_size": smoke.train_size,
        "val_size": smoke.val_size,
        "test_size": smoke.test_size,
        "split_seed": smoke.split_seed,
        "permutation_seed": 3,
    }
    with pytest.raises(VariantError):
        DataVariant(train_size=0)


def test_permutation_moves_pixels_with_all_their_channels():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(4, 5, 6, 3)).astype(np.float32)
    y = permute_pixels(x, seed=7)
    perm = pixel_permutation((5, 6), 7)
    assert sorted(perm) == list(range(30)) and not np.array_equal(perm, np.arange(30))
    # Output position j holds input pixel perm[j], all channels together, in every image.
    flat_x, flat_y = x.reshape(4, 30, 3), y.reshape(4, 30, 3)
    np.testing.assert_array_equal(flat_y, flat_x[:, perm])
    # Invertible, and the same seed permutes another array the same way.
    inverse = np.argsort(perm)
    np.testing.assert_array_equal(flat_y[:, inverse], flat_x)
    np.testing.assert_array_equal(permute_pixels(x[:2], 7), y[:2])
    assert not np.array_equal(permute_pixels(x, 8), y)
    # Grey images without a channel axis work too.
    np.testing.assert_array_equal(permute_pixels(x[..., 0], 7), y[..., 0])
    with pytest.raises(VariantError):
        permute_pixels(np.zeros((2, 3)), 0)


def test_load_splits_applies_the_same_permutation_to_every_split():
    profile = PROFILES["smoke"]
    plain = load_splits("fashion-mnist", data_slice(profile))
    shuffled = load_splits("fashion-mnist", data_slice(profile, DataVariant(permutation_seed=0)))
    ds = data.load("fashion-mnist", download=False)
    ref = preprocess.make_splits(ds, val_size=200, train_size=300, test_size=500, seed=0)
    np.testing.assert_array_equal(plain.x_train, ref.x_train)
    for split in ("train", "val", "test"):
        x, xp = getattr(plain, f"x_{split}"), getattr(shuffled, f"x_{split}")
        np.testing.assert_array_equal(xp, permute_pixels(x, 0))
        np.testing.assert_array_equal(getattr(plain, f"y_{split}"), getattr(shuffled, f"y_{split}"))
    assert load_splits("fashion-mnist", data_slice(profile)) is plain  # cached in-process
