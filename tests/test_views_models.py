"""convlab.views.models: a spec's layer table and a CNN's design table, against the spec."""

from __future__ import annotations

import pytest

from convlab import models
from convlab.experiments import STUDIES
from convlab.views.models import design_table, layer_frame


@pytest.mark.parametrize("name", ["mlp", "cnn", "cifar-cnn"])
def test_layer_frame_sums_to_the_parameter_count(name):
    spec, dataset, expected = models.REFERENCES[name]
    shape = (32, 32, 3) if dataset == "cifar10" else (28, 28, 1)
    frame = layer_frame(spec, shape, 10)
    assert frame["parameters"].sum() == expected
    assert list(frame.index) == [r.name for r in models.layer_table(spec, shape, 10)]
    assert frame.loc["output", "formula"].endswith("*10+10")


def test_design_table_reads_its_values_from_the_spec():
    table = design_table(models.reference("cnn"))
    assert table.loc["kernel size", "this CNN"] == "3x3"
    assert table.loc["filters per block", "this CNN"] == "32-64"
    assert table.loc["downsampling", "this CNN"] == "2x2 max pooling"
    assert table.loc["dense head", "this CNN"] == "64"
    cifar = design_table(models.reference("cifar-cnn"))
    assert cifar.loc["filters per block", "this CNN"] == "32-64-128"
    assert cifar.loc["convolutions per block", "this CNN"] == "2 / 2 / 1"
    assert cifar.loc["dropout", "this CNN"] == "0.25 / 0.25 / 0.25 / 0.5"
    strided = models.reference("cnn").with_blocks(pool="none", stride=2)
    assert design_table(strided).loc["downsampling", "this CNN"] == ("stride-2 convolution")
    assert set(table["tested by"]) - {"-"} <= set(STUDIES)
    with pytest.raises(TypeError, match="CNNSpec"):
        design_table(models.reference("mlp"))
