"""Controlled experiments: profiles, a results store, studies, statistics and figures.

Example:
    >>> from convlab.experiments import get_study, run_study
    >>> result = run_study(get_study("kernel-size"), profile="smoke")  # doctest: +SKIP
    >>> print(result.conclusion())  # doctest: +SKIP
"""

from convlab.experiments.catalog import STUDIES, get_study
from convlab.experiments.figures import accuracy_plot, accuracy_vs_params, learning_curves
from convlab.experiments.profiles import PROFILES, Profile, ProfileError, get_profile
from convlab.experiments.stats import (
    Interval,
    mean_interval,
    paired_difference,
    t_cdf,
    t_quantile,
    verdict,
)
from convlab.experiments.store import (
    ResultsStore,
    StoreWarning,
    code_hash,
    run_inputs,
    run_key,
)
from convlab.experiments.study import (
    Arm,
    Run,
    Study,
    StudyError,
    StudyResult,
    describe,
    load_study,
    resolve_spec,
    run_study,
    train_one,
)
from convlab.experiments.variants import (
    DataVariant,
    data_slice,
    load_splits,
    permute_pixels,
    pixel_permutation,
)

__all__ = [
    "PROFILES",
    "STUDIES",
    "Arm",
    "DataVariant",
    "Interval",
    "Profile",
    "ProfileError",
    "ResultsStore",
    "Run",
    "StoreWarning",
    "Study",
    "StudyError",
    "StudyResult",
    "accuracy_plot",
    "accuracy_vs_params",
    "code_hash",
    "data_slice",
    "describe",
    "get_profile",
    "get_study",
    "learning_curves",
    "load_splits",
    "load_study",
    "mean_interval",
    "paired_difference",
    "permute_pixels",
    "pixel_permutation",
    "resolve_spec",
    "run_inputs",
    "run_key",
    "run_study",
    "t_cdf",
    "t_quantile",
    "train_one",
    "verdict",
]
