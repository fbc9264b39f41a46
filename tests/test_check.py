"""The exercises' self-checks pass the reference solution and catch wrong ones, saying
what differs."""

from __future__ import annotations

import numpy as np
import pytest

from convlab import check, conv, pool


def keras_param_count(k, c_in, c_out):
    import keras

    layer = keras.layers.Conv2D(c_out, k)
    layer.build((None, 8, 8, c_in))
    return layer.count_params()


def rf_forgetting_the_jump(layers):
    # The classic mistake: every layer adds k - 1, whatever the strides below it.
    out, r = [], 1
    for k, _ in layers:
        r += k - 1
        out.append(r)
    return out


def conv_flipping_the_kernel(x, w, b, stride, padding):
    # A true convolution instead of Keras' cross-correlation.
    return conv.conv2d(x, w[::-1, ::-1], b, stride, padding)


def pool_padding_with_zeros(x, pool_size, stride, padding, mode):
    # Zero padding at the border: wrong for "same" (max of negatives, and the average).
    if padding == "same":
        h, w = x.shape[1:3]
        kh = kw = pool_size
        s = pool_size if stride is None else stride
        (t, b), (left, r) = conv.same_padding(h, kh, s), conv.same_padding(w, kw, s)
        x = np.pad(x, ((0, 0), (t, b), (left, r), (0, 0)))
    return pool.pool2d(x, pool_size, stride, "valid", mode)


CASES = [
    (check.output_size, conv.output_size, lambda n, k, p, s: (n + 2 * p - k) / s + 1),
    (check.output_size, conv.output_size, lambda n, k, p, s: (n + p - k) // s + 1),
    (
        check.receptive_field,
        lambda layers: [r.receptive_field for r in conv.receptive_field(layers)],
        rf_forgetting_the_jump,
    ),
    (check.conv_params, keras_param_count, lambda k, c_in, c_out: k * k * c_in * c_out),
    (check.conv2d, conv.conv2d, conv_flipping_the_kernel),
    (check.conv2d, conv.conv2d_loop, lambda x, w, b, s, p: conv.conv2d(x, w, None, s, p)),
    (check.pool2d, pool.pool2d, pool_padding_with_zeros),
    (check.pool2d, pool.pool2d, lambda x, k, s, p, m: pool.pool2d(x, k, s, p, "max")),
]


@pytest.mark.parametrize(("checker", "right", "wrong"), CASES)
def test_the_reference_passes_and_a_wrong_solution_is_caught(checker, right, wrong):
    good, bad = checker(right), checker(wrong)
    assert good.passed and bool(good)
    assert str(good).startswith(f"{good.name}: all {good.cases} cases agree")
    assert not bad.passed and not bool(bad)
    assert 0 < len(bad.failures) <= bad.cases == good.cases
    assert f"of {bad.cases} cases differ" in str(bad)
    assert "not yet" in bad._repr_markdown_() and "passed" in good._repr_markdown_()


def test_a_failure_names_the_case_and_the_difference():
    text = str(check.output_size(lambda n, k, p, s: (n + 2 * p - k) / s + 1))
    assert "First: n=4, k=1, p=0, s=2: expected 2, got 2.5." in text
    text = str(check.conv2d(conv_flipping_the_kernel))
    assert "w=array of shape (2, 2, 1, 1)" in text and "values differ by up to" in text
    text = str(check.pool2d(lambda x, k, s, p, m: pool.pool2d(x, k, s, "valid", m)))
    assert "padding='same'" in text and "expected shape (2, 4, 3, 3), got (2, 3, 3, 3)" in text


def test_exceptions_nans_and_wrong_types_are_findings_not_crashes():
    raised = check.pool2d(lambda x, k: x)
    assert "raised TypeError" in str(raised) and raised.failures.__len__() == raised.cases
    nan = check.pool2d(lambda x, k, s, p, m: np.full(pool.pool2d(x, k, s, p, m).shape, np.nan))
    assert "got NaN at index (0, 0, 0, 0)" in str(nan)
    text = str(check.conv2d(lambda *args: "a string"))
    assert "expected an array of shape" in text and "got str" in text


def test_a_function_that_writes_into_its_input_cannot_change_the_next_case():
    def destructive(x, w, b, stride, padding):
        y = conv.conv2d(x, w, b, stride, padding)
        x[...] = 0
        return y

    assert check.conv2d(destructive).passed


def test_passing_something_that_is_not_a_function_is_a_clear_error():
    with pytest.raises(TypeError, match="check.pool2d takes your function, got ndarray"):
        check.pool2d(np.zeros(3))
