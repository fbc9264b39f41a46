"""The run explorer: every run of a build's studies, seed by seed, in the page.

:func:`run_explorer` takes study results (loaded from the results store) and shows, in the
built book as in Jupyter or Colab, a study picker; each arm's seeds as dots with the arm's
interval, and the learning curves of the run under the cursor or the keyboard focus. The
numbers are the store's own (``tests/test_explorer_browser.py`` compares them); the
drawing is ``explorer.js`` (:mod:`convlab.views.embed`): plain SVG, no library, no network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from convlab.experiments.results import StudyResult
from convlab.views.embed import embedded

__all__ = ["CONFIDENCE", "RunExplorer", "run_explorer"]

CONFIDENCE = 0.95  # of the arms' intervals

_STYLE = """
.convlab-explorer { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em; margin: 1em 0; }
.convlab-explorer .cx-panels { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.convlab-explorer .cx-dot { cursor: pointer; }
.convlab-explorer .cx-dot:focus { outline: none; stroke: #000; stroke-width: 2.5; }
.convlab-explorer .cx-runs td, .convlab-explorer .cx-runs th { font-size: 0.8em; padding: 1px 6px; }
.convlab-explorer .cx-note { font-size: 0.8em; color: #555; }
"""


def _number(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _study(result: StudyResult) -> dict:
    arms = []
    for label in result.study.arms:
        runs = sorted((r for r in result.runs if r.arm == label and r.result), key=lambda r: r.seed)
        interval = result.interval(label, CONFIDENCE) if len(runs) > 1 else None
        arms.append(
            {
                "label": label,
                "mean": _number(interval.mean) if interval else None,
                "low": _number(interval.low) if interval else None,
                "high": _number(interval.high) if interval else None,
                "why": result.unbuildable.get(label),
                "runs": [
                    {
                        "seed": r.seed,
                        "key": r.key,
                        "test_accuracy": r.result.test_accuracy,
                        "best_epoch": r.result.best_epoch,
                        "history": {
                            k: [float(v) for v in r.result.history.get(k, [])]
                            for k in ("loss", "accuracy", "val_accuracy")
                        },
                    }
                    for r in runs
                ],
            }
        )
    with_runs = [a["label"] for a in arms if a["runs"]]
    return {
        "name": result.study.name,
        "question": result.study.question,
        "profile": result.profile.name,
        "confidence": round(100 * CONFIDENCE),
        "covers": result.interval_over(*with_runs) if with_runs else "seeds",
        "arms": arms,
    }


@dataclass(frozen=True)
class RunExplorer:
    """The explorer's data, one entry per study; shown through :meth:`_repr_html_`."""

    studies: tuple[dict, ...]

    def data(self) -> dict:
        return {"studies": list(self.studies)}

    def _repr_html_(self) -> str:
        return embedded("explorer", self.data(), _STYLE)

    def __repr__(self) -> str:
        runs = sum(len(a["runs"]) for s in self.studies for a in s["arms"])
        return f"RunExplorer({len(self.studies)} studies, {runs} runs; shown in a notebook)"


def run_explorer(results: Iterable[StudyResult]) -> RunExplorer:
    """An explorer of ``results``; studies without a finished run are left out (the
    explorer shows what this build ran)."""
    studies = tuple(_study(r) for r in results)
    return RunExplorer(tuple(s for s in studies if any(a["runs"] for a in s["arms"])))
