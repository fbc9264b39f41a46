"""The results of a study: its runs, and their summaries over seeds as numbers.

A :class:`StudyResult` holds every (arm, seed) :class:`Run` of a study with its result if
there is one, and summarises them: per-arm means with 95% t intervals over seeds
(:meth:`~StudyResult.table`), paired differences (:meth:`~StudyResult.differences`), tidy
per-run rows and learning curves. Words and pictures of it are :mod:`convlab.views`'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from convlab.data import dataset_info
from convlab.experiments.design import Study
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

    def interval(self, arm: str, confidence: float = 0.95) -> Interval:
        """Mean test accuracy of an arm over seeds, with its t interval."""
        return mean_interval(self.accuracies(arm).values(), confidence)

    def difference(self, arm: str, other: str, confidence: float = 0.95) -> Interval:
        """Mean paired (by seed) test-accuracy difference ``arm - other`` with its interval."""
        return paired_difference(self.accuracies(arm), self.accuracies(other), confidence)

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
                    "std_accuracy": iv.std,
                    "ci95_low": iv.low,
                    "ci95_high": iv.high,
                    "ci95_half_width": iv.half_width,
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
        paired by seed, with its t interval, whether it excludes zero (``distinguishable``,
        from the numbers) and the verdict in words."""
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
                    "std_difference": d.std,
                    "ci95_low": d.low,
                    "ci95_high": d.high,
                    "distinguishable": d.distinguishable,
                    "verdict": self._why_unbuilt(arm, other) or verdict(d, other),
                }
            )
        return pd.DataFrame(rows).set_index("arm")
