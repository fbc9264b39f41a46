"""Controlled experiments: profiles, study designs, a results store, runs and statistics.

- :mod:`~convlab.experiments.profiles`: how much data, epochs and seeds every run gets.
- :mod:`~convlab.experiments.design`: a study, its arms, the spec each arm trains.
- :mod:`~convlab.experiments.catalog`: the studies the book ships.
- :mod:`~convlab.experiments.keys`: what a run's key is made of; ``RESULTS_VERSION``.
- :mod:`~convlab.experiments.store`: one JSON record per run, written atomically.
- :mod:`~convlab.experiments.runner`: plan a study, load what is stored, train the rest.
- :mod:`~convlab.experiments.results`: a study's runs and their summaries over seeds.
- :mod:`~convlab.experiments.stats`: t intervals and paired differences.

Tables, figures and words about results are in :mod:`convlab.views`.

Example:
    >>> from convlab.experiments import get_study, run_study
    >>> result = run_study(get_study("kernel-size"), profile="smoke")  # doctest: +SKIP
    >>> result.differences()["distinguishable"]  # doctest: +SKIP
"""

from convlab.experiments.catalog import STUDIES, get_study
from convlab.experiments.design import Arm, Study, StudyError, resolve_spec
from convlab.experiments.executors import ExecutorError, RayExecutor, Serial, get_executor
from convlab.experiments.keys import RESULTS_VERSION, run_inputs, run_key
from convlab.experiments.profiles import PROFILES, Profile, ProfileError, get_profile
from convlab.experiments.results import Run, StudyResult
from convlab.experiments.runner import (
    RunsFailed,
    cached_train,
    load_study,
    plan,
    run_cost,
    run_study,
    train_one,
)
from convlab.experiments.stats import (
    Interval,
    mean_interval,
    paired_difference,
    t_cdf,
    t_quantile,
    verdict,
)
from convlab.experiments.store import ResultsStore, StoreWarning

__all__ = [
    "PROFILES",
    "RESULTS_VERSION",
    "STUDIES",
    "Arm",
    "ExecutorError",
    "Interval",
    "Profile",
    "ProfileError",
    "RayExecutor",
    "ResultsStore",
    "Run",
    "RunsFailed",
    "Serial",
    "StoreWarning",
    "Study",
    "StudyError",
    "StudyResult",
    "cached_train",
    "get_executor",
    "get_profile",
    "get_study",
    "load_study",
    "mean_interval",
    "paired_difference",
    "plan",
    "resolve_spec",
    "run_cost",
    "run_inputs",
    "run_key",
    "run_study",
    "t_cdf",
    "t_quantile",
    "train_one",
    "verdict",
]
