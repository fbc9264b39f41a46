"""Steady-state training throughput of a reference model on one Keras backend.

Run once per backend, in its own process (the backend is fixed at import):

    KERAS_BACKEND=jax python -m benchmarks.throughput --batch-sizes 64 128 256 512
    python -m benchmarks.throughput --options   # TensorFlow: pipeline, steps, threads

Prints one JSON line per setting: backend, batch size, compiled or not, images per second.
"Compiled" is Keras' ``jit_compile``: XLA on TensorFlow and JAX (JAX without it runs
eagerly, op by op), ``torch.compile`` on PyTorch. Throughput is measured on random data
of the model's input shape (the arithmetic does not depend on the pixel values) over whole
epochs after one warm-up epoch that pays for tracing and compilation.

Every row trains the way :func:`convlab.train.train` does: its input pipeline
(:func:`convlab.train.fit_arguments`) and its steps per call
(:data:`convlab.train.STEPS_PER_EXECUTION`). ``--options`` compares, at batch 128 without
XLA, that default with the alternatives: Keras' own pipeline for NumPy arrays (tf.data with
autotuning), 1 or 16 steps per call, mixed bfloat16 precision (bfloat16 arithmetic on
float32 weights; every other row is float32), TensorFlow's inter-op thread pool, and (with
``TF_ENABLE_ONEDNN_OPTS`` set to 0 or 1) TensorFlow's oneDNN kernels off or on.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def measure(
    model_name: str,
    batch_size: int,
    jit: bool,
    images: int,
    repeats: int,
    steps_per_execution: int | None = None,
    pipeline: str = "convlab",
    precision: str = "float32",
) -> list[float]:
    """Images/s of each of ``repeats`` epochs of ``images`` random images.

    ``pipeline``: ``"convlab"`` (the training default) or ``"keras"`` (NumPy arrays, which
    Keras feeds itself); ``steps_per_execution`` ``None``: the training default.
    """
    import keras

    from convlab.data import dataset_info
    from convlab.models import REFERENCES, build
    from convlab.train import STEPS_PER_EXECUTION, fit_arguments

    spec, dataset, _ = REFERENCES[model_name]
    shape = dataset_info(dataset).image_shape
    rng = np.random.default_rng(0)
    x = rng.random((images, *shape), dtype=np.float32)
    y = rng.integers(0, 10, images).astype(np.int32)
    keras.utils.set_random_seed(0)
    model = build(spec, shape, 10, dtype=precision)
    if steps_per_execution is None:
        steps_per_execution = STEPS_PER_EXECUTION.get(keras.backend.backend(), 1)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit,
        steps_per_execution=steps_per_execution,
    )
    if pipeline == "convlab":
        data = fit_arguments(x, y, None, batch_size, seed=0)
    elif pipeline == "keras":
        data = {"x": x, "y": y, "batch_size": batch_size, "shuffle": True}
    else:
        raise ValueError(f"pipeline must be 'convlab' or 'keras', got {pipeline!r}")

    def epoch():
        model.fit(**data, epochs=1, verbose=0)

    epoch()  # warm-up: trace, compile
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch()
        rates.append(images / (time.perf_counter() - t0))
    return rates


def _row(backend: str, model: str, batch_size: int, jit: bool, rates: list, **extra) -> dict:
    """One JSON line: the median epoch's images/s, and the slowest and fastest epochs'."""
    row = {"backend": backend, "model": model, "batch_size": batch_size, "compiled": jit}
    row.update(extra)
    row["images_per_s"] = round(float(np.median(rates)), 1)
    row["epochs_images_per_s"] = [round(r, 1) for r in rates]
    row["threads"] = os.cpu_count()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--jit", choices=("on", "off", "both"), default="both")
    parser.add_argument("--images", type=int, default=8192, help="images per timed epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per setting")
    parser.add_argument("--options", action="store_true", help="TensorFlow knobs at batch 128")
    parser.add_argument(
        "--inter-op",
        type=int,
        help="with --options: only the default, with this many "
        "TensorFlow inter-op threads (set before TensorFlow starts)",
    )
    args = parser.parse_args()

    import keras

    backend = keras.backend.backend()
    if args.options:
        if backend != "tensorflow":
            parser.error(
                "--options measures TensorFlow settings; run with KERAS_BACKEND=tensorflow"
            )
        import tensorflow as tf

        keras_arrays = {"pipeline": "keras"}
        settings = [
            ("convlab: tf.data without autotuning, 16 steps per call", {}),
            ("convlab's tf.data, 1 step per call", {"steps_per_execution": 1}),
            (
                "Keras' own (NumPy arrays), 1 step per call",
                {**keras_arrays, "steps_per_execution": 1},
            ),
            (
                "Keras' own (NumPy arrays), 16 steps per call",
                {**keras_arrays, "steps_per_execution": 16},
            ),
            (
                "convlab, mixed bfloat16 (against the bfloat16 limit)",
                {"precision": "mixed_bfloat16"},
            ),
        ]
        if args.inter_op:
            tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
            settings = [(f"convlab, inter-op threads = {args.inter_op} (default: all cores)", {})]
        elif os.environ.get("TF_ENABLE_ONEDNN_OPTS") in ("0", "1"):
            # Read by TensorFlow at start-up: the caller sets it (benchmarks.run does).
            state = "on" if os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1" else "off"
            settings = [(f"convlab, oneDNN {state} (TF_ENABLE_ONEDNN_OPTS)", {})]
        for label, kwargs in settings:
            rates = measure(args.model, 128, False, args.images, args.repeats, **kwargs)
            precision = kwargs.get("precision", "float32")
            row = _row(backend, args.model, 128, False, rates, setting=label, precision=precision)
            print(json.dumps(row), flush=True)
        return
    jits = {"on": [True], "off": [False], "both": [False, True]}[args.jit]
    for jit in jits:
        for bs in args.batch_sizes:
            rates = measure(args.model, bs, jit, args.images, args.repeats)
            print(json.dumps(_row(backend, args.model, bs, jit, rates)), flush=True)


if __name__ == "__main__":
    main()
