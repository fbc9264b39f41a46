"""The results store: stable keys, atomic records, corrupt records reported, models kept."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from convlab.experiments.profiles import PROFILES
from convlab.experiments.store import (
    ResultsStore,
    StoreWarning,
    code_hash,
    git_revision,
    run_inputs,
    run_key,
    source_hash,
)
from convlab.experiments.variants import DataVariant, data_slice
from convlab.models import CNNSpec, ConvBlock, build
from convlab.train import TrainResult

SPEC = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
SMOKE = PROFILES["smoke"]


def inputs(seed=0, **changes):
    config = SMOKE.train_config(**changes)
    return run_inputs(SPEC, config, seed, "fashion-mnist", data_slice(SMOKE), "smoke")


def fake(seed=0, acc=0.5, model=None):
    return TrainResult(
        spec=SPEC,
        config=SMOKE.train_config(),
        seed=seed,
        class_names=("a", "b"),
        history={"loss": [1.0], "accuracy": [acc], "val_loss": [1.0], "val_accuracy": [acc]},
        best_epoch=1,
        test_loss=0.7,
        test_accuracy=acc,
        per_class_accuracy=(acc, acc),
        confusion=((1, 1), (1, 1)),
        params=10,
        macs_per_image=20,
        train_size=300,
        wall_time_s=1.0,
        images_per_s=300.0,
        backend="tensorflow",
        versions={"numpy": "x"},
        model=model,
    )


KEY_SCRIPT = """
import json, sys
from convlab.experiments.profiles import PROFILES
from convlab.experiments.store import run_inputs, run_key
from convlab.experiments.variants import data_slice
from convlab.models import CNNSpec, ConvBlock
p = PROFILES["smoke"]
spec = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
print(run_key(run_inputs(spec, p.train_config(), 0, "fashion-mnist", data_slice(p), "smoke")))
"""


def test_key_is_stable_across_processes():
    keys = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        keys.add(out.stdout.strip())
    assert keys == {run_key(inputs())}
    assert len(run_key(inputs())) == 64


def test_key_changes_with_every_input():
    base = run_key(inputs())
    assert run_key(inputs(seed=1)) != base
    assert run_key(inputs(learning_rate=5e-4)) != base
    other_data = run_inputs(
        SPEC,
        SMOKE.train_config(),
        0,
        "fashion-mnist",
        data_slice(SMOKE, DataVariant(permutation_seed=0)),
        "smoke",
    )
    assert run_key(other_data) != base
    assert run_key({**inputs(), "profile": "quick"}) != base
    assert run_key({**inputs(), "code": "0" * 64}) != base
    # key order does not matter: the JSON is sorted
    assert run_key(dict(reversed(list(inputs().items())))) == base


def test_provenance_helpers():
    assert len(code_hash()) == 64 and len(source_hash()) == 64
    assert code_hash() != source_hash()
    rev = git_revision()
    assert rev is None or len(rev) == 40


def test_save_then_load_round_trip(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.load(inputs()) is None
    path = store.save(inputs(), fake(acc=0.75))
    assert path == tmp_path / "smoke" / "fashion-mnist" / f"{run_key(inputs())}.json"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left
    loaded = store.load(inputs())
    assert loaded.to_dict() == fake(acc=0.75).to_dict()
    record = json.loads(path.read_text())
    assert record["inputs"] == inputs()
    assert {"git_revision", "convlab_source_hash", "code_hash", "backend", "versions"} <= set(
        record["provenance"]
    )
    assert [r["key"] for r in store.records()] == [run_key(inputs())]
    assert store.problems == []


@pytest.mark.parametrize(
    "garbage",
    ["", "{not json", '{"key": "abc"}', "null", "[1, 2]"],
    ids=["empty", "truncated", "partial", "null", "list"],
)
def test_corrupt_record_is_reported_not_fatal(tmp_path, garbage):
    store = ResultsStore(tmp_path)
    path = store.save(inputs(), fake())
    path.write_text(garbage)
    with pytest.warns(StoreWarning, match="will be retrained"):
        assert store.load(inputs()) is None
    assert len(store.problems) == 1 and str(path) in store.problems[0]
    store.save(inputs(), fake(acc=0.6))  # a retrain overwrites it
    assert store.load(inputs()).test_accuracy == 0.6


def test_record_under_the_wrong_key_is_rejected(tmp_path):
    store = ResultsStore(tmp_path)
    a, b = inputs(seed=0), inputs(seed=1)
    store.save(a, fake(seed=0))
    store.path(a).rename(store.path(b))  # e.g. copied by hand
    with pytest.warns(StoreWarning, match="key does not match"):
        assert store.load(b) is None


def test_kept_model_round_trip(tmp_path):
    store = ResultsStore(tmp_path)
    model = build(SPEC, (28, 28, 1), 10)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    store.save(inputs(), fake(model=model), with_model=True)
    assert store.model_path(inputs()).exists()
    loaded = store.load(inputs(), with_model=True)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), model.predict(x, verbose=0))
    assert store.load(inputs()).model is None  # only loaded when asked for
    # A record without its model counts as missing when the model is wanted ...
    store.model_path(inputs()).unlink()
    assert store.load(inputs(), with_model=True) is None
    # ... and a corrupt model file is reported.
    store.model_path(inputs()).write_bytes(b"not a zip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.load(inputs(), with_model=True) is None
    assert any(issubclass(w.category, StoreWarning) for w in caught)
    with pytest.raises(ValueError, match="holds its model"):
        store.save(inputs(), fake(), with_model=True)


def test_default_root_follows_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVLAB_RESULTS_DIR", str(tmp_path / "r"))
    assert ResultsStore().root == tmp_path / "r"
