"""Receptive fields: the formula's sizes, and boxes that match what Keras' layers really see."""

import os

import numpy as np
import pytest

from convlab import models
from convlab.inspect import (
    InspectError,
    receptive_field_boxes,
    receptive_field_figure,
    receptive_field_table,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STRIDED = models.CNNSpec(
    blocks=(
        models.ConvBlock(2, kernel_size=5, stride=2, padding="valid", pool="none"),
        models.ConvBlock(2, kernel_size=3, pool="avg"),
    ),
    dense=(2,),
)


def test_reference_cnn_table():
    t = receptive_field_table(models.reference("cnn"), (28, 28, 1))
    assert t["layer"].tolist() == ["conv1_1", "maxpool1", "conv2_1", "maxpool2"]
    assert t["receptive_field"].tolist() == [3, 4, 8, 10]
    assert t["jump"].tolist() == [1, 2, 2, 4]
    assert t["output"].tolist() == ["28x28", "14x14", "14x14", "7x7"]


def _influence(model, layer_name, shape, row, col):
    """Input pixels whose change moves unit (row, col, 0) of the layer: the true field."""
    import keras

    for layer in model.layers:  # positive weights, no bias: no change can cancel out
        weights = layer.get_weights()
        if weights:
            layer.set_weights(
                [np.full_like(weights[0], 0.1)] + [np.zeros_like(w) for w in weights[1:]]
            )
    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    h, w = shape[:2]
    base = np.ones((1, *shape), dtype="float32")
    bumped = np.repeat(base, h * w, axis=0)
    bumped.reshape(h * w, h * w, -1)[np.arange(h * w), np.arange(h * w)] += 100.0
    delta = np.abs(
        np.asarray(probe(bumped))[:, row, col, 0] - np.asarray(probe(base))[0, row, col, 0]
    )
    rows, cols = np.nonzero(delta.reshape(h, w) > 1e-4)
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.mark.parametrize(
    ("spec", "shape"), [(models.reference("cnn"), (28, 28, 1)), (STRIDED, (17, 15, 1))]
)
def test_boxes_match_the_pixels_that_move_the_unit(spec, shape):
    model = models.build(spec, shape, 2)
    for box in receptive_field_boxes(spec, shape).itertuples():
        seen = _influence(model, box.layer, shape, box.unit_row, box.unit_col)
        clipped = (
            max(box.top, 0),
            min(box.bottom, shape[0] - 1),
            max(box.left, 0),
            min(box.right, shape[1] - 1),
        )
        assert seen == clipped, box.layer


def test_figure_and_mlp():
    fig = receptive_field_figure(models.reference("cnn"), np.zeros((28, 28, 1)))
    assert len(fig.axes[0].patches) == 4
    with pytest.raises(InspectError, match="MLP"):
        receptive_field_table(models.reference("mlp"), (28, 28, 1))
