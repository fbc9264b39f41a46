"""The study engine: cache hit and miss, shared runs, resume after a kill, corrupt records,
statistics by hand, train_one with kept models."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
import zlib

import conftest
import numpy as np
import pytest

from convlab import train as train_module
from convlab.experiments import (
    Arm,
    DataVariant,
    ResultsStore,
    StoreWarning,
    Study,
    StudyError,
    describe,
    load_study,
    permute_pixels,
    resolve_spec,
    run_study,
    train_one,
)
from convlab.experiments.study import _plan
from convlab.models import CNNSpec, ConvBlock, MLPSpec, reference

# Shared with the subprocess of the resume test, so both build identical keys.
DEFINITIONS = """
from convlab.experiments import Arm, Profile, Study
from convlab.models import CNNSpec, ConvBlock
TINY = Profile("tiny", "tests", train_size=120, val_size=60, test_size=100, epochs=1, seeds=2,
               batch_size=32)
SMALL = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
STUDY = Study(
    name="tiny-kernel", question="Does a 5x5 kernel help a tiny CNN?", variable="kernel size",
    arms={"3x3": Arm(model=SMALL, value=3), "5x5": Arm(model=SMALL, blocks={"kernel_size": 5},
          value=5)},
    reference="3x3", fixed=("everything but the kernel",),
)
"""
namespace: dict = {}
exec(DEFINITIONS, namespace)
TINY, SMALL, STUDY = namespace["TINY"], namespace["SMALL"], namespace["STUDY"]
DATASET = "fashion-mnist"


def fake_result(spec, config, seed, acc, train_size=120):
    return conftest.fake_result(spec, config, seed, acc, train_size=train_size)


@pytest.fixture
def trainings(monkeypatch):
    """Replace convlab.train.train by an instant fake; the list records every call."""
    calls = []

    def fake_train(spec, splits, config, seed=0, progress=True):
        calls.append((spec, seed, splits))
        acc = 0.5 + (zlib.crc32(repr((spec, seed)).encode()) % 1000) / 4000
        return fake_result(spec, config, seed, acc, len(splits.x_train))

    monkeypatch.setattr(train_module, "train", fake_train)
    return calls


def test_cache_miss_then_hit(tmp_path, trainings):
    first = run_study(STUDY, TINY, tmp_path, DATASET, progress=False)
    assert len(trainings) == 4 and first.trained == 4
    assert {r.status for r in first.runs} == {"trained"}
    assert len(list(tmp_path.rglob("*.json"))) == 4
    second = run_study(STUDY, TINY, tmp_path, DATASET, progress=False)
    assert len(trainings) == 4 and second.trained == 0  # nothing trained again
    assert {r.status for r in second.runs} == {"stored"}
    assert [r.to_dict() for r in second.records] == [r.to_dict() for r in first.records]
    # More seeds: only the new seed's runs are trained.
    third = run_study(STUDY, TINY, tmp_path, DATASET, progress=False, seeds=3)
    new = [(s.arm, s.seed) for s in third.runs if s.status == "trained"]
    assert len(trainings) == 6 and new == [("3x3", 2), ("5x5", 2)]


def test_a_different_profile_or_dataset_is_a_different_run(tmp_path, trainings):
    run_study(STUDY, TINY, tmp_path, DATASET, progress=False)
    other = dataclasses.replace(TINY, epochs=2)
    run_study(STUDY, other, tmp_path, DATASET, progress=False)
    assert len(trainings) == 8
    renamed = dataclasses.replace(TINY, name="tiny2")
    run_study(STUDY, renamed, tmp_path, DATASET, progress=False)
    assert len(trainings) == 12


def test_identical_arms_train_once(tmp_path, trainings):
    twice = Study(
        "twice",
        "?",
        "nothing",
        arms={"a": Arm(model=SMALL), "b": Arm(model=SMALL, blocks={"kernel_size": 3})},
        reference="a",
    )
    result = run_study(twice, TINY, tmp_path, DATASET, progress=False)
    assert len(trainings) == 2 and result.trained == 2  # one per seed
    assert result.accuracies("a") == result.accuracies("b")
    # train_one of the same configuration is a cache hit too.
    r = train_one(SMALL, DATASET, TINY, seed=1, store=tmp_path)
    assert len(trainings) == 2 and r.test_accuracy == result.accuracies("a")[1]


def test_corrupt_record_is_reported_and_retrained(tmp_path, trainings):
    first = run_study(STUDY, TINY, tmp_path, DATASET, progress=False)
    store = ResultsStore(tmp_path)
    broken = first.runs[1]
    store.path(broken.inputs).write_text('{"key": "half a rec')  # e.g. a full disk
    with pytest.warns(StoreWarning, match="will be retrained"):
        again = run_study(STUDY, TINY, store, DATASET, progress=False)
    assert len(trainings) == 5 and again.trained == 1
    assert len(again.problems) == 1 and broken.key in again.problems[0]
    assert not again.missing
    json.loads(store.path(broken.inputs).read_text())  # repaired


RESUME_SCRIPT = (
    DEFINITIONS
    + """
import sys
from convlab.experiments import run_study
run_study(STUDY, TINY, sys.argv[1], "fashion-mnist", progress=False, seeds=4)
"""
)


def test_resume_after_the_process_is_killed(tmp_path, trainings):
    store = tmp_path / "store"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-c", RESUME_SCRIPT, str(store)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not list(store.rglob("*.json")):
            assert proc.poll() is None, "the study process ended before writing a record"
            assert time.monotonic() < deadline, "no record within 4 minutes"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup, like a power cut
        proc.wait()
    done = len(list(store.rglob("*.json")))
    assert 1 <= done < 8
    resumed = run_study(STUDY, TINY, store, DATASET, progress=False, seeds=4)
    assert len(trainings) == 8 - done  # only the missing runs
    assert sum(r.status == "stored" for r in resumed.runs) == done
    assert not resumed.missing and not resumed.problems
    # The killed process trained for real; its records read back as real results.
    stored = [r.result for r in resumed.runs if r.status == "stored"]
    assert all(r.train_size == 120 and 0 <= r.test_accuracy <= 1 for r in stored)


def test_permutation_arm_trains_on_permuted_pixels(tmp_path, trainings):
    study = Study(
        "perm",
        "?",
        "pixel order",
        arms={"plain": Arm(model=SMALL), "shuffled": Arm(model=SMALL, data=DataVariant(None, 0))},
        reference="plain",
    )
    run_study(study, TINY, tmp_path, DATASET, progress=False, seeds=1)
    (_, _, plain), (_, _, shuffled) = trainings
    np.testing.assert_array_equal(shuffled.x_train, permute_pixels(plain.x_train, 0))
    np.testing.assert_array_equal(shuffled.x_test, permute_pixels(plain.x_test, 0))


def store_fake(tmp_path, study, accs):
    """Write fake records with chosen accuracies (arm -> per-seed list) and load them."""
    store = ResultsStore(tmp_path)
    seeds = tuple(range(len(next(iter(accs.values())))))
    for run in _plan(study, TINY, DATASET, seeds):
        store.save(run.inputs, fake_result(run.spec, run.config, run.seed, accs[run.arm][run.seed]))
    return load_study(study, TINY, store, DATASET, seeds)


THREE = Study(
    "three",
    "Which kernel?",
    "kernel size",
    arms={f"{k}x{k}": Arm(model=SMALL, blocks={"kernel_size": k}, value=k) for k in (3, 5, 7)},
    reference="3x3",
)


def test_table_differences_and_conclusion_by_hand(tmp_path):
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
    # 7x7 - 3x3: 0.01, 0.01, -0.02 -> mean 0, covers zero
    assert d.loc["7x7", "mean_difference"] == pytest.approx(0.0, abs=1e-12)
    assert d.loc["7x7", "verdict"] == "not distinguishable from 3x3 at 3 seeds"
    text = result.conclusion()
    # 5x5: mean 0.87, deviations -0.02, -0.01, 0.03 -> std sqrt(0.0014 / 2)
    half5 = 4.302653 * math.sqrt(0.0014 / 2) / math.sqrt(3)
    assert f"highest for 5x5 (87.00% ± {100 * half5:.2f})" in text and "6.57" in text
    assert "5x5 vs 3x3 +5.00 points [+2.52, +7.48]" in text
    assert "not distinguishable: 7x7 vs 3x3" in text
    frame = result.frame()
    assert len(frame) == 9 and set(frame["status"]) == {"stored"}
    assert len(result.curves()) == 9


def test_nothing_distinguishable_is_said_in_words(tmp_path):
    result = store_fake(
        tmp_path,
        THREE,
        {"3x3": [0.80, 0.82, 0.84], "5x5": [0.81, 0.82, 0.83], "7x7": [0.79, 0.84, 0.82]},
    )
    assert "no difference is distinguishable from seed-to-seed noise" in result.conclusion()


def test_shipped_studies_by_name(tmp_path):
    assert load_study("padding", TINY, tmp_path, DATASET).study.name == "padding"
    with pytest.raises(StudyError, match="Valid studies"):
        run_study("paddings", TINY, tmp_path, DATASET)


def test_load_study_lists_what_is_missing(tmp_path):
    empty = load_study(STUDY, TINY, tmp_path, DATASET)
    assert empty.missing == [("3x3", 0), ("5x5", 0), ("3x3", 1), ("5x5", 1)]
    assert empty.records == [] and "No results yet" in empty.conclusion()
    t = empty.table()
    assert list(t["n_seeds"]) == [0, 0] and t["mean_accuracy"].isna().all()
    assert t.loc["3x3", "params"] > 0  # from the spec, before any run


def test_train_one_keeps_a_usable_model(tmp_path):
    """Real training (tiny): the kept model predicts the same after a cache hit."""
    first = train_one(SMALL, DATASET, TINY, seed=0, store=tmp_path, keep_model=True)
    x = np.zeros((2, 28, 28, 1), np.float32)
    expected = first.model.predict(x, verbose=0)
    calls = []
    original = train_module.train
    try:
        train_module.train = lambda *a, **k: calls.append(1) or original(*a, **k)
        again = train_one(SMALL, DATASET, TINY, seed=0, store=tmp_path, keep_model=True)
        plain = train_one(SMALL, DATASET, TINY, seed=0, store=tmp_path)
    finally:
        train_module.train = original
    assert calls == []
    np.testing.assert_allclose(again.model.predict(x, verbose=0), expected, rtol=1e-6)
    assert again.to_dict() == first.to_dict() and plain.model is None


def test_study_and_arm_validation():
    with pytest.raises(StudyError, match="reference 'x' is not one of its arms"):
        Study("s", "?", "v", arms={"a": Arm()}, reference="x")
    with pytest.raises(StudyError, match="names no arm"):
        Study("s", "?", "v", arms={"a": Arm()}, reference="a", comparisons=(("a", "b"),))
    with pytest.raises(StudyError, match="no arms"):
        Study("s", "?", "v", arms={}, reference="a")
    with pytest.raises(StudyError, match="use a CNN"):
        resolve_spec(Arm(model=MLPSpec(), blocks={"kernel_size": 5}), DATASET)
    with pytest.raises(StudyError, match="Unknown model 'resnet'"):
        resolve_spec(Arm(model="resnet"), DATASET)
    deeper = resolve_spec(Arm(depth=3), DATASET)
    assert [b.filters for b in deeper.blocks] == [32, 64, 128]
    assert resolve_spec(Arm(width=0.25), DATASET).blocks[0].filters == 8
    assert isinstance(resolve_spec(Arm(model="baseline"), DATASET), MLPSpec)
    assert resolve_spec(Arm(), DATASET) == CNNSpec()
    assert resolve_spec(Arm(blocks={"pool": "avg"}), DATASET).blocks[1] == ConvBlock(64, pool="avg")


def test_describe_names_every_choice_that_differs():
    assert describe(reference("cnn")) == "conv 32-64, 3x3, same, max pool; dense 64"
    assert describe(reference("cifar-cnn")) == (
        "conv 32x2-64x2-128, 3x3, same, max pool, dropout 0.25; dense 256, dropout 0.5"
    )
    assert describe(reference("cifar-mlp")) == "MLP 512-256, dropout 0.2"
    mixed = CNNSpec(blocks=(ConvBlock(8, dropout=0.1), ConvBlock(16, kernel_size=5)), dense=())
    assert describe(mixed) == "conv 8-16, k 3/5, same, max pool, dropout 0.1/0.0"
