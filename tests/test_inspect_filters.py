"""First-layer filters: the numbers are the Conv2D kernel, the grid has one image per filter."""

import os

import numpy as np
import pytest

from convlab import models
from convlab.inspect import InspectError, conv_layers, filter_grid, first_layer_filters

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TINY = models.CNNSpec(blocks=(models.ConvBlock(5), models.ConvBlock(3)), dense=(4,))


@pytest.mark.parametrize("channels", [1, 3])
def test_filters_are_the_kernel_and_the_grid_shows_each(channels):
    model = models.build(TINY, (12, 12, channels), 3)
    kernel = model.get_layer("conv1_1").get_weights()[0]  # (kh, kw, C_in, F)
    filters = first_layer_filters(model)
    assert filters.shape == (5, 3, 3, channels)
    for f in range(5):
        np.testing.assert_array_equal(filters[f], kernel[..., f])
    fig = filter_grid(model, cols=4)
    assert sum(len(ax.images) for ax in fig.axes) == 5
    assert [layer.name for layer in conv_layers(model)] == ["conv1_1", "conv2_1"]


def test_a_model_without_convolutions_is_refused():
    mlp = models.build(models.MLPSpec(hidden=(4,)), (6, 6, 1), 2)
    with pytest.raises(InspectError, match="no Conv2D"):
        first_layer_filters(mlp)
