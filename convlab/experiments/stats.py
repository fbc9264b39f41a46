"""Small-sample statistics for seeds: mean, standard deviation, t intervals, paired differences.

Student's t quantiles come from the regularised incomplete beta function (a continued
fraction, as in Numerical Recipes), so no SciPy is needed; the tests check them against
the printed table (``t_quantile(0.975, 4) == 2.776...``).

Example:
    >>> iv = mean_interval([0.90, 0.91, 0.92])
    >>> round(iv.mean, 3), round(iv.half_width, 4)
    (0.91, 0.0248)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from convlab.views.numbers import interval, points

__all__ = ["Interval", "mean_interval", "paired_difference", "t_cdf", "t_quantile", "verdict"]


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for aa in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast only on one side of the mean of Beta(a, b).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (e.g. ``t_quantile(0.975, 4)`` = 2.776)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):  # bisection: monotone, and plenty precise after ~60 halvings
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


class Bounds:
    """``low``, ``high`` and ``covers_zero`` of anything with ``mean`` and ``half_width``."""

    mean: float
    half_width: float
    confidence: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def covers_zero(self) -> bool:
        return not (self.low > 0 or self.high < 0)

    def points(self) -> str:
        """A difference of accuracies in percentage points with its interval, for prose:
        ``"+3.67 points, 95% CI [+1.84, +5.49]"``."""
        ci = interval(self.low, self.high, signed=True)
        return f"{points(self.mean)} points, {self.confidence:.0%} CI {ci}"


@dataclass(frozen=True)
class Interval(Bounds):
    """A mean over seeds with its sample standard deviation and t confidence interval.

    With one value, ``std`` and the interval are NaN: one seed says nothing about noise.
    """

    n: int
    mean: float
    std: float  # sample standard deviation (n - 1 in the denominator)
    half_width: float  # t_{(1+confidence)/2, n-1} * std / sqrt(n)
    confidence: float = 0.95

    @property
    def distinguishable(self) -> bool:
        """Whether the interval tells the difference from zero: two values at least and
        an interval that excludes zero."""
        return self.n >= 2 and not self.covers_zero

    @property
    def p_value(self) -> float:
        """Two-sided p-value of "the mean is 0" (t test, n - 1 df); NaN below two values."""
        if self.n < 2 or math.isnan(self.std):
            return math.nan
        if self.std == 0:
            return 1.0 if self.mean == 0 else 0.0
        return 2.0 * (1.0 - t_cdf(abs(self.mean) / (self.std / math.sqrt(self.n)), self.n - 1))


def mean_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Mean, sample standard deviation and the t interval of the mean."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        nan = float("nan")
        return Interval(0, nan, nan, nan, confidence)
    mean = math.fsum(xs) / n
    if n < 2:
        return Interval(1, mean, float("nan"), float("nan"), confidence)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * std / math.sqrt(n)
    return Interval(n, mean, std, half, confidence)


def paired_difference(
    a: Mapping[int, float], b: Mapping[int, float], confidence: float = 0.95
) -> Interval:
    """The mean of ``a[seed] - b[seed]`` over the seeds both have, with its t interval.

    Pairing by seed: every arm of a study trains with the same seeds on the same data
    slices and is tested on the same test images, so whatever a seed shares across arms
    (the shuffling order, the test images' difficulty) cancels in the difference; the
    paired interval never assumes the arms' noise is independent, as Welch's would.
    """
    seeds = sorted(set(a) & set(b))
    return mean_interval([a[s] - b[s] for s in seeds], confidence)


def verdict(diff: Interval, other: str) -> str:
    """The difference to ``other`` in words, honest about what the seeds can tell apart."""
    if diff.n < 2:
        return f"one seed: cannot be told apart from {other}" if diff.n else "no common seeds"
    if not diff.distinguishable:
        return f"not distinguishable from {other} at {diff.n} seeds"
    return f"{'better' if diff.mean > 0 else 'worse'} than {other} at {diff.n} seeds"
