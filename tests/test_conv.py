"""convlab.conv against keras.layers.Conv2D with the same weights, and the size formulas."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from convlab.conv import (
    ConvShapeError,
    ReceptiveField,
    conv2d,
    conv2d_loop,
    output_size,
    output_size_for,
    receptive_field,
    same_padding,
)
from convlab.errors import ConvlabError

TOL = {"rtol": 1e-5, "atol": 1e-5}


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def keras_conv(keras, x, w, b=None, stride=1, padding="valid"):
    """The trusted reference: a Conv2D layer carrying exactly the kernel ``w`` and bias ``b``."""
    layer = keras.layers.Conv2D(
        w.shape[3], w.shape[:2], strides=stride, padding=padding, use_bias=b is not None
    )
    layer.build(x.shape)
    layer.set_weights([w] if b is None else [w, b])
    return keras.ops.convert_to_numpy(layer(x))


def random_case(shape_x, shape_w, bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape_x).astype("float32")
    w = rng.standard_normal(shape_w).astype("float32")
    b = rng.standard_normal(shape_w[3]).astype("float32") if bias else None
    return x, w, b


# --------------------------------------------------------------------------- convolution

KERNELS = [1, 3, 5, (3, 2), (2, 4)]
STRIDES = [1, 2, 3]
PADDINGS = ["valid", "same"]
CHANNELS = [(1, 1, False), (3, 4, True)]  # (C_in, C_out, use bias)
SIZES = [(7, 9), (8, 6)]  # odd and even: "same" then needs asymmetric padding


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("channels", CHANNELS, ids=lambda c: f"c{c[0]}to{c[1]}")
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", STRIDES, ids=lambda s: f"s{s}")
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: f"k{k}")
def test_both_versions_match_keras(keras, kernel, stride, padding, channels, size):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    c_in, c_out, bias = channels
    x, w, b = random_case((2, *size, c_in), (kh, kw, c_in, c_out), bias)
    expected = keras_conv(keras, x, w, b, stride, padding)

    vectorised = conv2d(x, w, b, stride=stride, padding=padding)
    looped = conv2d_loop(x, w, b, stride=stride, padding=padding)

    assert vectorised.shape == looped.shape == expected.shape
    np.testing.assert_allclose(vectorised, expected, **TOL)
    np.testing.assert_allclose(looped, expected, **TOL)


@pytest.mark.parametrize(
    ("stride", "padding"), [((1, 2), "same"), ((2, 1), "valid"), ((3, 2), "same"), (2, "SAME")]
)
def test_vectorised_matches_keras_on_larger_inputs(keras, stride, padding):
    x, w, b = random_case((4, 28, 27, 3), (5, 3, 3, 8), bias=True, seed=1)
    expected = keras_conv(keras, x, w, b, stride, padding.lower())
    np.testing.assert_allclose(conv2d(x, w, b, stride, padding), expected, **TOL)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("stride", [1, 2])
def test_int_padding_matches_zero_padding_then_valid_conv(keras, p, stride):
    x, w, b = random_case((2, 6, 7, 2), (3, 4, 2, 3), bias=True, seed=2)
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.ZeroPadding2D(p),
            keras.layers.Conv2D(3, (3, 4), strides=stride, padding="valid"),
        ]
    )
    model.layers[-1].set_weights([w, b])
    expected = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(conv2d(x, w, b, stride, padding=p), expected, **TOL)
    np.testing.assert_allclose(conv2d_loop(x, w, b, stride, padding=p), expected, **TOL)


def test_integer_inputs_are_exact_and_do_not_overflow():
    # uint8 images times uint8 weights would wrap around at 255 without promotion.
    x = np.full((1, 5, 5, 2), 255, dtype=np.uint8)
    w = np.full((3, 3, 2, 1), 255, dtype=np.uint8)
    for conv in (conv2d, conv2d_loop):
        y = conv(x, w, padding="same")
        assert y.dtype == np.int64
        assert y[0, 2, 2, 0] == 255 * 255 * 3 * 3 * 2  # interior: full window
        assert y[0, 0, 0, 0] == 255 * 255 * 2 * 2 * 2  # corner: half the window is padding


def test_float32_stays_float32_and_accepts_lists():
    x, w, b = random_case((1, 4, 4, 1), (2, 2, 1, 1), bias=True)
    assert conv2d(x, w, b).dtype == conv2d_loop(x, w, b).dtype == np.float32
    from_lists = conv2d(x.tolist(), w.tolist())  # Python floats: float64
    assert from_lists.dtype == np.float64
    np.testing.assert_allclose(from_lists, conv2d_loop(x, w), **TOL)


def test_hand_computed_example():
    # 3x3 sums of a 4x4 ramp: top-left window 0+1+2+4+5+6+8+9+10 = 45, each step right
    # adds 3 x 1, each step down adds 3 x 4.
    x = np.arange(16).reshape(1, 4, 4, 1)
    w = np.ones((3, 3, 1, 1), dtype=int)
    expected = np.array([[45, 54], [81, 90]])
    np.testing.assert_array_equal(conv2d(x, w)[0, :, :, 0], expected)
    np.testing.assert_array_equal(conv2d_loop(x, w)[0, :, :, 0], expected)
    # stride 2: only the top-left window of the 2x2 output grid.
    np.testing.assert_array_equal(conv2d(x, w, stride=2)[0, :, :, 0], [[45]])


# --------------------------------------------------------------------------- sizes


def test_output_size_for_matches_keras_output_shapes(keras):
    for k, s, padding in itertools.product(range(1, 6), range(1, 4), PADDINGS):
        layer = keras.layers.Conv2D(1, k, strides=s, padding=padding)
        for n in range(1, 11):
            if padding == "valid" and k > n:
                with pytest.raises(ConvShapeError, match="larger than the padded input"):
                    output_size_for(n, k, s, padding)
                continue
            # Height n and width n + 1 so both axes are checked.
            _, h, w, _ = layer.compute_output_shape((None, n, n + 1, 1))
            assert (output_size_for(n, k, s, padding), output_size_for(n + 1, k, s, padding)) == (
                h,
                w,
            ), (n, k, s, padding)


def test_output_size_formula_with_explicit_padding_matches_keras(keras):
    for n, k, p, s in itertools.product([5, 8], [1, 3, 4], [0, 1, 2], [1, 2, 3]):
        shape = keras.layers.ZeroPadding2D(p).compute_output_shape((None, n, n, 1))
        shape = keras.layers.Conv2D(1, k, strides=s).compute_output_shape(shape)
        assert output_size(n, k, p, s) == output_size_for(n, k, s, p) == shape[1]


def test_output_size_hand_values():
    assert output_size(28, 3, 0, 1) == 26  # (28 - 3) / 1 + 1
    assert output_size(28, 3, 1, 1) == 28  # p = (k - 1) / 2 keeps the size
    assert output_size(28, 2, 0, 2) == 14  # 2x2 pooling halves
    assert output_size(7, 3, 0, 2) == 3  # floor(4 / 2) + 1
    assert output_size(8, 3, 0, 3) == 2  # floor(5 / 3) + 1: the last pixels are never seen


def test_same_padding_hand_values():
    assert same_padding(7, 3, 1) == (1, 1)
    assert same_padding(5, 4, 1) == (1, 2)  # odd total: the extra zero goes after
    assert same_padding(8, 3, 2) == (0, 1)  # out 4 needs 3 * 2 + 3 = 9 inputs: one missing
    assert same_padding(7, 3, 2) == (1, 1)  # out 4 needs 9: two missing
    assert same_padding(6, 1, 3) == (0, 0)
    assert same_padding(4, 1, 3) == (0, 0)  # out 2 needs 4: none missing, never negative


def test_same_padding_matches_keras_same(keras):
    # Keras "same" must equal Keras "valid" on the input padded by same_padding.
    rng = np.random.default_rng(3)
    for (h, wd), (kh, kw), s in itertools.product([(5, 6), (8, 7)], [(2, 3), (4, 5)], [1, 2, 3]):
        x = rng.standard_normal((1, h, wd, 1)).astype("float32")
        w = rng.standard_normal((kh, kw, 1, 1)).astype("float32")
        padded = np.pad(x, ((0, 0), same_padding(h, kh, s), same_padding(wd, kw, s), (0, 0)))
        np.testing.assert_allclose(
            keras_conv(keras, padded, w, stride=s, padding="valid"),
            keras_conv(keras, x, w, stride=s, padding="same"),
            **TOL,
        )


# --------------------------------------------------------------------------- receptive field

REFERENCE_CNN = [(3, 1), (2, 2), (3, 1), (2, 2)]  # conv3 - pool2 - conv3 - pool2


def test_receptive_field_of_reference_cnn():
    # By hand, starting from r = 1, j = 1:
    #   conv3: r = 1 + 2*1 = 3,  j = 1
    #   pool2: r = 3 + 1*1 = 4,  j = 2   (two neighbouring 3-windows, one pixel apart)
    #   conv3: r = 4 + 2*2 = 8,  j = 2   (three pool outputs, each two pixels apart)
    #   pool2: r = 8 + 1*2 = 10, j = 4
    assert receptive_field(REFERENCE_CNN) == [
        ReceptiveField(kernel=3, stride=1, jump=1, receptive_field=3),
        ReceptiveField(kernel=2, stride=2, jump=2, receptive_field=4),
        ReceptiveField(kernel=3, stride=1, jump=2, receptive_field=8),
        ReceptiveField(kernel=2, stride=2, jump=4, receptive_field=10),
    ]
    assert receptive_field([]) == []
    assert receptive_field([(3, 1)] * 3)[-1].receptive_field == 7  # three 3x3 convs see 7x7


def test_receptive_field_matches_which_pixels_keras_outputs_see(keras):
    # Put a 1 on each input pixel in turn; with positive weights an output changes exactly
    # when the pixel is inside its receptive field.
    n = 14  # 14 -> 12 -> 6 -> 4 -> 2
    model = keras.Sequential(
        [
            keras.Input((n, n, 1)),
            keras.layers.Conv2D(1, 3, kernel_initializer="ones", use_bias=False),
            keras.layers.AveragePooling2D(2),
            keras.layers.Conv2D(1, 3, kernel_initializer="ones", use_bias=False),
            keras.layers.AveragePooling2D(2),
        ]
    )
    deltas = np.eye(n * n, dtype="float32").reshape(n * n, n, n, 1)
    y = keras.ops.convert_to_numpy(model(deltas))  # (n*n, 2, 2, 1)
    seen_by_first = (y[:, 0, 0, 0] > 0).reshape(n, n)
    seen_by_second = (y[:, 0, 1, 0] > 0).reshape(n, n)

    last = receptive_field(REFERENCE_CNN)[-1]
    r, j = last.receptive_field, last.jump
    expected = np.zeros((n, n), dtype=bool)
    expected[:r, :r] = True
    np.testing.assert_array_equal(seen_by_first, expected)
    # The neighbouring output sees the same size window, shifted right by the jump.
    np.testing.assert_array_equal(seen_by_second, np.roll(expected, j, axis=1))


def test_receptive_field_is_frozen():
    layer = receptive_field([(3, 1)])[0]
    with pytest.raises(AttributeError):
        layer.kernel = 5


# --------------------------------------------------------------------------- errors


def good():
    return np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 2))


@pytest.mark.parametrize("conv", [conv2d, conv2d_loop])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": np.zeros((5, 5, 3))}, r"x must have 4 dimensions \(N, H, W, C_in\).*x\[None\]"),
        ({"w": np.zeros((3, 3, 3))}, r"w must have 4 dimensions \(kh, kw, C_in, C_out\)"),
        ({"w": np.zeros((3, 3, 1, 2))}, r"x has 3 channels .* expects C_in = 1"),
        ({"b": np.zeros(3)}, r"b must have shape \(C_out,\) = \(2,\)"),
        ({"padding": "full"}, r'padding must be "valid", "same" or a non-negative int'),
        ({"padding": -1}, r"padding must be a non-negative integer, got -1"),
        ({"stride": 0}, r"stride must be a positive integer, got 0"),
        ({"stride": (1, -2)}, r"stride\[1\] must be a positive integer, got -2"),
        ({"stride": (1, 2, 3)}, r"stride must be an int or a pair"),
        ({"stride": 1.5}, r"stride must be a positive integer, got 1.5"),
        ({"w": np.zeros((6, 3, 3, 2))}, r"kernel height 6 is larger than the input height 5"),
        ({"w": np.zeros((3, 7, 3, 2))}, r"kernel width 7 is larger than the input width 5"),
    ],
)
def test_bad_arguments_raise_clear_errors(conv, change, message):
    x, w = good()
    kwargs = {"x": x, "w": w, "b": None, "stride": 1, "padding": "valid", **change}
    with pytest.raises(ConvShapeError, match=message) as info:
        conv(**kwargs)
    assert isinstance(info.value, ConvlabError) and isinstance(info.value, ValueError)


def test_large_kernel_is_fine_with_same_or_enough_padding(keras):
    x, w, _ = random_case((1, 3, 3, 1), (5, 5, 1, 1), bias=False)
    np.testing.assert_allclose(
        conv2d(x, w, padding="same"), keras_conv(keras, x, w, None, 1, "same"), **TOL
    )
    assert conv2d(x, w, padding=1).shape == (1, 1, 1, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: output_size(3, 5, 0, 1), r"kernel size 5 is larger than the padded input 3"),
        (lambda: output_size(5, 3, 0, 0), r"stride s must be a positive integer, got 0"),
        (lambda: output_size(5, 3, -1, 1), r"padding p must be a non-negative integer"),
        (lambda: output_size_for(5, 3, 1, "causal"), r'padding must be "valid", "same"'),
        (lambda: same_padding(0, 3, 1), r"input size n must be a positive integer, got 0"),
        (lambda: receptive_field([(3, 1, 1)]), r"layer 0 must be a \(kernel, stride\) pair"),
        (lambda: receptive_field([(3, 1), (2, 0)]), r"stride of layer 1 must be a positive"),
    ],
)
def test_size_helpers_raise_clear_errors(call, message):
    with pytest.raises(ConvShapeError, match=message):
        call()
