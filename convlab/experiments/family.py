"""The book's comparisons as one family: how many stay distinguishable after Holm's correction.

Each study tests its comparisons at 95 %; the experiments chapter makes a few dozen of
them, so by chance alone one or two null differences would be called "better" or "worse".
:func:`comparisons` lists every comparison of a set of studies once (a comparison that
two studies share, because their arms are the same runs, counts once) with its p-value
and Holm's adjusted p-value (:func:`~convlab.experiments.intervals.holm`) over the whole
family: with it, the chance that *any* null difference of the book is called
distinguishable stays below 5 %.

Example:
    >>> family = comparisons([kernel, depth])  # doctest: +SKIP
    >>> int(family["distinguishable"].sum()), int(family["after_holm"].sum())  # doctest: +SKIP
    (3, 2)
"""

from __future__ import annotations

from collections.abc import Iterable

from convlab.experiments.intervals import holm
from convlab.experiments.results import StudyResult

__all__ = ["comparisons", "family_counts"]


def _identity(result: StudyResult, arm: str) -> tuple[str, ...]:
    """An arm as the runs it is made of (the same runs in two studies: the same arm)."""
    return tuple(sorted(r.key for r in result.runs if r.arm == arm))


def comparisons(results: Iterable[StudyResult], alpha: float = 0.05):
    """One row per distinct comparison of ``results``: study, arm, vs, the difference, its
    interval and p-value (from :meth:`StudyResult.differences`), Holm's adjusted p-value
    over all of them (``p_holm``) and whether it stays distinguishable (``after_holm``).

    A comparison without a p-value (one seed, or an arm that cannot be built) is listed
    but not counted in the family.
    """
    import pandas as pd

    rows, seen = [], set()
    for result in results:
        for arm, d in result.differences().iterrows():
            ident = (_identity(result, arm), _identity(result, d["vs"]))
            if not ident[0] or not ident[1] or ident in seen:
                continue
            seen.add(ident)
            rows.append(
                {
                    "study": result.study.name,
                    "arm": arm,
                    "vs": d["vs"],
                    "mean_difference": d["mean_difference"],
                    "ci95_low": d["ci95_low"],
                    "ci95_high": d["ci95_high"],
                    "p_value": d["p_value"],
                    "distinguishable": bool(d["distinguishable"]),
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "study",
            "arm",
            "vs",
            "mean_difference",
            "ci95_low",
            "ci95_high",
            "p_value",
            "distinguishable",
        ],
    )
    frame["p_holm"] = holm(list(frame["p_value"]))
    frame["after_holm"] = frame["p_holm"] < alpha
    return frame


def family_counts(family) -> dict[str, int]:
    """How many comparisons of a :func:`comparisons` frame have a p-value
    (``n_comparisons``), exclude zero at 95 % on their own (``n_apart``) and after Holm's
    correction (``n_holm``)."""
    return {
        "n_comparisons": int(family["p_value"].notna().sum()),
        "n_apart": int(family["distinguishable"].sum()),
        "n_holm": int(family["after_holm"].sum()),
    }
