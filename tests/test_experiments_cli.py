"""``convlab study list|run|show`` (training replaced by an instant fake; the engine and the
real runs are tested in test_experiments_runner and test_experiments_catalog)."""

import json
import zlib

import conftest
import pytest

from convlab import train as train_module
from convlab.cli import main
from convlab.experiments import RESULTS_VERSION, run_key


@pytest.fixture
def trainings(monkeypatch):
    calls = []

    def fake_train(spec, splits, config, seed=0, progress=True):
        calls.append((spec, seed))
        acc = 0.7 + (zlib.crc32(repr((spec, seed)).encode()) % 1000) / 5000
        return conftest.fake_result(
            spec, config, seed, acc, train_size=len(splits.x_train), images_per_s=150.0
        )

    monkeypatch.setattr(train_module, "train", fake_train)
    return calls


def test_list(capsys):
    assert main(["study", "list"]) == 0
    out = capsys.readouterr().out
    assert "kernel-size" in out and "3x3, 5x5, 7x7" in out and "data-efficiency" in out


def test_wrong_names_list_the_valid_ones(capsys, tmp_path):
    assert main(["study", "run", "kernel", "--results", str(tmp_path)]) == 2
    assert "Valid studies: mlp-vs-cnn, kernel-size" in capsys.readouterr().err
    assert main(["study", "show", "depth", "--profile", "fast"]) == 2
    assert "Valid profiles: smoke, quick, full" in capsys.readouterr().err
    assert main(["study", "run", "depth", "--seeds", "0", "--results", str(tmp_path)]) == 2
    assert main(["study"]) == 2  # no action: help


def test_show_then_run_then_show(capsys, tmp_path, trainings):
    common = ["--profile", "smoke", "--results", str(tmp_path), "--dataset", "fashion-mnist"]
    assert main(["study", "show", "kernel-size", *common]) == 0
    out = capsys.readouterr().out
    assert "missing 6 of 6 runs: 3x3 (seeds 0, 1); 5x5 (seeds 0, 1); 7x7 (seeds 0, 1)" in out
    assert "convlab study run kernel-size --profile smoke" in out
    assert trainings == []  # show never trains

    assert main(["study", "run", "kernel-size", "--quiet", "--seeds", "3", *common]) == 0
    out = capsys.readouterr().out
    assert len(trainings) == 9
    assert "Fashion-MNIST, profile smoke (1 epoch, seeds 0, 1, 2)" in out
    for header in ("arm", "accuracy", "params", "MACs/img", "img/s", "verdict"):
        assert header in out
    assert "220,234" in out and "4,039,808" in out  # the reference CNN's counts
    assert "5x5 - 3x3" in out and "mean test accuracy over 3 seeds" in out.lower()

    assert main(["study", "show", "kernel-size", "--seeds", "3", *common]) == 0
    out = capsys.readouterr().out
    assert "missing" not in out and len(trainings) == 9


def test_show_says_when_records_are_from_an_older_results_version(capsys, tmp_path, trainings):
    common = ["--profile", "smoke", "--results", str(tmp_path), "--dataset", "fashion-mnist"]
    assert main(["study", "run", "padding", "--quiet", *common]) == 0
    for path in tmp_path.rglob("*.json"):  # as if RESULTS_VERSION had been bumped since
        record = json.loads(path.read_text())
        record["inputs"]["results_version"] = RESULTS_VERSION - 1
        record["key"] = run_key(record["inputs"])
        path.rename(path.with_name(record["key"] + ".json")).write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["study", "show", "padding", *common]) == 0
    out = capsys.readouterr().out
    assert "missing 4 of 4 runs" in out
    assert (
        f"4 of them have records computed with results version {RESULTS_VERSION - 1} "
        f"(now {RESULTS_VERSION}); such results do not count here." in out
    )
