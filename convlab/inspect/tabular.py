"""When convolution does not fit: a 1-D CNN and an MLP on a table whose columns have no order.

A convolution assumes that neighbouring inputs belong together. In a table the column
order is an accident (alphabetical, the order someone exported them), so a 1-D convolution
slid over the columns assumes something false. :func:`compare_on_tabular` trains a 1-D CNN
and an MLP of about the same size on the synthetic table of :mod:`convlab.tabular`, over
several seeds, through the same cached, seeded training as every other run of the book.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from convlab.experiments.profiles import Profile, get_profile
from convlab.experiments.runner import cached_train
from convlab.experiments.store import ResultsStore
from convlab.models import Conv1DSpec, MLPSpec
from convlab.tabular import TABLE, TabularTask, make_tabular, table_slice

__all__ = [
    "TABULAR_MODELS",
    "compare_on_tabular",
    "conv_minus_mlp",
    "summarize_runs",
    "tabular_reading",
]

# The two models compared, sized to have about the same number of parameters (about
# 11.7k and 12.5k on the default 24-column, 4-class table).
TABULAR_MODELS = {
    "mlp": MLPSpec(hidden=(128, 64)),
    "conv1d": Conv1DSpec(filters=16, kernel_size=3, dense=(32,)),
}


def compare_on_tabular(
    task: TabularTask | None = None,
    profile: str | Profile | None = None,
    seeds: Iterable[int] | None = None,
    store: ResultsStore | str | None = None,
) -> pd.DataFrame:
    """Train the MLP and the 1-D CNN once per seed on the same table (cached in the store).

    Args:
        task: the table; default :class:`~convlab.tabular.TabularTask`'s defaults.
        profile: its budget is :meth:`~convlab.experiments.Profile.tabular_config`
            (early stopping on validation loss); seeds default to the profile's.
        seeds: the seeds; default :meth:`~convlab.experiments.Profile.seed_list`.
        store: a :class:`~convlab.experiments.ResultsStore` or its directory.

    Returns:
        One row per run: ``model``, ``seed``, ``test_accuracy``, ``params``, ``epochs``
        (run, early stopping included), ``wall_time_s`` and ``correct`` (per test row, 1
        if right), which :func:`conv_minus_mlp` pairs by seed and row.
    """
    task = task or TabularTask()
    profile = get_profile(profile)
    config = profile.tabular_config()
    labels = np.asarray(make_tabular(task).y_test).reshape(-1)
    rows = []
    for seed in profile.seed_list() if seeds is None else seeds:
        for kind, spec in TABULAR_MODELS.items():
            r = cached_train(spec, config, int(seed), TABLE, table_slice(task), profile.name, store)
            rows.append(
                {
                    "model": kind,
                    "seed": int(seed),
                    "test_accuracy": r.test_accuracy,
                    "params": r.params,
                    "epochs": r.epochs_run,
                    "wall_time_s": r.wall_time_s,
                    "correct": (np.asarray(r.test_predictions) == labels).astype(float),
                }
            )
    return pd.DataFrame(rows)


def summarize_runs(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per model: runs, mean and standard deviation of test accuracy, the t interval of the
    mean (:func:`convlab.experiments.mean_interval`) and parameters."""
    from convlab.experiments.stats import mean_interval

    rows = []
    for kind, group in runs.groupby("model", sort=False):
        iv = mean_interval(group["test_accuracy"], confidence)
        rows.append(
            {
                "model": kind,
                "runs": iv.n,
                "mean": iv.mean,
                "std": iv.std,
                "ci_low": iv.low,
                "ci_high": iv.high,
                "params": int(group["params"].iloc[0]),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def conv_minus_mlp(runs: pd.DataFrame, confidence: float = 0.95):
    """The 1-D CNN's test accuracy minus the MLP's, paired by seed and test row, with its
    interval over seeds and rows (:func:`convlab.experiments.intervals.crossed_interval`,
    as for the image studies); over seeds alone for runs without a ``correct`` column."""
    from convlab.experiments.intervals import crossed_interval
    from convlab.experiments.stats import paired_difference

    if "correct" in runs.columns:
        by_seed = {
            kind: dict(zip(g["seed"], g["correct"], strict=True))
            for kind, g in runs.groupby("model")
        }
        conv, mlp = by_seed.get("conv1d", {}), by_seed.get("mlp", {})
        seeds = sorted(set(conv) & set(mlp))
        if seeds and all(len(conv[s]) == len(mlp[s]) > 1 for s in seeds):
            return crossed_interval(np.stack([conv[s] - mlp[s] for s in seeds]), confidence)
    by_seed = {
        kind: dict(zip(g["seed"], g["test_accuracy"], strict=True))
        for kind, g in runs.groupby("model")
    }
    return paired_difference(by_seed.get("conv1d", {}), by_seed.get("mlp", {}), confidence)


def tabular_reading(gap) -> str:
    """What the 1-D CNN minus MLP interval (:func:`conv_minus_mlp`) says, in one sentence
    that claims no more than the interval does."""
    from convlab.views.numbers import points

    if gap.n < 2 or gap.low != gap.low:  # one seed, or no interval
        return "With one seed there is no interval, so this table decides nothing."
    span = f"between {points(gap.low)} and {points(gap.high)} points"
    if gap.low > 0:
        return (
            f"The 1-D CNN did better ({span}) although the column order is an accident: its "
            "narrow filters and smaller dense layer must suit this table for some other reason, "
            "so this run is no evidence that convolution needs ordered inputs."
        )
    if gap.high < 0:
        return (
            f"The 1-D CNN did worse ({span}): its filters mix columns that merely sit side "
            "by side, an assumption this table does not satisfy; the interval excludes zero, "
            "so the loss is more than noise."
        )
    return (
        f"The interval ({span}) covers zero: on this table the convolution's assumption "
        "neither helped nor hurt measurably. A convolution exploits ordered neighbourhoods; "
        "an accidental order gives it none, so it gains nothing here, and differences "
        "smaller than the interval's width are not ruled out."
    )
