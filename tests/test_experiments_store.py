"""The results store: stable keys, atomic records, corrupt records reported, models kept,
stale records explained."""

import json
import subprocess
import warnings
from pathlib import Path

import conftest
import numpy as np
import pytest

from convlab.experiments.keys import RESULTS_VERSION, run_inputs, run_key
from convlab.experiments.profiles import PROFILES
from convlab.experiments.store import ResultsStore, StoreWarning, git_revision, source_fingerprint
from convlab.models import CNNSpec, ConvBlock, build
from convlab.variants import data_slice

SPEC = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
SMOKE = PROFILES["smoke"]


def inputs(seed=0, **changes):
    config = SMOKE.train_config(**changes)
    return run_inputs(SPEC, config, seed, "fashion-mnist", data_slice(SMOKE), "smoke")


def fake(seed=0, acc=0.5, model=None):
    return conftest.fake_result(
        SPEC,
        SMOKE.train_config(),
        seed,
        acc,
        test_loss=0.7,
        confusion=((1, 1), (1, 1)),
        train_size=300,
        wall_time_s=1.0,
        images_per_s=300.0,
        versions={"numpy": "x"},
        model=model,
    )


def test_provenance_helpers():
    assert len(source_fingerprint()) == 64
    rev = git_revision()
    expected = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
    )
    assert rev == (expected.stdout.strip() if expected.returncode == 0 else None)


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
    assert {"git_revision", "source_fingerprint", "results_fingerprint", "backend"} <= set(
        record["provenance"]
    )
    assert "code" not in record["inputs"]  # the source is provenance, not part of the key
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


def test_stale_records_of_the_same_run_are_explained(tmp_path):
    store = ResultsStore(tmp_path)
    now = inputs()
    old = {k: v for k, v in now.items() if k not in ("results_version", "platform")}
    store.save({**old, "schema": 1, "code": "f" * 64}, fake())  # a record from before v2
    jax = {**inputs(seed=1), "platform": {**now["platform"], "keras_backend": "jax"}}
    store.save(jax, fake(seed=1))
    stale = store.stale([now, inputs(seed=1), inputs(seed=2)])
    assert stale == {
        run_key(now): f"results version 1 (now {RESULTS_VERSION})",
        run_key(inputs(seed=1)): f"keras_backend jax (now {now['platform']['keras_backend']})",
    }
    assert store.load(now) is None  # neither counts as a result
    store.save(now, fake())
    assert run_key(now) not in store.stale([now])  # a run that exists is not stale
