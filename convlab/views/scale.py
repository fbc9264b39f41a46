"""The plan for many runs at once: the full profile's workload on one GPU and on several."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["GPU_SETUPS", "GPUSetup", "device_check", "device_check_text", "gpu_plan_table"]

# Where the device check writes what it measured (benchmarks/gpu_runs.py).
DEVICE_CHECK = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "gpu.json"
TARGET_S = 15 * 60  # the goal: the full book within 15 minutes


@dataclass(frozen=True)
class GPUSetup:
    """A machine to plan for: its GPUs, the memory of each, and its CPU cores."""

    name: str
    gpus: int
    gpu_memory_gib: float
    cpu_cores: int


GPU_SETUPS = (
    GPUSetup("1 H100 (80 GB), 16 cores", 1, 80, 16),
    GPUSetup("1 H200 (141 GB), 16 cores", 1, 141, 16),
    GPUSetup("4 H100, 64 cores", 4, 80, 64),
    GPUSetup("8 H100, 128 cores", 8, 80, 128),
)


def gpu_plan_table(profile: str = "full", setups=GPU_SETUPS) -> pd.DataFrame:
    """Per setup: runs per GPU (the cost model's pick), runs at once, and the training
    images per second each run must sustain for the profile to finish in 15 minutes."""
    from convlab.experiments.scale import runs_per_gpu, workload

    load = workload(profile)
    rows = []
    for s in setups:
        k = runs_per_gpu(s.gpu_memory_gib, s.cpu_cores, s.gpus)
        at_once = min(k * s.gpus, load.count)
        rows.append(
            {
                "machine": s.name,
                "runs per GPU": k,
                "runs at once": at_once,
                "Ray setting": f"--gpus-per-run {1 / k:.3g}",
                "images/s per run for 15 min": f"{load.training_images / TARGET_S / at_once:,.0f}",
            }
        )
    return pd.DataFrame(rows).set_index("machine")


def device_check(path: Path = DEVICE_CHECK) -> dict | None:
    """What benchmarks/gpu_runs.py measured on a GPU (``None`` if it never ran on one)."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    return record if record["rows"] and record["rows"][0].get("gpu") else None


def device_check_text(record: dict | None):
    """The device check's result in a sentence, labelled with when and where it ran."""
    from IPython.display import Markdown

    if record is None:
        return Markdown(
            "*Not yet measured on a GPU:* `benchmarks/results/gpu.json` holds no GPU run of "
            "the device check, so the plan above is the cost model's alone."
        )
    m, best = record["measured"], record["best_runs_at_once"]
    rows = "; ".join(
        f"{r['runs_at_once']} at once: {r['total_images_per_s']:,.0f} images/s in all"
        for r in record["rows"]
    )
    return Markdown(
        f"*Measured {m['when']} on {m['where']}* (`{m['how']}`): {rows}. At {best} runs at "
        f"once the full profile's {record['full_profile_runs']} runs are projected to take "
        f"{record['projected_full_profile_s'] / 60:.0f} minutes on that GPU."
    )
