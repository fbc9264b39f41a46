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


def _shift_columns(a, d):
    """a (N, H, W, C) moved d columns right (d < 0: left), zeros entering."""
    out = np.zeros_like(a)
    w = a.shape[2]
    if d >= 0:
        out[:, :, d:] = a[:, :, : w - d]
    else:
        out[:, :, : w + d] = a[:, :, -d:]
    return out


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("d", [-3, -1, 0, 2, 4])
def test_equivariant_columns_are_exactly_where_the_two_sides_agree(k, d):
    """On random images (no column agrees by accident), the columns where shift-then-
    convolve equals convolve-then-shift are exactly the ones the function names."""
    rng = np.random.default_rng(0)
    x = rng.random((3, 6, 12, 2)) + 0.1
    w, b = rng.standard_normal((k, k, 2, 3)), rng.standard_normal(3)
    moved = conv.conv2d(_shift_columns(x, d), w, b, padding="same")
    shifted = _shift_columns(conv.conv2d(x, w, b, padding="same"), d)
    agree = np.all(np.isclose(moved, shifted, atol=1e-9), axis=(0, 1, 3))
    assert list(np.flatnonzero(agree)) == list(chapters.equivariant_columns(12, k, d))


def test_equivariant_columns_contain_the_safe_interior():
    """The interior that inspect.equivariance_error measures (|d| + k - 1 from each edge)
    lies inside the exact columns."""
    for k in (1, 3, 5):
        for d in (-4, -1, 0, 3):
            m = abs(d) + k - 1
            assert set(range(m, 20 - m)) <= set(chapters.equivariant_columns(20, k, d))
    with pytest.raises(ValueError, match="odd"):
        chapters.equivariant_columns(10, 2, 1)


@pytest.mark.parametrize("channels, small, large", [(32, 3, 5), (8, 3, 7), (4, 2, 4)])
def test_stacked_versus_large_same_field_fewer_weights(channels, small, large):
    table = chapters.stacked_versus_large(channels, small, large)
    stacked, single = table.iloc[0], table.iloc[1]
    depth = (large - 1) // (small - 1)
    assert stacked["receptive field"] == single["receptive field"] == large
    assert stacked["weights (formula)"] == depth * small**2 * channels**2
    assert single["weights (formula)"] == large**2 * channels**2
    # Keras adds one bias per filter and layer
    assert stacked["parameters (Keras)"] == stacked["weights (formula)"] + depth * channels
    assert single["parameters (Keras)"] == single["weights (formula)"] + channels
    assert (stacked["non-linearities"], single["non-linearities"]) == (depth, 1)


def test_stacked_versus_large_rejects_an_unreachable_size():
    with pytest.raises(ValueError, match="not reached"):
        chapters.stacked_versus_large(8, 3, 6)
