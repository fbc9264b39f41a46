"""Shifts move pixels and fill zeros; a conv layer commutes with them inside; a dense layer
does not."""

import os

import numpy as np
import pytest

from convlab import models
from convlab.inspect import (
    InspectError,
    accuracy_vs_shift,
    equivariance_error,
    shift_figure,
    shift_images,
    shift_response,
)
from convlab.inspect.translation import _best_matching

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def test_shift_zero_is_identity_and_shifts_move_and_fill():
    x = np.arange(1, 13, dtype=float).reshape(1, 3, 4)
    np.testing.assert_array_equal(shift_images(x, 0, 0), x)
    right = shift_images(x, 1)
    np.testing.assert_array_equal(right[0], [[0, 1, 2, 3], [0, 5, 6, 7], [0, 9, 10, 11]])
    up_left = shift_images(x, -2, -1)
    np.testing.assert_array_equal(up_left[0], [[7, 8, 0, 0], [11, 12, 0, 0], [0, 0, 0, 0]])
    assert not shift_images(x, 4).any() and not shift_images(x, 0, -3).any()
    rgb = np.ones((2, 3, 3, 3))
    assert shift_images(rgb, 0, 1, fill=0.5)[:, 0].tolist() == np.full((2, 3, 3), 0.5).tolist()


def test_accuracy_vs_shift_averages_four_directions():
    class LooksAtPixel:  # predicts class 1 when pixel (1, 1) is lit
        def __call__(self, x, training):
            lit = x[:, 1, 1, 0] > 0
            return np.stack([~lit, lit], axis=1).astype(float)

    x = np.zeros((2, 3, 3, 1))
    x[0, 1, 1] = 1.0  # class 1; class 0 is blank
    table = accuracy_vs_shift({"m": LooksAtPixel()}, x, np.array([1, 0]), shifts=[0, 1])
    # shifted by 1 in any direction the lit pixel leaves (1, 1): image 0 becomes wrong
    assert table["m"].tolist() == [1.0, 0.5]
    assert table.index.name == "shift"
    assert len(shift_figure(table).axes[0].lines) == 1
    with pytest.raises(InspectError, match=">= 0"):
        accuracy_vs_shift({"m": LooksAtPixel()}, x, np.array([1, 0]), shifts=[-1])


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("shift", [1, (2, -1), (0, 3)])
def test_a_random_conv_layer_is_equivariant_inside(kernel_size, shift):
    import keras

    keras.utils.set_random_seed(0)
    layer = keras.layers.Conv2D(4, kernel_size, padding="same", activation="relu")
    image = np.random.default_rng(1).random((20, 20, 2)).astype("float32")
    layer.build((None, 20, 20, 2))
    assert equivariance_error(layer, image, shift) < 1e-5
    kernel = layer.get_weights()[0]
    assert equivariance_error(kernel, image, shift) < 1e-5
    # ...but not at the borders, which is why only the interior is compared
    moved = keras.ops.convert_to_numpy(layer(shift_images(image[None], *_xy(shift))))
    shifted = shift_images(keras.ops.convert_to_numpy(layer(image[None])), *_xy(shift))
    assert np.abs(moved - shifted).max() > 1e-3


def _xy(shift):
    return shift if isinstance(shift, tuple) else (shift, 0)


def test_strided_layers_and_tiny_images_are_refused():
    import keras

    strided = keras.layers.Conv2D(2, 3, strides=2, padding="same")
    strided.build((None, 8, 8, 1))
    with pytest.raises(InspectError, match="stride"):
        equivariance_error(strided, np.zeros((8, 8, 1)), 1)
    with pytest.raises(InspectError, match="interior"):
        equivariance_error(np.ones((3, 3, 1, 1)), np.zeros((6, 6, 1)), 2)


def test_best_matching_recovers_a_permutation_of_units():
    rng = np.random.default_rng(0)
    plain = rng.random((30, 12))
    perm = rng.permutation(12)
    np.testing.assert_array_equal(_best_matching(plain[:, perm], plain), plain[:, perm])


def test_shift_response_conv_explained_dense_not():
    cnn = models.build(models.CNNSpec(blocks=(models.ConvBlock(4),), dense=(4,)), (12, 12, 1), 3)
    mlp = models.build(models.MLPSpec(hidden=(16,)), (12, 12, 1), 3)
    images = np.random.default_rng(2).random((32, 12, 12, 1)).astype("float32")
    table = shift_response(cnn, mlp, images, shifts=(1, 2)).set_index(["model", "shift"])
    assert list(table.index) == [("CNN", 1), ("MLP", 1), ("CNN", 2), ("MLP", 2)]
    assert (table.loc["CNN", "unexplained"] < 1e-5).all()
    assert (table.loc["MLP", "unexplained"] > 0.5).all()
    assert (table["unexplained"] <= 1 + 1e-6).all() and (table["change"] > 0.1).all()
