"""convlab.kernel_fit: the gradient against finite differences and TensorFlow's autodiff,
and gradient descent that recovers a known kernel."""

from __future__ import annotations

import os

import numpy as np
import pytest

from convlab import conv
from convlab.chapters import edge_kernel
from convlab.conv import ConvShapeError
from convlab.kernel_fit import fit_kernel, kernel_gradient, squared_error


def case(seed=0, c_in=2, c_out=3, k=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 6, 7, c_in))
    y = rng.standard_normal((2, 6 - k + 1, 7 - k + 1, c_out))
    w = rng.standard_normal((k, k, c_in, c_out))
    return x, y, w


def test_gradient_matches_central_differences():
    x, y, w = case()
    grad = kernel_gradient(x, y, w)
    h = 1e-6
    numeric = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        step = np.zeros_like(w)
        step[index] = h
        numeric[index] = (squared_error(x, y, w + step) - squared_error(x, y, w - step)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_gradient_matches_tensorflow_autodiff_through_a_keras_conv2d():
    tf = pytest.importorskip("tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    x, y, w = case(seed=1, c_in=1, c_out=2, k=2)
    kernel = tf.Variable(w)
    with tf.GradientTape() as tape:
        out = tf.nn.conv2d(x, kernel, strides=1, padding="VALID")
        loss = tf.reduce_mean((out - y) ** 2)
    np.testing.assert_allclose(
        kernel_gradient(x, y, w), tape.gradient(loss, kernel).numpy(), rtol=1e-10
    )


def test_gradient_descent_recovers_an_edge_kernel_from_image_pairs():
    rng = np.random.default_rng(3)
    x = rng.random((4, 14, 14, 1))
    w_true = edge_kernel()
    fit = fit_kernel(x, conv.conv2d(x, w_true), kernel_size=3, steps=300)
    assert np.abs(fit.kernel - w_true).max() < 1e-4
    assert len(fit.losses) == 301
    assert fit.losses[-1] < 1e-8 < fit.losses[0]
    assert all(b <= a + 1e-15 for a, b in zip(fit.losses, fit.losses[1:], strict=False))


def test_a_wrong_kernel_size_is_refused_with_the_shapes():
    x, _, _ = case()
    with pytest.raises(ConvShapeError, match="is not the shape a 5x5 valid convolution"):
        fit_kernel(x, conv.conv2d(x, np.ones((3, 3, 2, 1))), kernel_size=5)
