"""A study's results: per-arm table and paired differences computed by hand."""

import math

import conftest
import pytest

from convlab.experiments import Arm, Profile, ResultsStore, Study, load_study, plan
from convlab.models import CNNSpec, ConvBlock

TINY = Profile(
    "tiny", "tests", train_size=120, val_size=60, test_size=100, epochs=1, seeds=2, batch_size=32
)
SMALL = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
DATASET = "fashion-mnist"
THREE = Study(
    "three",
    "Which kernel?",
    "kernel size",
    arms={f"{k}x{k}": Arm(model=SMALL, blocks={"kernel_size": k}, value=k) for k in (3, 5, 7)},
    reference="3x3",
)


def store_fake(tmp_path, study, accs):
    """Write fake records with chosen accuracies (arm -> per-seed list) and load them."""
    store = ResultsStore(tmp_path)
    seeds = tuple(range(len(next(iter(accs.values())))))
    for run in plan(study, TINY, DATASET, seeds):
        acc = accs[run.arm][run.seed]
        store.save(run.inputs, conftest.fake_result(run.spec, run.config, run.seed, acc))
    return load_study(study, TINY, store, DATASET, seeds)


def test_table_and_differences_by_hand(tmp_path):
    result = store_fake(
        tmp_path,
        THREE,
        {"3x3": [0.80, 0.82, 0.84], "5x5": [0.85, 0.86, 0.90], "7x7": [0.81, 0.83, 0.82]},
    )
    t = result.table()
    assert list(t.index) == ["3x3", "5x5", "7x7"] and list(t["value"]) == [3, 5, 7]
    row = t.loc["3x3"]
    assert row["n_seeds"] == 3 and row["mean_accuracy"] == pytest.approx(0.82)
    assert row["std_accuracy"] == pytest.approx(0.02)
    half = 4.302653 * 0.02 / math.sqrt(3)  # t(0.975, 2) = 4.303
    assert row["ci95_half_width"] == pytest.approx(half, rel=1e-6)
    assert row["ci95_low"] == pytest.approx(0.82 - half)
    assert row["params"] == 1 * 9 * 4 + 4 + 14 * 14 * 4 * 8 + 8 + 8 * 10 + 10
    assert row["wall_time_s"] == 2.0 and row["images_per_s"] == 60.0
    d = result.differences()
    # 5x5 - 3x3 per seed: 0.05, 0.04, 0.06 -> mean 0.05, std 0.01
    assert d.loc["5x5", "mean_difference"] == pytest.approx(0.05)
    assert d.loc["5x5", "std_difference"] == pytest.approx(0.01)
    assert d.loc["5x5", "ci95_low"] == pytest.approx(0.05 - 4.302653 * 0.01 / math.sqrt(3))
    assert d.loc["5x5", "verdict"] == "better than 3x3 at 3 seeds"
    assert bool(d.loc["5x5", "distinguishable"]) is True
    # 7x7 - 3x3: 0.01, 0.01, -0.02 -> mean 0, covers zero
    assert d.loc["7x7", "mean_difference"] == pytest.approx(0.0, abs=1e-12)
    assert d.loc["7x7", "verdict"] == "not distinguishable from 3x3 at 3 seeds"
    assert bool(d.loc["7x7", "distinguishable"]) is False
    frame = result.frame()
    assert len(frame) == 9 and set(frame["status"]) == {"stored"}
    assert len(result.curves()) == 9
