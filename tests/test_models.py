"""Model specs: reference parameter counts, formulas against Keras, clear errors."""

import dataclasses

import pytest

from convlab import models
from convlab.data import dataset_info
from convlab.models import (
    REFERENCES,
    CNNSpec,
    ConvBlock,
    MLPSpec,
    SpecError,
    build,
    count_params,
    layer_table,
    macs_per_image,
    reference,
    spec_from_dict,
)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_reference_architectures_reproduce_the_reports(name):
    spec, dataset, expected = REFERENCES[name]
    shape = dataset_info(dataset).image_shape
    model = build(spec, shape, 10)
    assert model.count_params() == expected
    assert count_params(spec, shape, 10) == expected


VARIANTS = [
    reference("cnn").with_blocks(batch_norm=True),
    reference("cnn").with_blocks(pool="none", stride=2),
    reference("cnn").with_blocks(pool="avg", padding="valid", convs=2),
    reference("cnn").with_blocks(kernel_size=5, pool_size=3),
    CNNSpec(blocks=(ConvBlock(8, kernel_size=7, padding="valid", pool="none"),), dense=()),
    MLPSpec(hidden=(), dropout=0.0),
    MLPSpec(hidden=(64, 32), dropout=0.5),
]


@pytest.mark.parametrize("spec", VARIANTS, ids=range(len(VARIANTS)))
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_formulas_match_keras(spec, shape):
    model = build(spec, shape, 10)
    table = layer_table(spec, shape, 10)
    assert count_params(spec, shape, 10) == model.count_params()
    assert table[-1].output_shape == (10,)
    # Every formula layer exists in the Keras model with the same output shape.
    keras_shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    for row in table:
        assert keras_shapes[row.name] == row.output_shape, row.name


def test_macs_of_the_reference_cnn_by_hand():
    # conv1: 28*28 positions * 3*3*1 * 32; conv2: 14*14 * 3*3*32 * 64; dense: 3136*64 + 64*10
    expected = 28 * 28 * 9 * 32 + 14 * 14 * 9 * 32 * 64 + 3136 * 64 + 64 * 10
    assert macs_per_image(reference("cnn"), (28, 28, 1), 10) == expected


def test_with_blocks_changes_one_field_everywhere():
    spec = reference("cifar-cnn").with_blocks(kernel_size=5)
    assert {b.kernel_size for b in spec.blocks} == {5}
    assert [b.filters for b in spec.blocks] == [32, 64, 128]
    assert spec.dense == (256,)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_spec_round_trips_through_a_dict(name):
    spec = reference(name)
    assert spec_from_dict(dataclasses.asdict(spec)) == spec


@pytest.mark.parametrize(
    "spec, shape, message",
    [
        (CNNSpec(blocks=()), (28, 28, 1), "at least one convolutional block"),
        (reference("cnn").with_blocks(pool="median"), (28, 28, 1), "pool 'max', 'avg' or 'none'"),
        (reference("cnn").with_blocks(filters=0), (28, 28, 1), "must be >= 1"),
        (MLPSpec(dropout=1.0), (28, 28, 1), "Dropout rates must be in [0, 1)"),
        (
            CNNSpec(blocks=(ConvBlock(8, kernel_size=9, padding="valid", pool="none"),) * 4),
            (28, 28, 1),
            "Block 4: a 9x9 'valid' convolution does not fit a 4x4 input",
        ),
        (CNNSpec(blocks=(ConvBlock(8),) * 6), (28, 28, 1), "shrinks the feature map"),
    ],
)
def test_impossible_specs_fail_clearly(spec, shape, message):
    with pytest.raises(SpecError) as err:
        build(spec, shape, 10)
    assert message in str(err.value)


def test_unknown_reference_lists_valid_names():
    with pytest.raises(SpecError) as err:
        reference("resnet")
    assert "Unknown model 'resnet'" in str(err.value)
    assert "cnn-k5" in str(err.value)


def test_describe_names_every_choice_that_differs():
    assert models.describe(models.reference("cnn")) == "conv 32-64, 3x3, same, max pool; dense 64"
    assert models.describe(models.reference("cifar-cnn")) == (
        "conv 32x2-64x2-128, 3x3, same, max pool, dropout 0.25; dense 256, dropout 0.5"
    )
    assert models.describe(models.reference("cifar-mlp")) == "MLP 512-256, dropout 0.2"
    mixed = models.CNNSpec(
        blocks=(models.ConvBlock(8, dropout=0.1), models.ConvBlock(16, kernel_size=5)), dense=()
    )
    assert models.describe(mixed) == "conv 8-16, k 3/5, same, max pool, dropout 0.1/0.0"


def test_reference_models_per_dataset():
    assert models.reference_models("fashion-mnist") == ("mlp-256-128", "cnn")
    assert models.reference_models("cifar10") == ("cifar-mlp", "cifar-cnn")
    with pytest.raises(Exception, match="Unknown dataset|cifar"):
        models.reference_models("imagenet")


def test_head_for_params_matches_a_target_within_the_tolerance_and_keras_agrees():
    base = models.reference("cnn")
    target = models.count_params(base, (28, 28, 1), 10)
    valid = models.head_for_params(base.with_blocks(padding="valid"), (28, 28, 1), 10, target)
    assert valid.dense == (125,) and valid.blocks[0].padding == "valid"
    built = models.build(valid, (28, 28, 1), 10).count_params()
    assert built == models.count_params(valid, (28, 28, 1), 10)
    assert abs(built / target - 1) <= 0.10
    with pytest.raises(SpecError, match="even a 1-unit head gives"):
        models.head_for_params(base.with_blocks(filters=512), (28, 28, 1), 10, target)
    with pytest.raises(SpecError, match="dense head"):
        models.head_for_params(models.CNNSpec(dense=()), (28, 28, 1), 10, target)
