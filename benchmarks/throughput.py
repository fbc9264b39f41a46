"""Steady-state training throughput of a reference model on one Keras backend.

Run once per backend, in its own process (the backend is fixed at import):

    KERAS_BACKEND=jax python -m benchmarks.throughput --batch-sizes 64 128 256 512
    python -m benchmarks.throughput --options   # TensorFlow: pipeline, steps, threads

Prints one JSON line per setting: backend, batch size, compiled or not, images per second.
"Compiled" is Keras' ``jit_compile``: XLA on TensorFlow and JAX (JAX without it runs
eagerly, op by op), ``torch.compile`` on PyTorch. Throughput is measured on random data
of the model's input shape (the arithmetic does not depend on the pixel values) over whole
epochs after one warm-up epoch that pays for tracing and compilation.

``--options`` measures, at batch 128 without XLA, the other knobs a training default could
set: Keras' ``steps_per_execution``, a ``tf.data`` pipeline instead of NumPy arrays, and
TensorFlow's inter-op thread pool.
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
    steps_per_execution: int = 1,
    pipeline: str = "numpy",
) -> float:
    """Median images/s over ``repeats`` epochs of ``images`` random images."""
    import keras

    from convlab.data import dataset_info
    from convlab.models import REFERENCES, build

    spec, dataset, _ = REFERENCES[model_name]
    shape = dataset_info(dataset).image_shape
    rng = np.random.default_rng(0)
    x = rng.random((images, *shape), dtype=np.float32)
    y = rng.integers(0, 10, images).astype(np.int32)
    keras.utils.set_random_seed(0)
    model = build(spec, shape, 10)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit,
        steps_per_execution=steps_per_execution,
    )
    if pipeline == "tf.data":
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(images).batch(batch_size)
        ds = ds.prefetch(tf.data.AUTOTUNE)

        def epoch():
            model.fit(ds, epochs=1, verbose=0)
    else:

        def epoch():
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)

    epoch()  # warm-up: trace, compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return images / float(np.median(times))


def _row(backend: str, model: str, batch_size: int, jit: bool, ips: float, **extra) -> dict:
    row = {"backend": backend, "model": model, "batch_size": batch_size, "compiled": jit}
    row.update(extra)
    row["images_per_s"] = round(ips, 1)
    row["threads"] = os.cpu_count()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--jit", choices=("on", "off", "both"), default="both")
    parser.add_argument("--images", type=int, default=8192, help="images per timed epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per setting")
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

        settings = [
            ("default (NumPy arrays, 1 step per call)", {}),
            ("steps_per_execution=16", {"steps_per_execution": 16}),
            ("tf.data pipeline, prefetch", {"pipeline": "tf.data"}),
        ]
        if args.inter_op:
            tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
            settings = [(f"inter-op threads = {args.inter_op} (default: all cores)", {})]
        for label, kwargs in settings:
            ips = measure(args.model, 128, False, args.images, args.repeats, **kwargs)
            print(json.dumps(_row(backend, args.model, 128, False, ips, setting=label)), flush=True)
        return
    jits = {"on": [True], "off": [False], "both": [False, True]}[args.jit]
    for jit in jits:
        for bs in args.batch_sizes:
            ips = measure(args.model, bs, jit, args.images, args.repeats)
            print(json.dumps(_row(backend, args.model, bs, jit, ips)), flush=True)


if __name__ == "__main__":
    main()
