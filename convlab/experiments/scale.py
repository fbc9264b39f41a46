"""Scaling a profile out: the book's workload, how many runs share a GPU, projected times.

:func:`workload` counts what a profile asks of every shipped study together (each distinct
run once, as the store trains it). :func:`~convlab.experiments.executors.runs_per_gpu` (here
too) is the cost model's choice of runs that share one GPU: as many as its memory and the
CPU cores that feed the runs allow, at most ``MAX_RUNS_PER_GPU``, because a small CNN at
batch 128 leaves a large GPU mostly idle, and several processes fill it where one cannot.
:func:`cost_rate` fits the cost
model (:func:`~convlab.experiments.runner.run_cost`) to measured runs, and
:func:`projected_seconds` turns a workload and a rate into wall time on N workers.

Example:
    >>> runs_per_gpu(gpu_memory_gib=80, cpu_cores=16)
    8
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from convlab.data import dataset_info
from convlab.experiments.catalog import STUDIES
from convlab.experiments.executors import MAX_RUNS_PER_GPU, RUN_MEMORY_GIB, runs_per_gpu
from convlab.experiments.profiles import Profile, get_profile
from convlab.experiments.results import Run
from convlab.experiments.runner import plan, run_cost

__all__ = [
    "MAX_RUNS_PER_GPU",
    "RUN_MEMORY_GIB",
    "Workload",
    "cost_rate",
    "projected_seconds",
    "runs_per_gpu",
    "workload",
]


@dataclass(frozen=True)
class Workload:
    """What a profile trains for every shipped study: distinct runs, image passes, cost."""

    profile: str
    dataset: str
    runs: tuple[Run, ...]
    training_images: int  # images through a training step, summed over runs and epochs
    cost: float  # sum of run_cost: the ETA's units

    @property
    def count(self) -> int:
        return len(self.runs)


def workload(profile: str | Profile | None = None, dataset: str = "fashion-mnist") -> Workload:
    """Every distinct run of the shipped studies in a profile (a run two studies share,
    once), with its training images and cost."""
    profile = get_profile(profile)
    info, runs = dataset_info(dataset), {}
    for study in STUDIES.values():
        for run in plan(study, profile, info.name, profile.seed_list(study.seeds)):
            runs.setdefault(run.key, run)
    images = 0
    for run in runs.values():
        d = run.inputs["data"]
        images += run.config.epochs * (d["train_size"] or info.train_size - d["val_size"])
    cost = sum(run_cost(r, info.name) for r in runs.values())
    return Workload(profile.name, info.name, tuple(runs.values()), images, cost)


def cost_rate(measured: Iterable[tuple[Run, float]], dataset: str) -> float:
    """Cost units per second of one worker, fitted to (run, wall seconds) measurements:
    total cost over total time, so long runs weigh by their length."""
    pairs = list(measured)
    seconds = sum(s for _, s in pairs)
    if not pairs or seconds <= 0:
        raise ValueError("cost_rate needs at least one run with a positive wall time.")
    return sum(run_cost(r, dataset) for r, _ in pairs) / seconds


def projected_seconds(load: Workload, rate: float, workers: int = 1) -> float:
    """Wall time of a workload on ``workers`` runs at once, each at ``rate`` cost units/s
    (the runs spread evenly: a lower bound when few long runs dominate)."""
    if rate <= 0 or workers < 1:
        raise ValueError("rate must be positive and workers at least 1.")
    longest = max((run_cost(r, load.dataset) for r in load.runs), default=0.0)
    return max(load.cost / (rate * workers), longest / rate)
