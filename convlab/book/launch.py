"""A chapter opened outside a book build (Colab, Binder, a local Jupyter): say which profile,
device and backend it will use and how long its training will take there, before it starts.

Colab hands a GPU to many sessions, and with a GPU the default profile is ``full``: hours of
training for the experiments chapter. So a launched chapter's first cell calls
:func:`plan_chapter`, which, unless the reader has set ``CONVLAB_PROFILE``, picks the largest
profile whose training finishes within :data:`BUDGET_MINUTES` here, and sets it for the rest
of the chapter. The time comes from the cost model (:func:`~convlab.experiments.run_cost`)
calibrated on this machine by a probe: the reference CNN trained for two epochs on random
images of the dataset's shape (a few seconds on a laptop CPU), which gives the machine's
steady speed and its fixed cost per run. Runs already in the results store cost nothing. In a
book build (``CONVLAB_BOOK_INFO`` set) the build has chosen; the cell does nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from convlab import settings
from convlab.data import dataset_info
from convlab.experiments import STUDIES, ResultsStore, get_profile, get_study, plan
from convlab.experiments.results import Run

__all__ = [
    "BUDGET_MINUTES",
    "CHAPTER_STUDIES",
    "LaunchPlan",
    "Probe",
    "choose_profile",
    "chapter_runs",
    "plan_chapter",
    "probe",
]

BUDGET_MINUTES = 10.0
CANDIDATES = ("full", "quick", "smoke")  # largest first; the reference regime is not offered
ALL = ("*",)
# The studies each chapter trains (ALL: every shipped study); a test reads the chapters'
# sources and checks this against their get_study(...) calls. "study:0" is seed 0 of its
# arms: a chapter that trains the reference models on their own (train_one) shares those
# runs with mlp-vs-cnn's seed 0.
CHAPTER_STUDIES: dict[str, tuple[str, ...]] = {
    "index": ALL,
    "why-convolution": (),
    "convolution-formula": ("mlp-vs-cnn:0",),
    "data": (),
    "mlp-baseline": ("mlp-vs-cnn",),
    "cnn": ("mlp-vs-cnn",),
    "experiments": ALL,
    "interpretation": ("augmentation", "downsampling", "locality", "mlp-vs-cnn:0"),
    "deployment": ("mlp-vs-cnn:0",),
    "rebuild": (),
    "build-report": (),
}


@dataclass(frozen=True)
class Probe:
    """This machine's speed: multiply-adds per second in steady training (the cost model's
    units) and the fixed seconds each run costs (start-up, compilation, evaluation)."""

    units_per_s: float
    seconds_per_run: float

    def seconds(self, runs: Sequence[Run], dataset: str) -> float:
        from convlab.experiments import run_cost
        from convlab.experiments.runner import RUN_OVERHEAD  # replaced by the measured one

        variable = sum(run_cost(r, dataset) - RUN_OVERHEAD for r in runs)
        return variable / self.units_per_s + self.seconds_per_run * len(runs)


@dataclass(frozen=True)
class LaunchPlan:
    chapter: str
    profile: str
    chosen_by: str  # "CONVLAB_PROFILE" or "budget"
    device: str
    backend: str
    seconds: dict  # profile -> estimated training seconds here (runs not yet stored)
    runs: dict  # profile -> runs still to train

    def _markdown(self) -> str:
        p = get_profile(self.profile)
        minutes = _duration(self.seconds[self.profile])
        runs = self.runs[self.profile]
        what = (
            f"trains {runs} run{'s' if runs != 1 else ''} here, about {minutes}"
            if runs
            else "has nothing to train here"
        )
        size = f"{p.train_size:,}" if p.train_size else "all"
        head = (
            f"**This chapter uses the `{p.name}` profile** ({size} training images, "
            f"{p.epochs} epoch{'s' if p.epochs != 1 else ''}, {p.seeds} seeds) on "
            f"{self.device}, Keras backend `{self.backend}`, and {what}."
        )
        others = ", ".join(
            f"`{name}` about {_duration(s)}" for name, s in self.seconds.items() if name != p.name
        )
        why = (
            "You chose it with `CONVLAB_PROFILE`."
            if self.chosen_by == "CONVLAB_PROFILE"
            else f"It is the largest profile that trains within {BUDGET_MINUTES:.0f} minutes here."
        )
        smoke = (
            " Its numbers check that the code runs, not what convolution does."
            if p.name == "smoke"
            else ""
        )
        return (
            f"{head} {why}{smoke} Estimated by the cost model, calibrated by a short run on "
            f"this machine; the other profiles: {others}. To choose, run "
            "`%env CONVLAB_PROFILE=quick` (or `smoke`, `full`) and run this cell again."
        )

    def _repr_markdown_(self) -> str:
        return self._markdown()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def chapter_runs(chapter: str, profile, dataset: str) -> list[Run]:
    """The distinct runs a chapter trains in a profile (see :data:`CHAPTER_STUDIES`)."""
    if chapter not in CHAPTER_STUDIES:
        raise ValueError(f"Unknown chapter {chapter!r}: one of {', '.join(CHAPTER_STUDIES)}.")
    profile = get_profile(profile)
    names = CHAPTER_STUDIES[chapter]
    names = tuple(STUDIES) if names == ALL else names
    runs: dict[str, Run] = {}
    for entry in names:
        name, _, seed = entry.partition(":")
        study = get_study(name)
        seeds = (int(seed),) if seed else profile.seed_list(study.seeds)
        for run in plan(study, profile, dataset, seeds):
            runs.setdefault(run.key, run)
    return list(runs.values())


def probe(dataset: str) -> Probe:
    """Train the reference CNN for 2 epochs on random images (1,024 of the dataset's shape):
    the steady speed from the second epoch, the fixed cost from the rest of the time."""
    import numpy as np

    from convlab.models import macs_per_image, reference, reference_models
    from convlab.preprocess import Splits
    from convlab.train import train

    info = dataset_info(dataset)
    rng = np.random.default_rng(0)
    n, k = 1024, len(info.class_names)

    def part(count):
        x = rng.random((count, *info.image_shape), dtype=np.float32)
        return x, rng.integers(0, k, count).astype(np.int32)

    (xt, yt), (xv, yv), (xs, ys) = part(n), part(256), part(256)
    splits = Splits(xt, yt, xv, yv, xs, ys, tuple(info.class_names))
    spec = reference(reference_models(info.name)[1])
    config = get_profile("quick").train_config(epochs=2)
    start = time.perf_counter()
    result = train(spec, splits, config, seed=0, progress=False)
    wall = time.perf_counter() - start
    # The cost model's units in one steady epoch (3 passes a training image, 1 a validation
    # image), over that epoch's time; whatever else the run took is its fixed cost.
    units = (macs_per_image(spec, info.image_shape, k) + 3e6) * (3 * n + 256)
    epoch_s = n / result.images_per_s
    return Probe(units / epoch_s, max(wall - 2 * epoch_s, 0.0))


def choose_profile(seconds: dict, budget_s: float) -> str:
    """The largest candidate profile whose training fits the budget (else the smallest)."""
    for name in CANDIDATES:
        if seconds[name] <= budget_s:
            return name
    return CANDIDATES[-1]


def _device() -> str:
    from convlab.hardware import gpu_available, machine_description

    return "a GPU" if gpu_available() else f"the CPU ({machine_description()})"


_chosen_here: dict[str, str] = {}  # the profile this kernel's last plan set, if it chose


def plan_chapter(chapter: str, budget_minutes: float = BUDGET_MINUTES) -> LaunchPlan | None:
    """Outside a build: choose and set the chapter's profile, and say what it will cost.

    Returns a plan that shows itself as a sentence in a notebook; ``None`` in a book build.
    """
    if os.environ.get("CONVLAB_BOOK_INFO"):
        return None
    import keras

    dataset = settings.dataset()
    store = ResultsStore()
    runs = {
        name: [r for r in chapter_runs(chapter, name, dataset) if not store.path(r.inputs).exists()]
        for name in CANDIDATES
    }
    speed = probe(dataset) if any(runs.values()) else Probe(1.0, 0.0)
    seconds = {name: speed.seconds(rs, dataset) for name, rs in runs.items()}
    chosen, by = os.environ.get("CONVLAB_PROFILE"), "CONVLAB_PROFILE"
    if not chosen or chosen == _chosen_here.get("profile"):  # not the reader's: choose again
        chosen, by = choose_profile(seconds, budget_minutes * 60), "budget"
        os.environ["CONVLAB_PROFILE"] = _chosen_here["profile"] = chosen
    if chosen not in seconds:  # e.g. the reference regime, chosen by the reader
        extra = [
            r for r in chapter_runs(chapter, chosen, dataset) if not store.path(r.inputs).exists()
        ]
        runs[chosen], seconds[chosen] = extra, speed.seconds(extra, dataset)
    counts = {name: len(rs) for name, rs in runs.items()}
    return LaunchPlan(chapter, chosen, by, _device(), keras.backend.backend(), seconds, counts)
