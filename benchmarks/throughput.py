"""Steady-state training throughput of a reference model on one Keras backend.

Run once per backend, in its own process (the backend is fixed at import):

    KERAS_BACKEND=jax python -m benchmarks.throughput --batch-sizes 64 128 256 512

Prints one JSON line per setting: backend, batch size, XLA on/off, images per second.
Throughput is measured on random data of the model's input shape (the arithmetic does not
depend on the pixel values) over whole epochs after one warm-up epoch that pays for
tracing and compilation.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def measure(model_name: str, batch_size: int, jit: bool, images: int, repeats: int) -> float:
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
    )
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up: trace, compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    return images / float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--jit", choices=("on", "off", "both"), default="both")
    parser.add_argument("--images", type=int, default=8192, help="images per timed epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per setting")
    args = parser.parse_args()

    import keras

    backend = keras.backend.backend()
    jits = {"on": [True], "off": [False], "both": [False, True]}[args.jit]
    if backend == "torch":
        jits = [False]  # Keras' torch backend has no XLA; jit_compile=True is torch.compile
    for jit in jits:
        for bs in args.batch_sizes:
            ips = measure(args.model, bs, jit, args.images, args.repeats)
            row = {"backend": backend, "model": args.model, "batch_size": bs, "xla": jit}
            row["images_per_s"] = round(ips, 1)
            row["threads"] = os.cpu_count()
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
