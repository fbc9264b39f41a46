"""How numbers read in convlab's tables and prose: percent, points and intervals.

Accuracies are fractions inside convlab and percent on the page; a difference of two
accuracies is in percentage points, signed. A missing value (NaN, None) reads ``-``.
"""

from __future__ import annotations

import math

__all__ = ["count", "interval", "missing", "percent", "points"]


def missing(x) -> bool:
    """Whether ``x`` is absent: ``None`` or NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def percent(x, digits: int = 2) -> str:
    """A fraction as percent without the sign: ``0.9123 -> "91.23"``."""
    return "-" if missing(x) else f"{100 * x:.{digits}f}"


def points(x, digits: int = 2) -> str:
    """A difference of fractions in signed percentage points: ``0.0123 -> "+1.23"``."""
    return "-" if missing(x) else f"{100 * x:+.{digits}f}"


def interval(low, high, signed: bool = False) -> str:
    """``[low, high]`` in percent (``signed``: in points, for differences)."""
    if missing(low) or missing(high):
        return "-"
    fmt = points if signed else percent
    return f"[{fmt(low)}, {fmt(high)}]"


def count(x) -> str:
    """A whole number with thousands separators: ``220234 -> "220,234"``."""
    return "-" if missing(x) else f"{int(x):,}"
