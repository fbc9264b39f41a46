"""convlab.tables: model and study tables, checked against the objects they describe."""

from __future__ import annotations

import conftest
import pytest

from convlab import models, tables
from convlab.experiments import (
    PROFILES,
    STUDIES,
    ResultsStore,
    data_slice,
    get_study,
    load_study,
    resolve_spec,
    run_inputs,
)
from convlab.train import TrainResult

SMOKE = PROFILES["smoke"]


def fake(spec, config, seed: int, acc: float) -> TrainResult:
    """A TrainResult without training; the tables read accuracy and the spec."""
    return conftest.fake_result(
        spec,
        config,
        seed,
        acc,
        test_loss=0.5,
        params=1,
        macs_per_image=1,
        train_size=300,
        wall_time_s=1.0,
        images_per_s=1.0,
    )


def stored(tmp_path, name: str, accuracy, seeds=(0, 1, 2)):
    """A study read back from a store of fake records; ``accuracy(arm_index, seed)``."""
    study, store = get_study(name), ResultsStore(tmp_path)
    for i, (_label, arm) in enumerate(study.arms.items()):
        spec = resolve_spec(arm, "fashion-mnist", study.base)
        config = SMOKE.train_config(**dict(arm.train))
        for seed in seeds:
            inputs = run_inputs(
                spec, config, seed, "fashion-mnist", data_slice(SMOKE, arm.data), "smoke"
            )
            store.save(inputs, fake(spec, config, seed, accuracy(i, seed)))
    return load_study(study, SMOKE, store, "fashion-mnist", seeds)


@pytest.mark.parametrize("name", ["mlp", "cnn", "cifar-cnn"])
def test_layer_frame_sums_to_the_parameter_count(name):
    spec, dataset, expected = models.REFERENCES[name]
    shape = (32, 32, 3) if dataset == "cifar10" else (28, 28, 1)
    frame = tables.layer_frame(spec, shape, 10)
    assert frame["parameters"].sum() == expected
    assert list(frame.index) == [r.name for r in models.layer_table(spec, shape, 10)]
    assert frame.loc["output", "formula"].endswith("*10+10")


def test_design_table_reads_its_values_from_the_spec():
    table = tables.design_table(models.reference("cnn"))
    assert table.loc["kernel size", "this CNN"] == "3x3"
    assert table.loc["filters per block", "this CNN"] == "32-64"
    assert table.loc["downsampling", "this CNN"] == "2x2 max pooling"
    assert table.loc["dense head", "this CNN"] == "64"
    cifar = tables.design_table(models.reference("cifar-cnn"))
    assert cifar.loc["filters per block", "this CNN"] == "32-64-128"
    assert cifar.loc["convolutions per block", "this CNN"] == "2 / 2 / 1"
    assert cifar.loc["dropout", "this CNN"] == "0.25 / 0.25 / 0.25 / 0.5"
    strided = models.reference("cnn").with_blocks(pool="none", stride=2)
    assert tables.design_table(strided).loc["downsampling", "this CNN"] == ("stride-2 convolution")
    assert set(table["tested by"]) - {"-"} <= set(STUDIES)
    with pytest.raises(TypeError, match="CNNSpec"):
        tables.design_table(models.reference("mlp"))


def test_study_intro_states_question_fixed_settings_and_seeds(tmp_path):
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.8)
    text = tables.study_intro(result)
    assert result.study.question in text
    assert all(f"- {item}" in text for item in result.study.fixed)
    assert "3x3, 5x5, 7x7 (each compared with 3x3)" in text
    assert "3 seeds per arm, smoke profile, fashion-mnist" in text
    paired = stored(tmp_path / "d", "data-efficiency", lambda i, s: 0.8)
    assert "comparisons: CNN 1k vs MLP 1k; CNN 5k vs MLP 5k" in tables.study_intro(paired)


def test_study_table_shows_each_arm_with_its_interval(tmp_path):
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    table = tables.study_table(result)
    assert list(table.index) == ["3x3", "5x5", "7x7"]
    assert table.loc["3x3", "accuracy %"] == "80.20"
    ref = result.interval("3x3")
    assert table.loc["3x3", "95% CI"] == f"[{100 * ref.low:.2f}, {100 * ref.high:.2f}]"
    assert table.loc["7x7", "seeds"] == 3
    k5 = models.count_params(models.reference("cnn-k5"), (28, 28, 1), 10)
    assert table.loc["5x5", "parameters"] == f"{k5:,}"


def test_differences_table_has_one_row_per_comparison(tmp_path):
    # Arm i is i points better on every seed: differences are exact, intervals zero-width.
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    table = tables.differences_table(result)
    assert list(table.index) == ["5x5 - 3x3", "7x7 - 3x3"]
    assert table.loc["7x7 - 3x3", "difference (points)"] == "+2.00"
    assert table.loc["7x7 - 3x3", "95% CI"] == "[+2.00, +2.00]"
    assert table.loc["7x7 - 3x3", "verdict"] == "better than 3x3 at 3 seeds"
    # An arm may take part in several comparisons (locality: CNN permuted vs two others).
    locality = stored(tmp_path / "l", "locality", lambda i, s: 0.8 + 0.001 * (i + s))
    assert list(tables.differences_table(locality).index) == [
        f"{a} - {b}" for a, b in get_study("locality").pairs()
    ]


def test_studies_summary_lists_only_distinguishable_differences(tmp_path):
    clear = stored(tmp_path / "a", "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    noisy = stored(tmp_path / "b", "padding", lambda i, s: 0.80 + 0.01 * ((i + s) % 2))
    summary = tables.studies_summary([clear, noisy])
    assert summary.loc["kernel-size", "highest mean accuracy"] == "7x7 (82.20%)"
    assert summary.loc["kernel-size", "distinguishable differences (points)"] == (
        "5x5 vs 3x3 (+1.00); 7x7 vs 3x3 (+2.00)"
    )
    assert summary.loc["padding", "distinguishable differences (points)"] == "none"


def test_profiles_table_lists_every_profile():
    table = tables.profiles_table()
    assert list(table.index) == list(PROFILES)
    assert table.loc["quick", "training images"] == f"{PROFILES['quick'].train_size:,}"
    assert table.loc["full", "training images"] == "all"
    assert table.loc["smoke", "seeds"] == PROFILES["smoke"].seeds
    here = PROFILES["quick"].train_config().precision
    assert table.loc["quick", "arithmetic"] == f"auto (here {here})"
