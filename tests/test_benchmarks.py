"""The benchmark harness' own logic, on the smoke profile (real training, tiny slices)."""

import pytest

from benchmarks.accuracy import accuracy, accuracy_markdown
from benchmarks.matmul import flops_per_image, gflops
from benchmarks.run import add_fractions, throughput_markdown


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def test_best_study_arm_is_chosen_on_validation_not_test(store):
    r = accuracy(
        seeds=2, dataset="fashion-mnist", profile="smoke", studies=("augmentation",), progress=False
    )
    assert [x["role"] for x in r["rows"]] == ["MLP", "CNN"]
    assert all(x["seeds"] == 2 and x["train_size"] == 300 for x in r["rows"])
    # Complete studies in the store: mlp-vs-cnn and augmentation; their CNN arms, the
    # reference CNN counted once (it is an arm of both).
    arms = {(c["study"], c["arm"]): c for c in r["candidates"]}
    assert set(arms) == {
        ("mlp-vs-cnn", "CNN"),
        ("augmentation", "shift 1 px"),
        ("augmentation", "shift 2 px"),
        ("augmentation", "flip"),
        ("augmentation", "flip + shift 2 px"),
    }
    best = r["best_study_arm"]
    assert best["val_mean"] == max(c["val_mean"] for c in r["candidates"])
    # The CNN row: the best on validation of the arms with the reference architecture
    # (all five here: augmentation changes the training, not the model).
    cnn = r["rows"][1]
    assert cnn["val_mean"] == best["val_mean"] and cnn["spec"] == arms["mlp-vs-cnn", "CNN"]["spec"]
    assert arms["augmentation", "shift 1 px"]["training"] == "augment_shift=1"
    assert arms["augmentation", "flip"]["training"] == "augment_flip=True"
    assert arms["mlp-vs-cnn", "CNN"]["training"] == "-"
    text = accuracy_markdown(r)
    assert f"{best['study']} / {best['arm']}" in text and "validation" in text
    assert text.count("| MLP |") == 1 and ("(met)" in text or "(missed)" in text)


def test_throughput_table_and_flop_count():
    assert flops_per_image(4_039_808) == 24_238_848  # 2 FLOPs per MAC, backward = 2x forward
    assert gflops(lambda a, b: a @ b, n=64, repeats=2) > 0
    result = {
        "model": "cnn",
        "train_flops_per_image": 24_238_848,
        "matmul": {
            "numpy_gflops": 150.0,
            "tensorflow_gflops": 100.0,
            "gflops": 150.0,
            "bfloat16_gflops": 450.0,
        },
        "limit_images_per_s": 6188.4,
        "bfloat16_limit_images_per_s": 18565.2,
        "rows": [
            {
                "backend": "jax",
                "batch_size": 128,
                "compiled": False,
                "images_per_s": 400.0,
                "epochs_images_per_s": [390.0, 400.0, 451.0],
                "fraction_of_limit": 0.065,
            },
            {
                "backend": "torch",
                "batch_size": 64,
                "compiled": True,
                "images_per_s": 1000.0,
                "fraction_of_limit": 0.162,
            },
        ],
        "tensorflow_options": [
            {
                "setting": "Keras' own (NumPy arrays), 16 steps per call",
                "images_per_s": 1600.0,
                "epochs_images_per_s": [1000.0, 1600.0, 1700.0],
                "fraction_of_limit": 0.259,
            }
        ],
        "tensorflow_onednn_default": False,
        "backends_not_installed": ["tensorflow"],
    }
    text = throughput_markdown(result)
    assert "| jax | 128 | eager | 400 | 390 - 451 | 6% |" in text
    assert "| torch | 64 | torch.compile | 1,000 | 1,000 - 1,000 | 16% |" in text  # no spread
    assert "| Keras' own (NumPy arrays), 16 steps per call | 1,600 | 1,000 - 1,700 | 26% |" in text
    assert "(best of numpy 150.0, tensorflow 100.0) = 6,188 images/s" in text
    assert "bfloat16 matmul: 450.0 GFLOP/s = 18,565 images/s" in text
    assert "Not installed here: tensorflow" in text
    assert "oneDNN kernels are off by default on this CPU" in text


def test_each_row_is_measured_against_the_limit_of_its_precision():
    rows = [{"images_per_s": 500.0}, {"images_per_s": 1500.0, "precision": "mixed_bfloat16"}]
    add_fractions(rows, limit_ips=1000.0, bfloat16_limit_ips=3000.0)
    assert [r["fraction_of_limit"] for r in rows] == [0.5, 0.5]


def test_the_gpu_device_check_runs_its_plumbing_on_a_cpu(tmp_path):
    """benchmarks.gpu_runs --smoke: 1 and 2 runs at once, each a real (tiny) training run."""
    import json
    import subprocess
    import sys

    from conftest import REPO

    out = tmp_path / "gpu.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_runs", "--smoke", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [r["runs_at_once"] for r in result["rows"]] == [1, 2]
    assert all(len(r["per_run_images_per_s"]) == r["runs_at_once"] for r in result["rows"])
    assert all(r["total_images_per_s"] > 0 for r in result["rows"])
    assert result["full_profile_runs"] > 100 and result["projected_full_profile_s"] > 0
    assert "projected" in proc.stdout and result["measured"]["where"]
