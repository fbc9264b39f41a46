"""The runner: cache hit and miss, shared runs, resume after a kill, corrupt records,
train_one with kept models, and a run retrained in a fresh process equals its record."""

import dataclasses
import json
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
    ResultsStore,
    StoreWarning,
    Study,
    StudyError,
    get_study,
    load_study,
    plan,
    run_cost,
    run_study,
    train_one,
)
from convlab.variants import DataVariant, permute_pixels

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


def test_the_runner_takes_a_study_and_the_catalog_resolves_names(tmp_path):
    assert load_study(get_study("padding"), TINY, tmp_path, DATASET).study.name == "padding"
    with pytest.raises(StudyError, match="Valid studies"):
        get_study("paddings")
    with pytest.raises(StudyError, match="Expected a Study.*get_study"):
        run_study("padding", TINY, tmp_path, DATASET)


def test_load_study_lists_what_is_missing(tmp_path):
    empty = load_study(STUDY, TINY, tmp_path, DATASET)
    assert empty.missing == [("3x3", 0), ("5x5", 0), ("3x3", 1), ("5x5", 1)]
    assert empty.records == []
    t = empty.table()
    assert list(t["n_seeds"]) == [0, 0] and t["mean_accuracy"].isna().all()
    assert t.loc["3x3", "params"] > 0  # from the spec, before any run


def test_plan_is_seeds_outer_with_one_key_per_configuration():
    runs = plan(STUDY, TINY, DATASET, (0, 1))
    assert [(r.arm, r.seed) for r in runs] == [("3x3", 0), ("5x5", 0), ("3x3", 1), ("5x5", 1)]
    assert len({r.key for r in runs}) == 4 and all(r.status == "missing" for r in runs)
    # The cost model: a 5x5 kernel costs more than a 3x3 one, more epochs cost more.
    assert run_cost(runs[1], DATASET) > run_cost(runs[0], DATASET)
    longer = plan(STUDY, dataclasses.replace(TINY, epochs=3), DATASET, (0,))
    assert run_cost(longer[0], DATASET) > run_cost(runs[0], DATASET)


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


def test_keep_models_returns_models_and_retrains_runs_stored_without_one(tmp_path):
    """Real training (tiny): a study stored without models is trained once more with them,
    then loaded with them; without keep_models nothing is trained again."""
    study = Study(
        name="one-arm", question="?", variable="v", arms={"a": Arm(model=SMALL)}, reference="a"
    )
    plain = run_study(study, TINY, tmp_path, DATASET, progress=False, seeds=1)
    assert plain.trained == 1
    kept = run_study(study, TINY, tmp_path, DATASET, progress=False, seeds=1, keep_models=True)
    assert kept.trained == 1 and kept.runs[0].result.model is not None
    again = run_study(study, TINY, tmp_path, DATASET, progress=False, seeds=1, keep_models=True)
    assert again.trained == 0 and again.runs[0].result.model is not None
    x = np.zeros((2, 28, 28, 1), np.float32)
    np.testing.assert_allclose(
        again.runs[0].result.model.predict(x, verbose=0),
        kept.runs[0].result.model.predict(x, verbose=0),
        rtol=1e-6,
    )
    assert run_study(study, TINY, tmp_path, DATASET, progress=False, seeds=1).trained == 0


FRESH_PROCESS = (
    DEFINITIONS
    + """
import json, sys
from convlab.experiments import train_one
r = train_one(SMALL, "fashion-mnist", TINY, seed=1, store=sys.argv[1])
print(json.dumps(r.to_dict()))
"""
)


def test_a_run_retrained_in_a_fresh_process_equals_its_stored_record(tmp_path):
    """Real training (tiny): determinism across processes, not only within one."""
    first = train_one(SMALL, DATASET, TINY, seed=1, store=tmp_path / "a")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(tmp_path / "b")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    again = train_module.TrainResult.from_dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    for field in ("test_accuracy", "test_loss", "history", "confusion", "best_epoch"):
        assert getattr(again, field) == getattr(first, field), field
