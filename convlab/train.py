"""Seeded training and evaluation: one call from spec and data to a JSON-ready result."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import platform
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convlab.errors import ConvlabError
from convlab.models import ModelSpec, build, count_params, macs_per_image, spec_from_dict
from convlab.preprocess import Splits

__all__ = [
    "PRECISIONS",
    "TrainConfig",
    "TrainResult",
    "default_precision",
    "machine_precision",
    "precision_for",
    "confusion_shares",
    "decode_classes",
    "encode_classes",
    "evaluate",
    "fit_arguments",
    "per_class_accuracy",
    "predict_proba",
    "train",
]


class TrainError(ConvlabError, ValueError):
    """A training configuration that cannot run."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train; everything that can change a result is here (or in the seed)."""

    epochs: int = 10  # upper bound; early stopping may end sooner
    batch_size: int = 128
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # any keras.optimizers name
    schedule: str = "constant"  # "constant" or "cosine" (decays to 0 over all epochs)
    patience: int | None = 3  # early stopping on val_loss; None turns it off
    # Keras' XLA switch. Off by default: on a 2-core CPU XLA compiles for 10+ s per model
    # and trained the 7x7 CNN at 131 instead of 503 images/s (benchmarks/); "auto" suits GPUs.
    jit_compile: bool | str = False
    # Light augmentation of the training images only (validation and test are untouched):
    # random horizontal flips, and random shifts of up to ``augment_shift`` pixels in each
    # direction (empty border filled with 0, the background after scaling).
    augment_flip: bool = False
    augment_shift: int = 0
    # "float32", or "mixed_bfloat16": bfloat16 arithmetic on float32 weights (the returned
    # model computes in float32 again). See :func:`default_precision`.
    precision: str = "float32"


@dataclass(frozen=True)
class TrainResult:
    """Everything one training run measured; round-trips through JSON.

    ``model`` is the trained Keras model; it is not serialised (``None`` after loading).
    """

    spec: ModelSpec
    config: TrainConfig
    seed: int
    class_names: tuple[str, ...]
    history: dict[str, list[float]]  # per epoch: loss, accuracy, val_loss, val_accuracy
    best_epoch: int  # 1-based epoch whose weights were kept
    test_loss: float
    test_accuracy: float
    per_class_accuracy: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted
    params: int
    macs_per_image: int
    train_size: int
    wall_time_s: float  # whole fit, compilation included
    images_per_s: float  # training throughput, first epoch (compilation) excluded
    backend: str
    versions: dict[str, str]
    # The predicted class of each test image, in test order: with the test labels it gives
    # each image's right or wrong, for intervals over test images (convlab.experiments).
    test_predictions: tuple[int, ...] = ()
    model: Any = field(default=None, compare=False, repr=False)

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))

    def to_dict(self) -> dict:
        """Plain JSON (tuples as lists); a missing number (NaN, e.g. the accuracy of a
        class without test images) is ``None``, so the JSON is standard."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        d["spec"] = dataclasses.asdict(self.spec)
        d["config"] = dataclasses.asdict(self.config)
        d["test_predictions"] = encode_classes(self.test_predictions)
        # tuples -> lists, so equal dicts compare equal; allow_nan=False proves no NaN is left
        return json.loads(json.dumps(_without_nan(d), allow_nan=False))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict) -> TrainResult:
        d = dict(d)
        d["spec"] = spec_from_dict(d["spec"])
        d["config"] = TrainConfig(**d["config"])
        d["class_names"] = tuple(d["class_names"])
        d["per_class_accuracy"] = tuple(
            math.nan if a is None else a for a in d["per_class_accuracy"]
        )
        d["history"] = {
            k: [math.nan if v is None else v for v in vs] for k, vs in d["history"].items()
        }
        d["confusion"] = tuple(tuple(r) for r in d["confusion"])
        d["test_predictions"] = decode_classes(d.get("test_predictions", ""))
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> TrainResult:
        return cls.from_dict(json.loads(text))


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode_classes(classes) -> str:
    """Class indices as one character each (``0-9``, then ``a-z``): 10,000 test predictions
    take 10 kB in a record instead of a 60 kB JSON list."""
    try:
        return "".join(_DIGITS[int(c)] for c in classes)
    except IndexError:
        raise TrainError(f"Class indices must be 0..{len(_DIGITS) - 1}.") from None


def decode_classes(text: str) -> tuple[int, ...]:
    """Inverse of :func:`encode_classes`."""
    return tuple(_DIGITS.index(ch) for ch in text)


def _without_nan(obj: Any) -> Any:
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _without_nan(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_without_nan(v) for v in obj]
    return obj


def library_versions() -> dict[str, str]:
    """Versions that can change a result."""
    import keras

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["keras"] = keras.__version__
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    if module:
        versions[module] = __import__(module).__version__
    return versions


class _EpochTimer:
    """Keras callback that records each epoch's wall time (built lazily: Keras imports late)."""

    def __new__(cls, progress):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.times: list[float] = []
                self.bar = progress

            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self.t0)
                if self.bar is not None:
                    logs = logs or {}
                    self.bar.set_postfix(
                        {k: f"{logs[k]:.4f}" for k in ("loss", "val_accuracy") if k in logs}
                    )
                    self.bar.update(1)

        return Timer()


PRECISIONS = ("float32", "mixed_bfloat16")


def precision_for(backend: str, gpu: bool, cpu_flags: str) -> str:
    """The faster training precision for a Keras ``backend``, a GPU or not, and the CPU's
    flags (``/proc/cpuinfo``): ``"mixed_bfloat16"`` on TensorFlow on a CPU with AMX
    bfloat16 units, else ``"float32"``.

    Measured on the 2-core development machine (Intel Xeon with AMX, ``python -m
    benchmarks.run --only throughput``): mixed bfloat16 trains the reference CNN ~1.9x
    faster than float32 (batch 128: 17,700 vs 9,200 images/s), at the same full-data
    test accuracy within the seed spread (92.30% vs 92.27%, 3 seeds each). CPUs without
    bfloat16 hardware emulate it slowly; other backends and GPUs have not been measured,
    so they keep float32.
    """
    amx = "amx_bf16" in cpu_flags.split()
    return "mixed_bfloat16" if backend == "tensorflow" and not gpu and amx else "float32"


def default_precision() -> str:
    """``CONVLAB_PRECISION`` when it names a precision, else :func:`precision_for` this
    machine and the active Keras backend."""
    from convlab.settings import precision_name

    chosen = precision_name()
    return machine_precision() if chosen == "auto" else chosen


@functools.cache  # the machine and the backend (fixed once Keras is imported) do not change
def machine_precision() -> str:
    """:func:`precision_for` this machine and the active Keras backend."""
    import keras

    from convlab.hardware import cpu_flags, gpu_available

    return precision_for(keras.backend.backend(), gpu_available(), cpu_flags())


# The input pipeline and steps per call, measured on the 2-core development machine
# (``python -m benchmarks.run --only throughput``): Keras' own pipeline for NumPy arrays
# turns on tf.data's autotuner, whose background thread, on 2 cores, stalls whole epochs to
# ~60 % speed at random; a plain tf.data pipeline without it, running 16 steps per call,
# trains the same steps faster and steadily. The PyTorch backend allows only 1 step per call.
STEPS_PER_EXECUTION = {"tensorflow": 16}


def _tf_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None):
    """``(x, y)`` in batches, reshuffled every epoch from ``seed`` (``None``: in order)."""
    import tensorflow as tf

    order = tf.data.Dataset.range(len(x))
    if seed is not None:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    batches = tf.data.Dataset.zip(order.batch(batch_size), arrays).map(
        lambda i, xy: (tf.gather(xy[0], i), tf.gather(xy[1], i))
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    return batches.prefetch(1).with_options(options)


def fit_arguments(
    x: np.ndarray, y: np.ndarray, validation: tuple | None, batch_size: int, seed: int
) -> dict:
    """The data arguments of ``model.fit`` for the active backend, shuffled from ``seed``.

    TensorFlow gets :func:`_tf_batches` pipelines; the other backends get the arrays, which
    Keras batches and shuffles itself.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return {
            "x": x,
            "y": y,
            "batch_size": batch_size,
            "shuffle": True,
            "validation_data": validation,
        }
    val = None if validation is None else _tf_batches(*validation, batch_size, None)
    # shuffle=False: the pipeline shuffles itself (Keras ignores the flag for a dataset).
    return {"x": _tf_batches(x, y, batch_size, seed), "shuffle": False, "validation_data": val}


def _optimizer(config: TrainConfig, steps_per_epoch: int):
    import keras

    lr: Any = config.learning_rate
    if config.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=config.epochs * steps_per_epoch)
    elif config.schedule != "constant":
        raise TrainError(f"schedule must be 'constant' or 'cosine', got {config.schedule!r}.")
    try:
        return keras.optimizers.get(
            {"class_name": config.optimizer, "config": {"learning_rate": lr}}
        )
    except ValueError:
        raise TrainError(f"Unknown optimizer {config.optimizer!r} (try 'adam' or 'sgd').") from None


def _augmented(model, config: TrainConfig, input_shape: tuple[int, ...], seed: int):
    """``model`` behind random flip / shift layers, which act only in training.

    The layers wrap the model instead of joining it, so the trained ``model`` itself, the
    one evaluated, saved and exported, is exactly the spec's architecture.
    """
    import keras

    if config.augment_shift < 0:
        raise TrainError(f"augment_shift must be >= 0 pixels, got {config.augment_shift}.")
    layers = []
    if config.augment_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if config.augment_shift:
        h, w = input_shape[0], input_shape[1]
        layers.append(
            keras.layers.RandomTranslation(
                config.augment_shift / h,
                config.augment_shift / w,
                fill_mode="constant",
                interpolation="nearest",
                seed=seed + 1,
            )
        )
    if not layers:
        return model
    return keras.Sequential([keras.Input(input_shape), *layers, model], name=f"{model.name}_aug")


def _float32_copy(model, spec: ModelSpec, data: Splits):
    """``model``'s trained weights (float32 under mixed precision) in a float32 model, so
    evaluation, interpretation and export see plain float32 arithmetic."""
    copy = build(spec, data.input_shape, data.num_classes, dtype="float32")
    copy.set_weights(model.get_weights())
    return copy


def predict_proba(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities, batch by batch, through one traced function per model.

    Not ``model.predict``: a study that evaluates dozens of fresh models through it makes
    TensorFlow warn about retracing on every one of them.
    """
    from keras import ops

    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    forward = _inference_function(model)
    return np.concatenate(
        [ops.convert_to_numpy(forward(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    )


def _inference_function(model):
    """``batch -> model(batch, training=False)``: on TensorFlow one traced function per
    Keras model (kept while the model lives), elsewhere the model itself.

    Traced, a batch runs as one graph instead of layer by layer: on the 2-core development
    machine that cuts the test evaluation of the reference CNN by about 40 % (10,000
    images: 0.6 s instead of 1.0 s) and gives the same probabilities to the last bit.
    """
    import keras

    if keras.backend.backend() != "tensorflow" or not isinstance(model, keras.Model):
        return lambda batch: model(batch, training=False)
    forward = _TRACED.get(model)
    if forward is None:
        import tensorflow as tf

        _quiet_retracing()
        ref = weakref.ref(model)  # the function must not keep its model alive
        forward = tf.function(lambda batch: ref()(batch, training=False), reduce_retracing=True)
        _TRACED[model] = forward
    return forward


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def confusion_shares(confusion) -> np.ndarray:
    """Each row of a confusion matrix (rows: true class) divided by its sum: entry
    ``[i, j]`` is the share of class ``i`` predicted as ``j``. A class without examples
    has no shares: its row is NaN (not 0, which would read as "always wrong")."""
    m = np.asarray(confusion, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise TrainError(f"A confusion matrix must be square, got shape {m.shape}.")
    support = m.sum(axis=1, keepdims=True)
    return np.divide(m, support, out=np.full_like(m, np.nan), where=support > 0)


def per_class_accuracy(confusion) -> np.ndarray:
    """Accuracy (recall) of each true class; NaN for a class without examples."""
    return np.diag(confusion_shares(confusion)).copy()


def evaluate(model, x: np.ndarray, y: np.ndarray, num_classes: int, batch_size: int = 512) -> dict:
    """Test loss and accuracy, per-class accuracy, the confusion matrix and each image's
    predicted class."""
    probs = np.asarray(predict_proba(model, x, batch_size), dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    pred = probs.argmax(axis=1)
    # Keras' sparse categorical cross-entropy clips probabilities the same way.
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))))
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    return {
        "test_loss": loss,
        "test_accuracy": float(np.mean(pred == y)),
        "per_class_accuracy": tuple(float(a) for a in per_class_accuracy(confusion)),
        "confusion": tuple(tuple(int(v) for v in row) for row in confusion),
        "test_predictions": tuple(int(c) for c in pred),
    }


class _RetracingFilter(logging.Filter):
    """Drops TensorFlow's "N out of the last N calls to <function ...> triggered
    tf.function retracing" warning. Every freshly built model traces its own train and
    predict functions; a study that trains many models in one process is expected to, and
    the warning would land on a book page between its tables."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


RETRACING_FILTER = _RetracingFilter()


def _quiet_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if RETRACING_FILTER not in logger.filters:
        logger.addFilter(RETRACING_FILTER)


def train(
    spec: ModelSpec,
    data: Splits,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
    progress: bool = True,
) -> TrainResult:
    """Build, compile, fit (early stopping on validation loss) and evaluate on test.

    The same spec, data, config and seed give the same metrics on the same machine and
    backend (CPU).

    Args:
        spec: the architecture.
        data: model-ready splits from :func:`convlab.preprocess.make_splits`.
        config: optimiser, schedule, epochs, batch size, early stopping.
        seed: seeds weights, dropout and shuffling.
        progress: show a progress bar over epochs.
    """
    import keras

    if config.epochs < 1 or config.batch_size < 1:
        raise TrainError(f"epochs and batch_size must be >= 1, got {config}.")
    if config.precision not in PRECISIONS:
        raise TrainError(
            f"precision must be one of {', '.join(PRECISIONS)}, got {config.precision!r}."
        )
    keras.utils.set_random_seed(seed)
    _quiet_retracing()
    model = build(spec, data.input_shape, data.num_classes, dtype=config.precision)
    steps = math.ceil(len(data.x_train) / config.batch_size)
    trainer = _augmented(model, config, data.input_shape, seed)
    trainer.compile(
        optimizer=_optimizer(config, steps),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
        steps_per_execution=STEPS_PER_EXECUTION.get(keras.backend.backend(), 1),
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, desc=f"{model.name} seed {seed}", unit="epoch")
    timer = _EpochTimer(bar)
    callbacks = [timer]
    if config.patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
        )
    t0 = time.perf_counter()
    try:
        validation = (data.x_val, data.y_val)
        hist = trainer.fit(
            **fit_arguments(data.x_train, data.y_train, validation, config.batch_size, seed),
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=0,
        )
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items() if k != "learning_rate"}
    best_epoch = (
        int(np.argmin(history["val_loss"])) + 1
        if config.patience is not None
        else len(history["loss"])
    )
    # Steady state: leave out the first epoch, which includes tracing and compilation.
    steady = timer.times[1:] or timer.times
    images_per_s = len(data.x_train) / float(np.median(steady))
    if config.precision != "float32":
        model = _float32_copy(model, spec, data)
    metrics = evaluate(model, data.x_test, data.y_test, data.num_classes)
    return TrainResult(
        spec=spec,
        config=config,
        seed=seed,
        class_names=tuple(data.class_names),
        history=history,
        best_epoch=best_epoch,
        params=count_params(spec, data.input_shape, data.num_classes),
        macs_per_image=macs_per_image(spec, data.input_shape, data.num_classes),
        train_size=len(data.x_train),
        wall_time_s=wall,
        images_per_s=images_per_s,
        backend=keras.backend.backend(),
        versions=library_versions(),
        model=model,
        **metrics,
    )
