"""Pixel permutations: fixed per seed, invertible, the engine's, and invisible to a dense
layer."""

import os

import numpy as np
import pytest

from convlab.inspect import (
    InspectError,
    inverse_permutation,
    permutation_figure,
    pixel_permutation,
    reorder_pixels,
)
from convlab.variants import permute_pixels

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.mark.parametrize("shape", [(4, 6), (5, 5, 3)])
def test_round_trip_through_the_inverse(shape):
    x = np.random.default_rng(0).random((3, *shape))
    perm = pixel_permutation(shape, seed=7)
    scrambled = reorder_pixels(x, perm)
    assert not np.array_equal(scrambled, x)
    np.testing.assert_array_equal(reorder_pixels(scrambled, inverse_permutation(perm)), x)
    np.testing.assert_array_equal(inverse_permutation(perm)[perm], np.arange(perm.size))


def test_fixed_per_seed_positions_only_and_the_engines():
    a, b, c = (pixel_permutation((6, 6), s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    x = np.random.default_rng(1).random((2, 6, 6, 3))
    y = reorder_pixels(x, a)
    # pixel i of the result is pixel a[i] of the original, its colour kept together
    np.testing.assert_array_equal(y.reshape(2, 36, 3), x.reshape(2, 36, 3)[:, a])
    # what the locality study trains on
    np.testing.assert_array_equal(y, permute_pixels(x, seed=1))


def test_a_dense_layer_with_permuted_weights_cannot_tell():
    """Why an MLP should be unaffected: Dense(permuted x) with permuted rows of W is Dense(x)."""
    import keras

    x = np.random.default_rng(2).random((4, 5, 5, 1)).astype("float32")
    perm = pixel_permutation((5, 5), seed=0)
    dense = keras.layers.Dense(3)
    plain = keras.ops.convert_to_numpy(dense(x.reshape(4, 25)))
    w, b = dense.get_weights()
    permuted = keras.layers.Dense(3)
    permuted.build((None, 25))
    permuted.set_weights([w[perm], b])
    moved = keras.ops.convert_to_numpy(permuted(reorder_pixels(x, perm).reshape(4, 25)))
    np.testing.assert_allclose(moved, plain, rtol=1e-5, atol=1e-6)


def test_figure_shows_original_permuted_and_restored():
    x = np.random.default_rng(3).random((4, 6, 6, 1))
    fig = permutation_figure(x, seed=0)
    images = [ax.images[0].get_array() for ax in fig.axes]
    assert len(images) == 12
    np.testing.assert_array_equal(images[8], x[0, ..., 0])  # third row: undone


def test_bad_permutations_are_refused():
    with pytest.raises(InspectError, match="pixels"):
        reorder_pixels(np.zeros((1, 3, 3)), np.arange(8))
    with pytest.raises(InspectError, match="permutation"):
        inverse_permutation(np.array([0, 0, 1]))
