"""Statistics over seeds: t quantiles against the printed table, intervals by hand."""

import math

import pytest

from convlab.experiments.stats import (
    mean_interval,
    paired_difference,
    t_cdf,
    t_quantile,
    verdict,
)

# Two-sided 95% and 99% critical values from the standard t table.
TABLE = {
    1: (12.706, 63.657),
    2: (4.303, 9.925),
    4: (2.776, 4.604),
    10: (2.228, 3.169),
    30: (2.042, 2.750),
}


@pytest.mark.parametrize("df", sorted(TABLE))
def test_t_quantiles_match_the_table(df):
    q95, q99 = TABLE[df]
    assert t_quantile(0.975, df) == pytest.approx(q95, abs=5e-4)
    assert t_quantile(0.995, df) == pytest.approx(q99, abs=5e-4)
    assert t_quantile(0.025, df) == pytest.approx(-q95, abs=5e-4)


def test_t_cdf_properties():
    assert t_cdf(0.0, 3) == pytest.approx(0.5)
    assert t_cdf(2.776445, 4) == pytest.approx(0.975, abs=1e-6)
    assert t_cdf(-1.3, 7) == pytest.approx(1 - t_cdf(1.3, 7))
    # df = 1 is the Cauchy distribution: CDF = 1/2 + atan(t)/pi.
    assert t_cdf(0.7, 1) == pytest.approx(0.5 + math.atan(0.7) / math.pi, abs=1e-12)
    # Large df approaches the normal: Phi(1.96) = 0.9750021.
    assert t_cdf(1.96, 1e6) == pytest.approx(0.9750021, abs=1e-5)


def test_mean_interval_by_hand():
    iv = mean_interval([0.80, 0.82, 0.84, 0.86, 0.88])
    # deviations -0.04 -0.02 0 0.02 0.04: sum of squares 0.004, / 4 = 0.001
    assert iv.n == 5 and iv.mean == pytest.approx(0.84)
    assert iv.std == pytest.approx(math.sqrt(0.001))
    half = 2.776445 * math.sqrt(0.001) / math.sqrt(5)  # t(0.975, 4) = 2.776
    assert iv.half_width == pytest.approx(half, rel=1e-6)
    assert (iv.low, iv.high) == pytest.approx((0.84 - half, 0.84 + half))
    assert not iv.covers_zero
    assert mean_interval([0.01, 0.03]).points() == "+2.00 points, 95% CI [-10.71, +14.71]"


def test_one_value_has_no_interval():
    iv = mean_interval([0.9])
    assert iv.mean == 0.9 and math.isnan(iv.std) and math.isnan(iv.half_width)
    assert mean_interval([]).n == 0


def test_paired_difference_uses_common_seeds_only():
    a = {0: 0.90, 1: 0.80, 2: 0.85}
    b = {0: 0.88, 1: 0.79, 2: 0.86, 3: 0.10}  # seed 3 has no partner and is ignored
    d = paired_difference(a, b)
    diffs = [0.02, 0.01, -0.01]
    mean = sum(diffs) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in diffs) / 2)
    assert d.n == 3
    assert d.mean == pytest.approx(mean) and d.std == pytest.approx(std)
    assert d.half_width == pytest.approx(4.302653 * std / math.sqrt(3), rel=1e-6)
    assert d.covers_zero


def test_verdicts_say_what_the_seeds_can_tell():
    same = paired_difference({0: 0.9, 1: 0.8, 2: 0.85}, {0: 0.88, 1: 0.79, 2: 0.86})
    assert verdict(same, "3x3") == "not distinguishable from 3x3 at 3 seeds"
    up = paired_difference({0: 0.91, 1: 0.92, 2: 0.93}, {0: 0.90, 1: 0.905, 2: 0.91})
    assert verdict(up, "3x3") == "better than 3x3 at 3 seeds"
    down = paired_difference({0: 0.90, 1: 0.905, 2: 0.91}, {0: 0.91, 1: 0.92, 2: 0.93})
    assert verdict(down, "MLP") == "worse than MLP at 3 seeds"
    assert verdict(paired_difference({0: 0.9}, {0: 0.8}), "x").startswith("one seed")
