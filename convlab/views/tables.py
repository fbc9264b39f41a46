"""A data table as a reader reads it: named columns, fractions in percent, differences in points.

convlab's functions return numbers (fractions, column names like ``a_as_b``) so that code
can compute with them; a page shows :func:`readable` of them instead.

Example:
    >>> import pandas as pd
    >>> readable(pd.DataFrame({"acc": [0.8361]}), percent=["acc"], names={"acc": "accuracy %"})
      accuracy %
    0      83.61
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from convlab.views.numbers import count, missing
from convlab.views.numbers import percent as as_percent
from convlab.views.numbers import points as as_points

__all__ = ["readable"]


def readable(
    table: pd.DataFrame,
    percent: Iterable[str] = (),
    points: Iterable[str] = (),
    counts: Iterable[str] = (),
    scientific: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
    digits: int = 2,
) -> pd.DataFrame:
    """A copy of ``table`` for the page: fraction columns in percent, difference columns in
    signed percentage points, whole numbers with thousands separators, tiny ones (rounding
    errors) in scientific notation, then columns (and the index) renamed by ``names``.

    A column named in ``percent``, ``points`` or ``counts`` that the table lacks is an
    error (a renamed upstream column must not silently show raw again).
    """
    out = table.copy()
    formats = (
        (percent, lambda x: as_percent(x, digits)),
        (points, lambda x: as_points(x, digits)),
        (counts, count),
        (scientific, lambda x: "-" if missing(x) else f"{x:.1e}"),
    )
    for columns, fmt in formats:
        for column in columns:
            if column not in out.columns:
                raise KeyError(
                    f"No column {column!r} to format; the table has {list(out.columns)}."
                )
            out[column] = [fmt(x) for x in out[column]]
    names = dict(names or {})
    out = out.rename(columns=names)
    if out.index.name in names:
        out.index.name = names[out.index.name]
    return out
