"""The synthetic table: seeded, stratified, standardised; the two models are of a size."""

import os

import numpy as np
import pytest

from convlab.inspect import (
    InspectError,
    TabularModels,
    TabularTask,
    build_tabular_model,
    compare_on_tabular,
    conv_minus_mlp,
    make_tabular,
    summarize_runs,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SMALL = TabularTask(samples=400, informative=3, redundant=2, noise=3, classes=3)


def test_table_is_seeded_stratified_and_standardised():
    a, b, c = (
        make_tabular(SMALL),
        make_tabular(SMALL),
        make_tabular(TabularTask(**{**SMALL.__dict__, "seed": 1})),
    )
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (240, 8) and a.x_val.shape == a.x_test.shape == (80, 8)
    assert a.x_train.dtype == np.float32 and a.class_names == ("class 0", "class 1", "class 2")
    np.testing.assert_allclose(a.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(a.x_train.std(axis=0), 1, atol=1e-4)
    # every class in every split, in proportion to its share of the whole table
    overall = np.bincount(np.concatenate([a.y_train, a.y_val, a.y_test])) / 400
    for y in (a.y_train, a.y_val, a.y_test):
        assert np.abs(np.bincount(y, minlength=3) / len(y) - overall).max() <= 1.5 / len(y)


def test_redundant_columns_are_mixtures_of_informative_ones():
    d = make_tabular(SMALL)
    x = np.vstack([d.x_train, d.x_val, d.x_test])
    # 3 informative + 2 redundant span only 3 dimensions; the 3 noise columns add 3 more
    assert np.linalg.matrix_rank(x, tol=1e-3 * np.abs(x).max()) == 6


def test_impossible_tasks_are_refused():
    with pytest.raises(InspectError, match="hypercube"):
        make_tabular(TabularTask(informative=1, classes=3))


def test_models_are_of_about_the_same_size():
    models = TabularModels()
    mlp = build_tabular_model("mlp", 24, 4, models)
    conv = build_tabular_model("conv1d", 24, 4, models)
    # conv: 3*1*16+16, flatten 24*16 -> dense 32, output 32*4+4
    assert conv.count_params() == (3 * 16 + 16) + (24 * 16 * 32 + 32) + (32 * 4 + 4)
    assert abs(mlp.count_params() / conv.count_params() - 1) < 0.1
    assert conv.get_layer("conv1").output.shape == (None, 24, 16)
    with pytest.raises(InspectError, match="mlp"):
        build_tabular_model("rnn", 24, 4, models)


def test_compare_runs_both_models_per_seed():
    runs = compare_on_tabular(
        make_tabular(SMALL), seeds=[0], models=TabularModels(epochs=2, patience=1)
    )
    assert runs["model"].tolist() == ["mlp", "conv1d"] and (runs["seed"] == 0).all()
    assert runs["test_accuracy"].between(0, 1).all() and (runs["epochs"] <= 2).all()


def test_summary_mean_and_interval():
    import pandas as pd

    runs = pd.DataFrame(
        {
            "model": ["mlp"] * 3 + ["conv1d"] * 3,
            "seed": [0, 1, 2] * 2,
            "test_accuracy": [0.80, 0.82, 0.84, 0.70, 0.70, 0.70],
            "params": [10] * 3 + [12] * 3,
        }
    )
    s = summarize_runs(runs)
    assert list(s.index) == ["mlp", "conv1d"]
    assert s.loc["mlp", "mean"] == pytest.approx(0.82)
    assert s.loc["mlp", "std"] == pytest.approx(0.02)
    # t(0.975, 2 degrees of freedom) = 4.302653: half-width 4.302653 * 0.02 / sqrt(3)
    half = 4.302653 * 0.02 / np.sqrt(3)
    assert (s.loc["mlp", "ci_low"], s.loc["mlp", "ci_high"]) == pytest.approx(
        (0.82 - half, 0.82 + half), abs=1e-6
    )
    assert s.loc["conv1d", "ci_low"] == pytest.approx(0.70)
    gap = conv_minus_mlp(runs)  # paired by seed: -0.10, -0.12, -0.14
    assert (gap.n, gap.mean, gap.std) == (3, pytest.approx(-0.12), pytest.approx(0.02))
    assert TabularModels.for_profile("smoke").epochs < TabularModels.for_profile("quick").epochs
