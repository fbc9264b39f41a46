"""The results of a study: its runs, and their summaries over seeds as numbers.

A :class:`StudyResult` holds every (arm, seed) :class:`Run` of a study with its result if
there is one, and summarises them: per-arm means with 95% intervals
(:meth:`~StudyResult.table`), paired differences (:meth:`~StudyResult.differences`), tidy
per-run rows and learning curves. Words and pictures of it are :mod:`convlab.views`'.

The intervals cover the seed *and* the test set: with the test labels and each run's
per-image predictions, an arm is an ``(seeds, images)`` matrix of right (1) and wrong (0),
and :func:`~convlab.experiments.intervals.crossed_interval` gives an interval over both
(for a paired difference, over the difference of the two arms' matrices, same seeds and
same images). Runs without predictions (records from before results version 3) get the
interval over seeds alone; the ``interval_over`` column says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convlab.data import dataset_info
from convlab.experiments.design import Study
from convlab.experiments.intervals import Estimate, crossed_interval
from convlab.experiments.profiles import Profile
from convlab.experiments.stats import Interval, mean_interval, paired_difference, verdict
from convlab.models import ModelSpec, count_params, describe, macs_per_image
from convlab.train import TrainConfig, TrainResult

__all__ = ["Run", "StudyResult"]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


@dataclass(frozen=True)
class Run:
    """One (arm, seed) of a study: what it ran with, and its result if there is one."""

    arm: str
    seed: int
    spec: ModelSpec
    config: TrainConfig
    inputs: dict
    key: str
    result: TrainResult | None = None
    status: str = "missing"  # "stored" (loaded), "trained" (this call) or "missing"


@dataclass(frozen=True)
class StudyResult:
    """The runs of a study and their summaries over seeds."""

    study: Study
    profile: Profile
    dataset: str
    runs: tuple[Run, ...]
    problems: tuple[str, ...] = ()  # unusable records that were reported (and retrained)
    unbuildable: Mapping[str, str] = field(default_factory=dict)  # arm -> why it has no runs
    # The test labels every run's test_predictions are scored against (one test set per
    # study); None: intervals over seeds alone.
    test_labels: Any = field(default=None, compare=False, repr=False)

    @property
    def records(self) -> list[TrainResult]:
        """The results of every finished run, arm by arm in study order, seeds ascending."""
        order = {a: i for i, a in enumerate(self.study.arms)}
        done = [r for r in self.runs if r.result is not None]
        done.sort(key=lambda r: (order[r.arm], r.seed))
        return [r.result for r in done]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted({r.seed for r in self.runs}))

    @property
    def missing(self) -> list[tuple[str, int]]:
        """(arm, seed) of the runs the store does not hold."""
        return [(r.arm, r.seed) for r in self.runs if r.result is None]

    @property
    def trained(self) -> int:
        """How many distinct runs this call trained."""
        return len({r.key for r in self.runs if r.status == "trained"})

    def accuracies(self, arm: str) -> dict[int, float]:
        """seed -> test accuracy of an arm's finished runs."""
        return {r.seed: r.result.test_accuracy for r in self.runs if r.arm == arm and r.result}

    def correct(self, arm: str) -> dict[int, np.ndarray] | None:
        """seed -> per test image 1 (right) or 0 (wrong), for an arm's finished runs; None
        without test labels or if a run kept no predictions."""
        if self.test_labels is None:
            return None
        labels = np.asarray(self.test_labels)
        out = {}
        for r in self.runs:
            if r.arm != arm or r.result is None:
                continue
            pred = r.result.test_predictions
            if len(pred) != len(labels):
                return None
            out[r.seed] = (np.asarray(pred) == labels).astype(np.float64)
        return out

    def interval_over(self, *arms: str) -> str:
        """What the intervals of these arms cover: ``"seeds and test images"`` or ``"seeds"``."""
        per_image = all(self.correct(a) is not None for a in arms)
        return "seeds and test images" if per_image else "seeds"

    def interval(self, arm: str, confidence: float = 0.95) -> Estimate | Interval:
        """Mean test accuracy of an arm over seeds, with its interval over seeds and test
        images (over seeds alone for runs without predictions)."""
        correct = self.correct(arm)
        if not correct:
            return mean_interval(self.accuracies(arm).values(), confidence)
        return crossed_interval(np.stack([correct[s] for s in sorted(correct)]), confidence)

    def difference(self, arm: str, other: str, confidence: float = 0.95) -> Estimate | Interval:
        """Mean paired test-accuracy difference ``arm - other`` (same seeds, same test
        images) with its interval over seeds and test images (seeds alone without
        predictions)."""
        a, b = self.correct(arm), self.correct(other)
        seeds = sorted(set(a) & set(b)) if a is not None and b is not None else []
        if not seeds:
            return paired_difference(self.accuracies(arm), self.accuracies(other), confidence)
        return crossed_interval(np.stack([a[s] - b[s] for s in seeds]), confidence)

    def frame(self):
        """One row per (arm, seed): tidy per-run measurements (NaN where missing)."""
        import pandas as pd

        rows = []
        for r in self.runs:
            res = r.result
            rows.append(
                {
                    "arm": r.arm,
                    "seed": r.seed,
                    "status": r.status,
                    "test_accuracy": res.test_accuracy if res else math.nan,
                    "test_loss": res.test_loss if res else math.nan,
                    "params": res.params if res else math.nan,
                    "macs_per_image": res.macs_per_image if res else math.nan,
                    "images_per_s": res.images_per_s if res else math.nan,
                    "wall_time_s": res.wall_time_s if res else math.nan,
                    "epochs_run": res.epochs_run if res else math.nan,
                    "key": r.key,
                }
            )
        return pd.DataFrame(rows)

    def curves(self):
        """One row per (arm, seed, epoch): the learning curves, tidy."""
        import pandas as pd

        rows = []
        for r in self.runs:
            if r.result is None:
                continue
            h = r.result.history
            for e in range(r.result.epochs_run):
                row = {"arm": r.arm, "seed": r.seed, "epoch": e + 1}
                row.update({k: v[e] for k, v in h.items()})
                rows.append(row)
        return pd.DataFrame(rows)

    def table(self):
        """One row per arm (index: arm label): seeds, mean, std and t interval of the test
        accuracy (fractions, not percent), parameters, multiply-adds per image, training
        throughput and wall time per run (means over seeds)."""
        import pandas as pd

        info = dataset_info(self.dataset)
        rows = []
        for label, arm in self.study.arms.items():
            if label in self.unbuildable:
                rows.append(self._unbuilt_row(label, arm))
                continue
            runs = [r for r in self.runs if r.arm == label]
            spec, done = runs[0].spec, [r.result for r in runs if r.result is not None]
            iv = self.interval(label)
            n_train = runs[0].inputs["data"]["train_size"]
            rows.append(
                {
                    "arm": label,
                    "value": arm.value if arm.value is not None else label,
                    "model": describe(spec),
                    "train_size": done[0].train_size if done else n_train,
                    "n_seeds": iv.n,
                    "mean_accuracy": iv.mean,
                    "std_accuracy": mean_interval(self.accuracies(label).values()).std,
                    "ci95_low": iv.low,
                    "ci95_high": iv.high,
                    "ci95_half_width": iv.half_width,
                    "interval_over": self.interval_over(label),
                    "mean_test_loss": _mean([d.test_loss for d in done]),
                    "params": count_params(spec, info.image_shape, len(info.class_names)),
                    "macs_per_image": macs_per_image(spec, info.image_shape, len(info.class_names)),
                    "images_per_s": _mean([d.images_per_s for d in done]),
                    "wall_time_s": _mean([d.wall_time_s for d in done]),
                }
            )
        return pd.DataFrame(rows).set_index("arm")

    def _why_unbuilt(self, *arms: str) -> str | None:
        for arm in arms:
            if arm in self.unbuildable:
                return f"{arm} {self.unbuildable[arm]}"
        return None

    def _unbuilt_row(self, label: str, arm) -> dict:
        row = {k: math.nan for k in self._NUMBERS}
        return {
            **row,
            "arm": label,
            "value": arm.value if arm.value is not None else label,
            "model": self.unbuildable[label],
            "train_size": math.nan,
            "n_seeds": 0,
            "interval_over": "",
        }

    _NUMBERS = (
        "mean_accuracy",
        "std_accuracy",
        "ci95_low",
        "ci95_high",
        "ci95_half_width",
        "mean_test_loss",
        "params",
        "macs_per_image",
        "images_per_s",
        "wall_time_s",
    )

    def differences(self):
        """Each compared arm minus its counterpart (the reference unless the study says),
        paired by seed and test image, with its interval, its two-sided p-value, whether
        the interval excludes zero (``distinguishable``, from the numbers) and the verdict
        in words."""
        import pandas as pd

        rows = []
        for arm, other in self.study.pairs():
            d = self.difference(arm, other)
            rows.append(
                {
                    "arm": arm,
                    "vs": other,
                    "n_pairs": d.n,
                    "mean_difference": d.mean,
                    "std_difference": paired_difference(
                        self.accuracies(arm), self.accuracies(other)
                    ).std,
                    "ci95_low": d.low,
                    "ci95_high": d.high,
                    "p_value": d.p_value,
                    "interval_over": self.interval_over(arm, other),
                    "distinguishable": d.distinguishable,
                    "verdict": self._why_unbuilt(arm, other) or verdict(d, other),
                }
            )
        return pd.DataFrame(rows).set_index("arm")
