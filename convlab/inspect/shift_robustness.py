"""Shift robustness of a study's arms: how much test accuracy each loses on shifted images.

Pooling is often said to make a CNN's prediction shift-invariant. That is a claim about a
difference between architectures, so it is measured like every other one in this book:
on the runs of a controlled study (for pooling, the ``downsampling`` study, whose arms
differ only in how the feature maps shrink), every seed's model is tested on the test
images shifted by ``k`` pixels (right, left, down and up, averaged per image), and the
*retained accuracy* ``accuracy(shifted) - accuracy(original)`` is compared between arms,
paired by seed and test image, with the same interval over seeds and images as a
study's accuracies (:func:`~convlab.experiments.intervals.crossed_interval`).

Example:
    >>> study = run_study(get_study("downsampling"), keep_models=True)  # doctest: +SKIP
    >>> robust = shift_robustness(study, x_test, y_test, shifts=(2,))  # doctest: +SKIP
    >>> robust.difference("max pool", "none", shift=2).points()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from convlab.experiments.intervals import Estimate, crossed_interval
from convlab.experiments.results import StudyResult
from convlab.inspect._common import InspectError
from convlab.inspect.errors import predict_classes
from convlab.inspect.translation import directions, shift_images
from convlab.views.numbers import interval, percent, points

__all__ = ["ShiftRobustness", "shift_robustness"]


@dataclass(frozen=True)
class ShiftRobustness:
    """Per (arm, seed): 1/0 per test image unshifted, and the share of the four shifted
    copies classified right, for each shift."""

    study: str
    shifts: tuple[int, ...]
    original: dict[str, dict[int, np.ndarray]]  # arm -> seed -> (N,) 0/1
    shifted: dict[str, dict[int, dict[int, np.ndarray]]]  # arm -> shift -> seed -> (N,)

    def _retained(self, arm: str, shift: int) -> dict[int, np.ndarray]:
        if arm not in self.original:
            raise InspectError(
                f"No arm {arm!r} was measured; measured: {', '.join(self.original)}."
            )
        if shift not in self.shifts:
            raise InspectError(f"Shift {shift} was not measured; measured: {self.shifts}.")
        return {s: self.shifted[arm][shift][s] - self.original[arm][s] for s in self.original[arm]}

    def retained(self, arm: str, shift: int) -> Estimate:
        """Mean ``accuracy(shifted by shift) - accuracy(original)`` of an arm (negative: a
        loss), with its interval over seeds and test images."""
        r = self._retained(arm, shift)
        return crossed_interval(np.stack([r[s] for s in sorted(r)]))

    def difference(self, arm: str, other: str, shift: int) -> Estimate:
        """Retained accuracy of ``arm`` minus that of ``other`` (positive: ``arm`` loses
        less to the shift), paired by seed and test image."""
        a, b = self._retained(arm, shift), self._retained(other, shift)
        seeds = sorted(set(a) & set(b))
        if not seeds:
            raise InspectError(f"Arms {arm!r} and {other!r} share no seed.")
        return crossed_interval(np.stack([a[s] - b[s] for s in seeds]))

    def table(self):
        """One row per (arm, shift), as read on a page: test accuracy unshifted and
        shifted (in %), and the retained accuracy in points with its 95 % interval over
        seeds and test images."""
        import pandas as pd

        rows = []
        for arm, per_seed in self.original.items():
            base = float(np.mean([v.mean() for v in per_seed.values()]))
            for k in self.shifts:
                est = self.retained(arm, k)
                shifted = float(np.mean([v.mean() for v in self.shifted[arm][k].values()]))
                rows.append(
                    {
                        "arm": arm,
                        "shift (pixels)": k,
                        "seeds": len(per_seed),
                        "accuracy %": percent(base),
                        "shifted accuracy %": percent(shifted),
                        "retained (points)": points(est.mean),
                        "95% CI": interval(est.low, est.high, signed=True),
                    }
                )
        return pd.DataFrame(rows).set_index("arm")

    def reading(self, arm: str, other: str, shift: int) -> str:
        """One sentence on whether ``arm`` tolerates a shift better than ``other``,
        claiming no more than the paired interval does."""
        d = self.difference(arm, other, shift)
        a, b = self.retained(arm, shift), self.retained(other, shift)
        said = (
            f"Shifted by {shift} pixels, {arm} changes its test accuracy by {points(a.mean)} "
            f"points and {other} by {points(b.mean)}; paired by seed and image, {arm} minus "
            f"{other} is {points(d.mean)} points {interval(d.low, d.high, signed=True)}"
        )
        if d.seeds < 2:
            return f"{said}: one seed, so no interval and no conclusion."
        if d.low > 0:
            return f"{said}: {arm} tolerates the shift distinguishably better."
        if d.high < 0:
            return f"{said}: {arm} tolerates the shift distinguishably worse."
        return f"{said}: the interval covers zero, so this study cannot tell them apart."


def _arm_models(result: StudyResult, arm: str) -> dict[int, object]:
    models = {r.seed: r.result.model for r in result.runs if r.arm == arm and r.result}
    if not models or any(m is None for m in models.values()):
        raise InspectError(
            f"Arm {arm!r} of study {result.study.name!r} has no trained models: run the study "
            "with run_study(..., keep_models=True)."
        )
    return models


def shift_robustness(
    result: StudyResult,
    x: np.ndarray,
    y: np.ndarray,
    shifts: Iterable[int] = (2,),
    arms: Sequence[str] | None = None,
) -> ShiftRobustness:
    """Test every seed's model of each arm on ``x`` shifted by each ``k`` in ``shifts``.

    Args:
        result: a study run with ``keep_models=True`` (its runs hold their models).
        x, y: the study's test images (model-ready) and labels.
        shifts: distances in pixels (> 0), each evaluated right, left, down and up.
        arms: the arms to measure (default: all that were trained).
    """
    y = np.asarray(y).reshape(-1)
    shifts = tuple(int(k) for k in shifts)
    if not shifts or any(k <= 0 for k in shifts):
        raise InspectError(f"shifts are distances in pixels and must be > 0, got {shifts}.")
    if len(x) != len(y):
        raise InspectError(f"{len(x)} images but {len(y)} labels.")
    arms = list(arms) if arms is not None else list(dict.fromkeys(r.arm for r in result.runs))
    original, shifted = {}, {}
    for arm in arms:
        models = _arm_models(result, arm)
        original[arm] = {s: (predict_classes(m, x) == y).astype(float) for s, m in models.items()}
        shifted[arm] = {
            k: {
                s: np.mean(
                    [predict_classes(m, shift_images(x, dx, dy)) == y for dx, dy in directions(k)],
                    axis=0,
                )
                for s, m in models.items()
            }
            for k in shifts
        }
    return ShiftRobustness(result.study.name, shifts, original, shifted)
