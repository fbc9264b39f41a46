"""Device check: several training runs on one GPU at once, and the full book it projects.

    KERAS_BACKEND=jax python -m benchmarks.gpu_runs              # on a GPU machine, < 8 min
    python -m benchmarks.gpu_runs --smoke                        # the plumbing, on any CPU

For each number of runs at once (1, 2, 4, 8 by default) it starts that many processes,
each training the reference CNN of the full profile (batch 128, cosine schedule, float32)
for two epochs on 54,000 images of Fashion-MNIST's shape. Pixels are random: throughput does
not depend on them, and the machine needs no dataset. JAX runs without preallocation
(TensorFlow with memory growth), so the runs share the device. It prints, per setting,
each run's training images/s and the GPU's total, and the full profile's projected wall time
(every shipped study, :func:`convlab.experiments.scale.workload`) at the cost rate measured
(the cost model carries the reference CNN's rate to the other arms); and writes
``benchmarks/results/gpu.json``. No accuracy is measured: the pixels are noise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
SHARING_ENV = {
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def worker(images: int, epochs: int, seed: int) -> dict:
    """One run: the full profile's reference CNN on random images; its timings as a dict."""
    import keras
    import numpy as np

    from convlab.experiments import get_profile
    from convlab.hardware import gpu_available
    from convlab.models import reference, reference_models
    from convlab.preprocess import Splits
    from convlab.train import train

    rng = np.random.default_rng(seed)

    def part(n):
        return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n, np.int32)

    (xt, yt), (xv, yv), (xs, ys) = part(images), part(1000), part(1000)
    splits = Splits(xt, yt, xv, yv, xs, ys, tuple(str(i) for i in range(10)))
    config = get_profile("full").train_config(epochs=epochs, precision="float32")
    spec = reference(reference_models("fashion-mnist")[1])
    result = train(spec, splits, config, seed=seed, progress=False)
    peak = None
    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
    return {
        "backend": keras.backend.backend(),
        "gpu": gpu_available(),
        "images_per_s": result.images_per_s,  # steady state: epochs after the first
        "wall_time_s": result.wall_time_s,  # fit, compilation included
        "peak_memory_bytes": peak,
    }


def measure(at_once: int, images: int, epochs: int) -> dict:
    """Start ``at_once`` workers together; their results and the wall time of the round."""
    env = {**os.environ, **SHARING_ENV}
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.gpu_runs",
                "--worker",
                str(images),
                str(epochs),
                str(seed),
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(at_once)
    ]
    runs = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a worker failed:\n{err[-2000:]}")
        runs.append(json.loads(out.strip().splitlines()[-1]))
    total = sum(r["images_per_s"] for r in runs)
    return {
        "runs_at_once": at_once,
        "round_s": time.perf_counter() - t0,
        "per_run_images_per_s": [round(r["images_per_s"]) for r in runs],
        "total_images_per_s": total,
        "mean_fit_s": sum(r["wall_time_s"] for r in runs) / at_once,
        "peak_memory_bytes": max((r["peak_memory_bytes"] or 0) for r in runs) or None,
        "backend": runs[0]["backend"],
        "gpu": runs[0]["gpu"],
    }


def project(rows: list[dict], images: int, epochs: int) -> dict:
    """The full profile's wall time at the best measured setting (cost model)."""
    from convlab.experiments import get_profile, get_study, plan, run_cost
    from convlab.experiments.scale import projected_seconds, workload

    full = workload("full")
    runs = plan(get_study("mlp-vs-cnn"), get_profile("full"), "fashion-mnist", (0,))
    cnn = next(r for r in runs if r.arm == "CNN")  # the reference CNN, 54,000 images, 20 epochs
    cost = run_cost(cnn, "fashion-mnist") * images * epochs / (54000 * 20)
    best = max(rows, key=lambda r: r["runs_at_once"] / r["mean_fit_s"])  # runs finished per s
    rate = cost / best["mean_fit_s"]  # cost units per second of one of its runs
    seconds = projected_seconds(full, rate, best["runs_at_once"])
    return {
        "full_profile_runs": full.count,
        "full_profile_training_images": full.training_images,
        "best_runs_at_once": best["runs_at_once"],
        "projected_full_profile_s": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", nargs=3, type=int, metavar=("IMAGES", "EPOCHS", "SEED"),
                   help=argparse.SUPPRESS)  # fmt: skip
    p.add_argument("--at-once", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--images", type=int, default=54000)
    p.add_argument("--epochs", type=int, default=2, help="at least 2: the first compiles")
    p.add_argument("--smoke", action="store_true", help="600 images, 1 and 2 at once")
    p.add_argument("--out", default=str(RESULTS / "gpu.json"))
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    if args.smoke:
        args.at_once, args.images = [1, 2], 600
    from convlab.hardware import machine_description

    rows = []
    for k in args.at_once:
        rows.append(measure(k, args.images, args.epochs))
        r = rows[-1]
        print(f"{k} at once: {r['total_images_per_s']:,.0f} img/s in all, per run "
              f"{r['per_run_images_per_s']}, round {r['round_s']:.0f} s", flush=True)  # fmt: skip
    out = {
        "measured": {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "where": machine_description(),
            "how": f"python -m benchmarks.gpu_runs {' '.join(argv or sys.argv[1:])}".strip(),
        },
        "images": args.images,
        "epochs": args.epochs,
        "rows": rows,
        **project(rows, args.images, args.epochs),
    }
    minutes, k = out["projected_full_profile_s"] / 60, out["best_runs_at_once"]
    runs = out["full_profile_runs"]
    print(f"full profile ({runs} runs): projected {minutes:.1f} min, {k} runs at once")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
