"""convlab.chapters against trusted references: Keras layers, and convolution itself."""

from __future__ import annotations

import os

import numpy as np
import pytest

from convlab import chapters, conv


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


@pytest.mark.parametrize(("shape", "k", "filters"), [((6, 5, 2), 3, 4), ((7, 7), 5, 3)])
def test_connectivity_table_matches_keras_and_explicit_counts(keras, shape, k, filters):
    table = chapters.connectivity_table(shape, kernel_size=k, filters=filters)
    h, w, c = (*shape, 1)[:3]
    image = keras.Input((h, w, c))
    conv_layer = keras.layers.Conv2D(filters, k, padding="same")
    conv_layer(image)
    dense = keras.layers.Dense(h * w * filters)
    dense(keras.layers.Flatten()(image))
    assert table.loc["convolution", "params"] == conv_layer.count_params()
    assert table.loc["dense", "params"] == dense.count_params()
    # Locally connected: a k x k x c window of weights and one bias per output value.
    assert table.loc["locally connected", "params"] == h * w * filters * (k * k * c + 1)
    assert table.loc["dense", "inputs_per_unit"] == h * w * c
    assert table.loc["convolution", "inputs_per_unit"] == k * k * c


def test_edge_kernel_responds_to_vertical_edges_only():
    kernel = chapters.edge_kernel(channels=3)
    assert kernel.shape == (3, 3, 3, 1)
    vertical = np.zeros((1, 5, 6, 3))
    vertical[:, :, 3:] = 1.0
    horizontal = np.zeros((1, 6, 5, 3))
    horizontal[:, 3:] = 1.0
    assert np.abs(conv.conv2d(vertical, kernel)).max() == pytest.approx(4.0)
    assert np.abs(conv.conv2d(horizontal, kernel)).max() == 0.0


def test_output_size_table_agrees_with_keras(keras):
    table = chapters.output_size_table(11, kernels=(3, 4), strides=(1, 2))
    for (k, s), row in table.iterrows():
        for padding in ("valid", "same"):
            layer = keras.layers.Conv2D(1, k, strides=s, padding=padding)
            out = layer.compute_output_shape((1, 11, 11, 1))
            assert row[padding] == out[1], (k, s, padding)


@pytest.mark.parametrize(("stride", "padding"), [(1, "same"), (2, "valid"), (2, "same")])
def test_compare_with_keras_reports_agreement_and_shapes(stride, padding):
    image = np.random.default_rng(1).random((9, 10, 3), dtype=np.float32)
    result = chapters.compare_with_keras(image, filters=4, stride=stride, padding=padding)
    assert result.input_shape == (9, 10, 3)
    expected_h = conv.output_size_for(9, 3, stride, padding)
    expected_w = conv.output_size_for(10, 3, stride, padding)
    assert result.output_shape == (expected_h, expected_w, 4) == result.output.shape
    assert result.max_diff_vectorised < 1e-5 and result.max_diff_loop < 1e-5


def test_compare_with_keras_is_seeded():
    image = np.ones((6, 6, 1), dtype=np.float32)
    a = chapters.compare_with_keras(image, filters=2, seed=3)
    b = chapters.compare_with_keras(image, filters=2, seed=3)
    c = chapters.compare_with_keras(image, filters=2, seed=4)
    np.testing.assert_array_equal(a.output, b.output)
    assert not np.allclose(a.output, c.output)
