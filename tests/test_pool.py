"""convlab.pool against keras.layers.MaxPooling2D / AveragePooling2D, and its errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from convlab.conv import ConvShapeError, output_size_for
from convlab.errors import ConvlabError
from convlab.pool import pool2d

TOL = {"rtol": 1e-6, "atol": 1e-6}


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def keras_pool(keras, x, mode, size, stride, padding):
    layer = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[mode]
    return keras.ops.convert_to_numpy(layer(size, stride, padding)(x))


@pytest.mark.parametrize("shape", [(2, 7, 6, 3), (1, 8, 8, 1)], ids=["7x6c3", "8x8c1"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [None, 1, 2, (1, 2)], ids=lambda s: f"s{s}")
@pytest.mark.parametrize("size", [2, 3, (2, 3)], ids=lambda k: f"k{k}")
@pytest.mark.parametrize("mode", ["max", "average"])
def test_matches_keras(keras, mode, size, stride, padding, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    expected = keras_pool(keras, x, mode, size, stride, padding)
    got = pool2d(x, size, stride, padding, mode)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_output_size_is_the_convolution_formula_with_the_pool_as_kernel(mode):
    x = np.zeros((1, 11, 9, 1))
    for k, s, p in [(2, 2, "valid"), (3, 2, "same"), (3, 1, "valid"), (4, 3, "same")]:
        y = pool2d(x, k, s, p, mode)
        assert y.shape[1:3] == (output_size_for(11, k, s, p), output_size_for(9, k, s, p))


def test_hand_computed_example_and_negative_inputs():
    x = -np.arange(1.0, 17.0).reshape(1, 4, 4, 1)  # all negative: zero padding would win a max
    np.testing.assert_array_equal(pool2d(x, 2)[0, :, :, 0], [[-1, -3], [-9, -11]])
    # "same" with a 3x3 window and stride 2 on 4 pixels: pads (0, 1); the last window has
    # two pixels inside per axis, and the average counts only those.
    y = pool2d(x, 3, 2, "same", "average")[0, :, :, 0]
    assert y.shape == (2, 2)
    assert y[1, 1] == pytest.approx(np.mean([-11, -12, -15, -16]))
    assert pool2d(x, 3, 2, "same", "max")[0, 1, 1, 0] == -11


def test_integers_are_pooled_as_floats():
    x = np.array([[1, 2], [3, 4]], dtype=np.uint8).reshape(1, 2, 2, 1)
    assert pool2d(x, 2, mode="average").dtype == np.float64
    assert pool2d(x, 2, mode="average")[0, 0, 0, 0] == 2.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((4, 4, 1))}, "Add a batch axis"),
        ({"mode": "min"}, 'mode must be "max" or "average"'),
        ({"padding": 1}, 'padding must be "valid" or "same"'),
        ({"pool_size": 0}, "pool_size must be a positive int"),
        ({"pool_size": 5}, "pool height 5 is larger than the input height 4"),
        ({"stride": 0}, "stride must be a positive integer"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    args = {"x": np.zeros((1, 4, 4, 1)), **kwargs}
    with pytest.raises(ConvShapeError, match=message) as info:
        pool2d(**args)
    assert isinstance(info.value, ConvlabError)
