"""Intervals that cover both sources of noise in a test accuracy: the seed and the test set.

A study's arm is trained with ``S`` seeds and tested on the same ``N`` test images, so its
per-example results form an ``S x N`` matrix ``x[s, i]`` (1 if seed ``s``'s model got image
``i`` right; for a paired difference of two arms, the difference of their matrices). Its
mean estimates the accuracy one would expect from a new seed on new images drawn like the
test set. Seeds and images are *crossed* random effects (every seed sees every image), so

    x[s, i] = mu + a[s] + b[i] + e[s, i]
    Var(mean) = var(a) / S + var(b) / N + var(e) / (S N),

and the two-way ANOVA mean squares estimate it: ``(MS_seed + MS_image - MS_residual) /
(S N)``, with the images' component ``MS_image - MS_residual`` truncated at zero (so never below
the seed means' own spread, ``MS_seed / (S N)``; zero only if every seed's mean is the
same, and then nothing is called distinguishable). The interval is a t interval on that
standard error with Satterthwaite's degrees of freedom (few when the seeds dominate, many
when the images do). It does not cover what every run shares: the training subset and its
split seed, the architecture's other choices, the hardware's arithmetic.

Coverage, measured on simulated studies whose truth is known (``tests/
test_experiments_intervals.py``, 1,000 studies each, 10,000 images): paired differences
of two arms at 3 seeds 93 %, at 5 seeds 95 %, accuracies at 5 seeds 93 %; accuracies at 3
seeds 92 %, because then the seeds' mean square has 2 degrees of freedom and
Satterthwaite's approximation is known to be a little liberal with so few. A paired
difference at 2 seeds on 500 images (a smoke study) 95 %, where the untruncated sum of
mean squares gave 90 %.

:func:`holm` adjusts the p-values of many comparisons (Holm's step-down method), so that
the chance of calling any true null difference "distinguishable" stays below 5 %.

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 2, size=(3, 1000))
    >>> est = crossed_interval(x)
    >>> round(est.mean, 3), est.seeds, est.images
    (0.499, 3, 1000)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convlab.experiments.stats import Bounds, t_cdf, t_quantile

__all__ = ["Estimate", "crossed_interval", "holm"]


@dataclass(frozen=True)
class Estimate(Bounds):
    """A mean over seeds and test images with its standard error and t interval."""

    mean: float
    se: float  # standard error of the mean over seeds and images (NaN with one seed)
    df: float  # Satterthwaite degrees of freedom
    seeds: int
    images: int
    confidence: float = 0.95

    @property
    def n(self) -> int:
        """The number of seeds (as :attr:`Interval.n <convlab.experiments.stats.Interval.n>`)."""
        return self.seeds

    @property
    def half_width(self) -> float:
        if not (self.se >= 0 and self.df > 0):
            return math.nan
        return t_quantile(0.5 + self.confidence / 2, self.df) * self.se

    @property
    def p_value(self) -> float:
        """Two-sided p-value of "the mean is 0" (for differences); NaN with one seed, or
        when nothing varied (then there is no noise to test against)."""
        if not (self.se > 0 and self.df > 0):
            return math.nan
        return 2.0 * (1.0 - t_cdf(abs(self.mean) / self.se, self.df))

    @property
    def distinguishable(self) -> bool:
        """Whether the interval excludes zero (two seeds at least, and some spread)."""
        return self.seeds >= 2 and self.se > 0 and not (self.low <= 0 <= self.high)


def crossed_interval(x, confidence: float = 0.95) -> Estimate:
    """The mean of an ``(S seeds, N images)`` matrix and its interval over seeds and images.

    Args:
        x: per-example results, e.g. correct (1) / wrong (0), or the difference of two
            arms' matrices for a paired comparison (same seeds, same images).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 1:
        raise ValueError(f"Need a (seeds, images) matrix with 2+ images, got shape {x.shape}.")
    s, n = x.shape
    grand = float(x.mean())
    if s < 2:
        return Estimate(grand, math.nan, math.nan, s, n, confidence)
    seed_means, image_means = x.mean(axis=1), x.mean(axis=0)
    ms_seed = n * float(np.sum((seed_means - grand) ** 2)) / (s - 1)
    ms_image = s * float(np.sum((image_means - grand) ** 2)) / (n - 1)
    residual = x - seed_means[:, None] - image_means[None, :] + grand
    ms_res = float(np.sum(residual**2)) / ((s - 1) * (n - 1))
    # MS_seed / N estimates var(a) + var(e) / N, the seed means' own variance; the images
    # add S var(b) = MS_image - MS_res, truncated at zero. The unbiased sum MS_seed +
    # MS_image - MS_res can fall below MS_seed, or below zero, when the image component
    # is small (a paired difference, where both arms miss mostly the same images); never
    # claiming less than the seeds' spread keeps such an interval from collapsing.
    # (Truncating MS_seed at MS_res as well, var(a) >= 0, covers 97-100 %: too wide.)
    c_image = float(ms_image > ms_res)
    combined = ms_seed + c_image * (ms_image - ms_res)
    se = math.sqrt(combined / (s * n))
    terms = (
        ms_seed**2 / (s - 1)
        + (c_image * ms_image) ** 2 / (n - 1)
        + (c_image * ms_res) ** 2 / ((s - 1) * (n - 1))
    )
    df = combined**2 / terms if terms > 0 else math.inf
    return Estimate(grand, se, max(df, 1.0), s, n, confidence)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input's order (NaN stays NaN and is not counted)."""
    indexed = [(p, i) for i, p in enumerate(p_values) if not math.isnan(p)]
    indexed.sort()
    m = len(indexed)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
