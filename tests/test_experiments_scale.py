"""The scale-out plan: runs per GPU, a profile's workload, the fitted rate, projections."""

import pytest

from convlab.experiments import STUDIES, get_profile, get_study, plan, run_cost
from convlab.experiments.executors import MAX_RUNS_PER_GPU, runs_per_gpu
from convlab.experiments.scale import cost_rate, projected_seconds, workload
from convlab.views.scale import GPUSetup, device_check, device_check_text, gpu_plan_table


def test_runs_per_gpu_is_bounded_by_memory_cores_and_the_cap():
    assert runs_per_gpu(80, 16) == MAX_RUNS_PER_GPU  # an H100 runner: the cap
    assert runs_per_gpu(8, 64) == 3  # 0.9 * 8 GB / 2 GB per run
    assert runs_per_gpu(80, 5) == 4  # 4 cores feed runs, one is kept
    assert runs_per_gpu(80, 17, gpus=4) == 4  # 16 cores over 4 GPUs
    assert runs_per_gpu(1, 1) == 1  # never zero
    with pytest.raises(ValueError):
        runs_per_gpu(0, 16)


def test_the_workload_counts_each_distinct_run_once():
    load = workload("smoke")
    keys = [r.key for r in load.runs]
    assert len(keys) == len(set(keys)) == load.count
    # mlp-vs-cnn's CNN is also the reference arm of other studies: counted once.
    cnn = next(r for r in plan(get_study("mlp-vs-cnn"), get_profile("smoke"), "fashion-mnist",
                               (0,)) if r.arm == "CNN")  # fmt: skip
    assert keys.count(cnn.key) == 1
    smoke = get_profile("smoke")
    every = sum(len(plan(s, smoke, "fashion-mnist", (0, 1))) for s in STUDIES.values())
    assert load.count < every
    assert load.training_images == sum(r.config.epochs * 300 for r in load.runs)
    assert workload("full").training_images > 100 * load.training_images


def test_projection_at_the_fitted_rate_reproduces_the_measured_time():
    load = workload("smoke")
    runs = load.runs[:4]
    seconds = [10.0, 20.0, 30.0, 40.0]
    rate = cost_rate(zip(runs, seconds, strict=True), "fashion-mnist")
    assert rate == pytest.approx(sum(run_cost(r, "fashion-mnist") for r in runs) / 100)
    one = projected_seconds(load, rate)
    assert one == pytest.approx(load.cost / rate)
    assert projected_seconds(load, rate, workers=4) == pytest.approx(one / 4)
    # Never faster than its longest run.
    longest = max(run_cost(r, "fashion-mnist") for r in load.runs) / rate
    assert projected_seconds(load, rate, workers=10**6) == pytest.approx(longest)
    with pytest.raises(ValueError):
        cost_rate([], "fashion-mnist")


def test_the_gpu_plan_table_and_an_unmeasured_device_check(tmp_path):
    table = gpu_plan_table("smoke", (GPUSetup("one", 1, 80, 16), GPUSetup("tiny", 1, 4, 16)))
    assert list(table["runs per GPU"]) == [8, 1]
    assert table.loc["tiny", "Ray setting"] == "--gpus-per-run 1"
    assert device_check(tmp_path / "none.json") is None
    assert "Not yet measured on a GPU" in device_check_text(None).data
