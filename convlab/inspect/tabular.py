"""When convolution does not fit: a tabular task whose columns have no order.

A convolution assumes that neighbouring inputs belong together. In a table the column
order is an accident (alphabetical, the order someone exported them), so a 1-D convolution
slid over the columns assumes something false. This module makes such a table and trains a
1-D CNN and an MLP of about the same size on it, over several seeds.

The data are **synthetic**, generated with NumPy (no download), in the manner of
scikit-learn's ``make_classification``: each class is a few Gaussian clusters placed at
vertices of a hypercube in a handful of *informative* dimensions, some *redundant*
columns are random linear mixtures of those, the rest are pure noise, and then all columns
are put in a random order. Nothing about a column's position says anything about it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from convlab.inspect._common import InspectError
from convlab.preprocess import Splits, stratified_indices

__all__ = [
    "TabularModels",
    "TabularTask",
    "build_tabular_model",
    "compare_on_tabular",
    "conv_minus_mlp",
    "make_tabular",
    "summarize_runs",
]


@dataclass(frozen=True)
class TabularTask:
    """A synthetic classification table (see the module docstring)."""

    samples: int = 4000  # rows, split 60/20/20 into train/validation/test, stratified
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
        raise InspectError(
            f"{task} cannot make a classification task: it needs informative >= 1, "
            "classes >= 2 and at least 10 samples per class."
        )
    rng = np.random.default_rng(task.seed)
    n_clusters = task.classes * task.clusters_per_class
    if n_clusters > 2**task.informative:
        raise InspectError(
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


@dataclass(frozen=True)
class TabularModels:
    """The two models compared, sized to have about the same number of parameters."""

    mlp_hidden: tuple[int, ...] = (128, 64)
    conv_filters: int = 16
    conv_kernel: int = 3  # columns one filter looks at together
    conv_dense: int = 32  # dense units after the convolution
    epochs: int = 100  # upper bound; early stopping on validation loss ends sooner
    patience: int = 8
    batch_size: int = 64
    learning_rate: float = 1e-3

    @classmethod
    def for_profile(cls, name: str) -> TabularModels:
        """The budget for a compute profile: ``smoke`` (CI) trains 3 epochs only."""
        return cls(epochs=3, patience=1) if name == "smoke" else cls()


def build_tabular_model(kind: str, features: int, classes: int, models: TabularModels):
    """``"mlp"`` (Dense layers) or ``"conv1d"`` (one Conv1D slid over the columns, then a
    Dense layer): an uncompiled ``keras.Sequential`` ending in softmax."""
    import keras
    from keras import layers

    stack: list = [keras.Input(shape=(features,), name="row")]
    if kind == "mlp":
        stack += [
            layers.Dense(u, activation="relu", name=f"dense{i}")
            for i, u in enumerate(models.mlp_hidden, 1)
        ]
    elif kind == "conv1d":
        stack += [
            layers.Reshape((features, 1), name="columns_as_sequence"),
            layers.Conv1D(
                models.conv_filters,
                models.conv_kernel,
                padding="same",
                activation="relu",
                name="conv1",
            ),
            layers.Flatten(name="flatten"),
            layers.Dense(models.conv_dense, activation="relu", name="dense1"),
        ]
    else:
        raise InspectError(f"kind must be 'mlp' or 'conv1d', got {kind!r}.")
    stack.append(layers.Dense(classes, activation="softmax", name="output"))
    return keras.Sequential(stack, name=kind)


def _fit(kind: str, data: Splits, models: TabularModels, seed: int) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    model = build_tabular_model(kind, data.input_shape[0], data.num_classes, models)
    model.compile(
        optimizer=keras.optimizers.Adam(models.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    t0 = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        epochs=models.epochs,
        batch_size=models.batch_size,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=models.patience, restore_best_weights=True
            )
        ],
        verbose=0,
    )
    # One direct call rather than model.predict: predict traces a new function for every
    # fresh model, and TensorFlow warns about that retracing on stdout.
    probs = keras.ops.convert_to_numpy(model(data.x_test, training=False))
    return {
        "model": kind,
        "seed": seed,
        "test_accuracy": float(np.mean(probs.argmax(axis=1) == data.y_test)),
        "params": model.count_params(),
        "epochs": len(history.history["loss"]),
        "wall_time_s": time.perf_counter() - t0,
    }


def compare_on_tabular(
    data: Splits,
    seeds: Iterable[int] = range(5),
    models: TabularModels = TabularModels(),
) -> pd.DataFrame:
    """Train the MLP and the 1-D CNN once per seed on the same table.

    Returns:
        One row per run: ``model``, ``seed``, ``test_accuracy``, ``params``, ``epochs``
        (run, early stopping included) and ``wall_time_s``.
    """
    rows = [_fit(kind, data, models, int(seed)) for seed in seeds for kind in ("mlp", "conv1d")]
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
    """The 1-D CNN's test accuracy minus the MLP's, paired by seed, with its t interval
    (a :class:`convlab.experiments.Interval`)."""
    from convlab.experiments.stats import paired_difference

    by_seed = {
        kind: dict(zip(g["seed"], g["test_accuracy"], strict=True))
        for kind, g in runs.groupby("model")
    }
    return paired_difference(by_seed.get("conv1d", {}), by_seed.get("mlp", {}), confidence)
