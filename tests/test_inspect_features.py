"""Feature maps: one per conv layer, shaped as the formulas say, equal to the from-scratch
convolution for the first layer."""

import os

import numpy as np
import pytest

from convlab import conv, models
from convlab.inspect import InspectError, feature_map_figure, feature_maps

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPEC = models.CNNSpec(
    blocks=(models.ConvBlock(4, convs=2), models.ConvBlock(6, kernel_size=5)), dense=(4,)
)


@pytest.fixture(scope="module")
def setup():
    model = models.build(SPEC, (16, 16, 1), 3)
    image = np.random.default_rng(0).random((16, 16, 1), dtype=np.float32)
    return model, image


def test_one_map_per_conv_layer_with_the_formula_shapes(setup):
    model, image = setup
    maps = feature_maps(model, image)
    table = {r.name: r.output_shape for r in models.layer_table(SPEC, (16, 16, 1), 3)}
    assert list(maps) == ["conv1_1", "conv1_2", "conv2_1"]
    for name, fmap in maps.items():
        assert fmap.shape == table[name]


def test_first_map_is_relu_of_the_reference_convolution(setup):
    model, image = setup
    w, b = model.get_layer("conv1_1").get_weights()
    expected = np.maximum(conv.conv2d(image[None], w, b, padding="same")[0], 0)
    np.testing.assert_allclose(feature_maps(model, image)["conv1_1"], expected, atol=1e-5)


def test_figure_has_the_input_and_channels_per_layer(setup):
    model, image = setup
    fig = feature_map_figure(feature_maps(model, image), image, channels=3)
    # input + 3 maps for each of the three layers
    assert sum(len(ax.images) for ax in fig.axes) == 1 + 3 * 3


def test_a_batch_instead_of_an_image_is_refused(setup):
    model, image = setup
    with pytest.raises(InspectError, match="one image"):
        feature_maps(model, image[None])
