"""A synthetic table whose columns have no order: the case where convolution does not fit.

The data are generated with NumPy (no download), in the manner of scikit-learn's
``make_classification``: each class is a few Gaussian clusters placed at vertices of a
hypercube in a handful of *informative* dimensions, some *redundant* columns are random
linear mixtures of those, the rest are pure noise, and then all columns are put in a random
order. Nothing about a column's position says anything about it.

The table is a dataset of the results store like any other: its name is :data:`TABLE` and
its data slice (:func:`table_slice`) is the task's settings, so
:func:`convlab.variants.load_splits` rebuilds it for a stored run.

Example:
    >>> make_tabular(TabularTask(samples=400)).x_train.shape
    (240, 24)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from convlab.data import DataError
from convlab.preprocess import Splits, stratified_indices

__all__ = ["TABLE", "TabularTask", "make_tabular", "table_slice"]

TABLE = "synthetic-table"  # the dataset name its runs are stored under


@dataclass(frozen=True)
class TabularTask:
    """A synthetic classification table (see the module docstring)."""

    samples: int = 20000  # rows, split 60/20/20 into train/validation/test, stratified
    informative: int = 6  # dimensions the classes differ in
    redundant: int = 6  # random linear mixtures of the informative columns
    noise: int = 12  # columns unrelated to the class
    classes: int = 4
    clusters_per_class: int = 2
    class_sep: float = 1.0  # half the side of the hypercube the cluster centres sit on
    seed: int = 0  # the data's seed (models get their own)

    @property
    def features(self) -> int:
        return self.informative + self.redundant + self.noise


def make_tabular(task: TabularTask = TabularTask()) -> Splits:
    """The task's rows as :class:`~convlab.preprocess.Splits` of shape ``(N, features)``.

    Columns are standardised with the training split's mean and standard deviation; class
    names are ``class 0``, ``class 1``, ...
    """
    if task.informative < 1 or task.classes < 2 or task.samples < 10 * task.classes:
        raise DataError(
            f"{task} cannot make a classification task: it needs informative >= 1, "
            "classes >= 2 and at least 10 samples per class."
        )
    rng = np.random.default_rng(task.seed)
    n_clusters = task.classes * task.clusters_per_class
    if n_clusters > 2**task.informative:
        raise DataError(
            f"{n_clusters} clusters do not fit on the {2**task.informative} vertices of a "
            f"{task.informative}-dimensional hypercube; raise informative."
        )
    vertices = rng.choice(2**task.informative, n_clusters, replace=False)
    bits = (vertices[:, None] >> np.arange(task.informative)) & 1
    centres = (2.0 * bits - 1.0) * task.class_sep
    cluster = rng.integers(0, n_clusters, task.samples)
    y = (cluster % task.classes).astype(np.int32)
    # Each cluster gets its own random covariance, so classes are not spheres.
    mixing = rng.normal(size=(n_clusters, task.informative, task.informative)) / np.sqrt(
        task.informative
    )
    z = rng.normal(size=(task.samples, task.informative))
    informative = np.einsum("ni,nij->nj", z, mixing[cluster]) + centres[cluster]
    redundant = informative @ rng.normal(size=(task.informative, task.redundant))
    noise = rng.normal(size=(task.samples, task.noise))
    x = np.hstack([informative, redundant, noise])[:, rng.permutation(task.features)]

    n_val = n_test = task.samples // 5
    test, val, train = stratified_indices(
        y, (n_test, n_val, task.samples - n_val - n_test), task.seed
    )
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-8
    x = ((x - mean) / std).astype(np.float32)
    return Splits(
        x_train=x[train],
        y_train=y[train],
        x_val=x[val],
        y_val=y[val],
        x_test=x[test],
        y_test=y[test],
        class_names=tuple(f"class {c}" for c in range(task.classes)),
    )


def table_slice(task: TabularTask) -> dict:
    """The data slice of a run on ``task``'s table (part of the run's key)."""
    return {"task": dataclasses.asdict(task)}
