"""Executors: serial and Ray give the same records; a killed worker loses only its run; a run
that raises is reported with its arm and seed while the others finish; concurrent writers
of one record never corrupt it; without Ray, asking for it says how to install it."""

import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import zlib

import conftest
import pytest

from convlab import train as train_module
from convlab.experiments import (
    ExecutorError,
    RayExecutor,
    ResultsStore,
    RunsFailed,
    Serial,
    get_executor,
    get_profile,
    get_study,
    plan,
    run_study,
)
from convlab.experiments import executors as executors_module
from convlab.experiments.runner import _train_missing

try:
    import ray
except ImportError:
    ray = None
NEEDS_RAY = pytest.mark.skipif(
    ray is None, reason='Ray is not installed (the optional extra: pip install "convlab[ray]")'
)
DATASET = "fashion-mnist"
TIMING_FIELDS = ("wall_time_s", "images_per_s")  # how long, not what was computed


def records(root) -> dict[str, dict]:
    """key -> record result without its timings, for every record under root."""
    out = {}
    for path in sorted(root.rglob("*.json")):
        result = json.loads(path.read_text())["result"]
        out[path.stem] = {k: v for k, v in result.items() if k not in TIMING_FIELDS}
    return out


def smoke_depth_runs():
    return plan(get_study("depth"), get_profile("smoke"), DATASET, (0, 1))


# -- without Ray -------------------------------------------------------------------------


def test_executor_names(monkeypatch):
    monkeypatch.delenv("CONVLAB_EXECUTOR", raising=False)
    assert isinstance(get_executor(), Serial)
    monkeypatch.setenv("CONVLAB_EXECUTOR", "serial")
    assert isinstance(get_executor(), Serial)
    with pytest.raises(ExecutorError, match="choose one of serial, ray"):
        get_executor("dask")
    monkeypatch.setenv("CONVLAB_EXECUTOR", "threads")
    with pytest.raises(ExecutorError, match="'threads'.*CONVLAB_EXECUTOR"):
        get_executor()
    with pytest.raises(ExecutorError):
        RayExecutor(cpus_per_run=0)


def test_asking_for_ray_without_it_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ExecutorError, match=r'pip install "convlab\[ray\]"'):
        get_executor("ray")
    from convlab.cli import main

    code = main(["study", "run", "depth", "--profile", "smoke", "--executor", "ray",
                 "--results", str(tmp_path)])  # fmt: skip
    assert code == 2 and not list(tmp_path.rglob("*.json"))  # nothing trained


def test_serial_reports_a_failing_run_and_finishes_the_others(tmp_path, monkeypatch):
    runs = smoke_depth_runs()
    failing = [r for r in runs if r.arm == "2 blocks" and r.seed == 1]
    assert len(failing) == 1, [r.arm for r in runs]

    def fake_train(spec, splits, config, seed=0, progress=True):
        if spec == failing[0].spec and seed == 1:
            raise FloatingPointError("loss is NaN")
        acc = 0.5 + (zlib.crc32(repr((spec, seed)).encode()) % 1000) / 4000
        return conftest.fake_result(spec, config, seed, acc, train_size=len(splits.x_train))

    monkeypatch.setattr(train_module, "train", fake_train)
    with pytest.raises(RunsFailed) as info:
        run_study(get_study("depth"), "smoke", tmp_path, DATASET, progress=False)
    message = str(info.value)
    assert f"{failing[0].arm}, seed 1: FloatingPointError: loss is NaN" in message
    assert "retry only these" in message and len(info.value.failures) == 1
    assert len(records(tmp_path)) == len(runs) - 1  # every other run is stored
    calls = []
    monkeypatch.setattr(
        train_module,
        "train",
        lambda spec, splits, config, seed=0, progress=True: (
            calls.append(seed)
            or conftest.fake_result(spec, config, seed, 0.5, train_size=len(splits.x_train))
        ),
    )
    again = run_study(get_study("depth"), "smoke", tmp_path, DATASET, progress=False)
    assert calls == [1] and again.trained == 1 and not again.missing  # only the failed run


def _write_many(root: str, inputs: dict, accs: list[float]) -> None:
    store = ResultsStore(root)
    spec, config = smoke_depth_runs()[0].spec, smoke_depth_runs()[0].config
    for acc in accs:
        store.save(inputs, conftest.fake_result(spec, config, 0, acc, train_size=300))


def test_concurrent_writers_of_one_record_leave_one_valid_record(tmp_path):
    """Four processes write the same run 25 times each while this one reads it."""
    run = smoke_depth_runs()[0]
    ctx = multiprocessing.get_context("spawn")
    writers = [
        ctx.Process(target=_write_many, args=(str(tmp_path), run.inputs, [0.1 * w] * 25))
        for w in range(1, 5)
    ]
    for w in writers:
        w.start()
    store, seen = ResultsStore(tmp_path), set()
    while any(w.is_alive() for w in writers):
        result = store.load(run.inputs)
        if result is not None:
            seen.add(round(result.test_accuracy, 6))
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert store.problems == []  # no read ever saw a partial or corrupt record
    assert seen <= {0.1, 0.2, 0.3, 0.4} and store.load(run.inputs) is not None
    assert [p.name for p in store.path(run.inputs).parent.iterdir()] == [
        store.path(run.inputs).name
    ]  # no temporary file left behind


def test_a_worker_that_cannot_see_the_store_is_named(tmp_path):
    (tmp_path / ".convlab-workers").mkdir()
    (tmp_path / ".convlab-workers" / "abc").write_text("abc")
    assert executors_module._probe_store(str(tmp_path), "abc") is None
    problem = executors_module._probe_store(str(tmp_path / "elsewhere"), "abc")
    assert "cannot read and write" in problem and "elsewhere" in problem


# -- on a local Ray with 2 workers -------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    executor = RayExecutor(workers=2)
    executor.start()
    yield executor
    ray.shutdown()


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convlab", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
    )


@NEEDS_RAY
def test_a_study_on_ray_equals_the_serial_one(tmp_path):
    """The issue's command, against the same study run serially. Both use one thread per run:
    the thread count changes float rounding (test loss in the 5th digit), not the keys."""
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    one_thread = {"TF_NUM_INTRAOP_THREADS": "1"}
    done = cli("study", "run", "depth", "--profile", "smoke", "--quiet", "--results",
               str(serial), env=one_thread)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    done = cli("study", "run", "depth", "--profile", "smoke", "--executor", "ray",
               "--workers", "2", "--results", str(on_ray))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "6/6 runs done on ray" in done.stderr  # the progress bar counts every worker's runs
    a, b = records(serial), records(on_ray)
    assert len(a) == 6 and sorted(a) == sorted(b)
    for key in a:
        assert a[key] == b[key], key  # identical metrics, history, predictions


def _ray_task_pids() -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "ray::_train_remote" in line]


@NEEDS_RAY
def test_a_killed_worker_loses_only_its_run(tmp_path, local_ray):
    study, outcome = get_study("depth"), {}

    def go():
        try:
            outcome["result"] = run_study(
                study, "smoke", tmp_path, DATASET, False, executor=local_ray
            )
        except Exception as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    deadline, killed = time.monotonic() + 300, None
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        pids = _ray_task_pids()
        if pids:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    thread.join(600)
    assert killed is not None, "no Ray worker was seen training"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.trained == 6 and not result.missing
    assert len(records(tmp_path)) == 6 and not list(tmp_path.rglob("*.tmp"))
    reloaded = run_study(study, "smoke", tmp_path, DATASET, False, executor=local_ray)
    assert reloaded.trained == 0


@NEEDS_RAY
def test_a_run_that_raises_on_ray_is_named_and_the_others_finish(tmp_path, local_ray):
    runs = smoke_depth_runs()
    bad = dataclasses.replace(runs[2], config=dataclasses.replace(runs[2].config, epochs=0))
    runs[2] = bad
    with pytest.raises(RunsFailed) as info:
        _train_missing(runs, ResultsStore(tmp_path), False, local_ray, "depth", DATASET, False)
    assert len(info.value.failures) == 1
    assert f"{bad.arm}, seed {bad.seed}: TrainError: epochs and batch_size" in str(info.value)
    assert len(records(tmp_path)) == 5


@NEEDS_RAY
def test_every_worker_sees_the_store(tmp_path, local_ray):
    local_ray.check_store(ResultsStore(tmp_path))  # raises ExecutorError otherwise
    assert list((tmp_path / ".convlab-workers").iterdir()) == []
