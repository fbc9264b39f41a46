"""The convolution chapter's channel and pooling demonstrations, against Keras and by hand."""

import numpy as np
import pytest

from convlab import channels_pooling as cp
from convlab import pool


def test_a_1x1_convolution_is_a_matrix_product_per_pixel():
    x = np.random.default_rng(1).standard_normal((2, 5, 6, 3))
    assert cp.one_by_one_as_matmul(x, filters=4) < 1e-12


def test_pooling_agrees_with_keras_in_every_mode_and_padding():
    x = np.random.default_rng(2).standard_normal((2, 7, 9, 3)).astype(np.float32)
    table = cp.compare_pooling_with_keras(x)
    assert len(table) == 4
    assert (table["max |difference|"] < 1e-6).all()
    assert table.loc[("max", "same"), "output"] == "4 x 5 x 3"


def test_a_shift_by_the_stride_moves_the_pooled_map_exactly():
    x = np.random.default_rng(3).random((3, 8, 16, 2))
    table = cp.pooled_shift_table(x, pool_size=2, shifts=(1, 2, 4))
    assert table.loc[2, "moved exactly"] == 1.0 and table.loc[4, "moved exactly"] == 1.0
    assert np.isnan(table.loc[1, "moved exactly"])
    # a 1-pixel shift keeps a value only where the window's maximum stayed in its window
    assert 0.0 < table.loc[1, "unchanged"] < 1.0


def test_unchanged_share_counted_by_hand():
    """Pool 2: [0, 5, 5, 0, 0, 3, 3, 0] pools to [5, 5, 3, 3]; shifted right by 1 it is
    [0, 0, 5, 5, 0, 0, 3, 3], which pools to [0, 5, 0, 3]: half the values stay. Repeated,
    so that an interior is left after dropping 2 pooled columns at each edge."""
    row = np.array([0, 5, 5, 0, 0, 3, 3, 0] * 3, dtype=float)
    x = np.stack([row, row])[None, :, :, None]
    plain = pool.pool2d(x, 2)[0, 0, :, 0]
    moved = pool.pool2d(cp._shift_right(x, 1), 2)[0, 0, :, 0]
    inner = slice(2, len(plain) - 2)
    expected = np.mean(plain[inner] == moved[inner])
    assert cp.pooled_shift_table(x, 2, shifts=(1,)).loc[1, "unchanged"] == pytest.approx(expected)
    assert expected == 0.5


def test_bad_input_is_a_clear_error():
    with pytest.raises(cp.conv.ConvShapeError, match=r"\(N, H, W, C\)"):
        cp.pooled_shift_table(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="positive"):
        cp.pooled_shift_table(np.zeros((1, 4, 8, 1)), shifts=(0,))
