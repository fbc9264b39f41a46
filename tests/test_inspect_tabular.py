"""The tabular comparison: two models of a size, trained through the cached runner."""

import dataclasses
import os

import numpy as np
import pytest

from convlab import models
from convlab import train as train_module
from convlab.experiments import PROFILES
from convlab.inspect import TABULAR_MODELS, compare_on_tabular, conv_minus_mlp, summarize_runs
from convlab.tabular import TabularTask

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SMALL = TabularTask(samples=400, informative=3, redundant=2, noise=3, classes=3)


def test_models_are_of_about_the_same_size():
    mlp, conv = TABULAR_MODELS["mlp"], TABULAR_MODELS["conv1d"]
    built = models.build(conv, (24,), 4)
    # conv: 3*1*16+16, flatten 24*16 -> dense 32, output 32*4+4
    assert built.count_params() == (3 * 16 + 16) + (24 * 16 * 32 + 32) + (32 * 4 + 4)
    assert models.count_params(conv, (24,), 4) == built.count_params()
    assert models.count_params(mlp, (24,), 4) == models.build(mlp, (24,), 4).count_params()
    assert abs(models.count_params(mlp, (24,), 4) / built.count_params() - 1) < 0.1
    assert built.get_layer("conv1").output.shape == (None, 24, 16)


def test_compare_runs_both_models_per_seed_and_caches_them(tmp_path, monkeypatch):
    tiny = dataclasses.replace(PROFILES["smoke"], tabular_epochs=2, tabular_patience=1)
    runs = compare_on_tabular(SMALL, tiny, seeds=[0], store=tmp_path)
    assert runs["model"].tolist() == ["mlp", "conv1d"] and (runs["seed"] == 0).all()
    assert runs["test_accuracy"].between(0, 1).all() and (runs["epochs"] <= 2).all()
    assert len(list(tmp_path.rglob("*.json"))) == 2
    monkeypatch.setattr(train_module, "train", lambda *a, **k: pytest.fail("retrained"))
    again = compare_on_tabular(SMALL, tiny, seeds=[0], store=tmp_path)
    assert again["test_accuracy"].tolist() == runs["test_accuracy"].tolist()


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
    assert PROFILES["smoke"].tabular_config().epochs < PROFILES["quick"].tabular_config().epochs


def _runs_with_rows(conv_rows, mlp_rows):
    import pandas as pd

    rows = []
    for kind, per_seed in (("mlp", mlp_rows), ("conv1d", conv_rows)):
        for seed, correct in enumerate(per_seed):
            c = np.asarray(correct, dtype=float)
            rows.append(
                {"model": kind, "seed": seed, "test_accuracy": c.mean(), "params": 1, "correct": c}
            )
    return pd.DataFrame(rows)


def test_with_rows_the_gap_is_the_crossed_interval_over_seeds_and_rows():
    from convlab.experiments.intervals import crossed_interval

    rng = np.random.default_rng(0)
    conv = rng.integers(0, 2, (3, 500))
    mlp = rng.integers(0, 2, (3, 500))
    gap = conv_minus_mlp(_runs_with_rows(conv, mlp))
    expected = crossed_interval(conv - mlp)
    assert (gap.mean, gap.low, gap.high) == pytest.approx(
        (expected.mean, expected.low, expected.high)
    )
    assert gap.images == 500


def test_compare_keeps_per_row_correctness(tmp_path):
    tiny = dataclasses.replace(PROFILES["smoke"], tabular_epochs=1, tabular_patience=1)
    runs = compare_on_tabular(SMALL, tiny, seeds=[0, 1], store=tmp_path)
    for _, row in runs.iterrows():
        assert row["correct"].mean() == pytest.approx(row["test_accuracy"])
    assert conv_minus_mlp(runs).images == len(runs["correct"].iloc[0])


@pytest.mark.parametrize(
    "conv_right, mlp_right, words",
    [(0.9, 0.6, "did better"), (0.6, 0.9, "did worse"), (0.75, 0.75, "covers zero")],
)
def test_the_reading_follows_the_interval(conv_right, mlp_right, words):
    """Simulated runs with a known gap: the sentence says what the interval says."""
    from convlab.inspect import tabular_reading

    rng = np.random.default_rng(1)
    conv = rng.random((3, 2000)) < conv_right
    mlp = rng.random((3, 2000)) < mlp_right
    gap = conv_minus_mlp(_runs_with_rows(conv, mlp))
    reading = tabular_reading(gap)
    assert words in reading
    assert f"{100 * gap.low:+.2f}" in reading and f"{100 * gap.high:+.2f}" in reading
