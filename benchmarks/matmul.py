"""The machine's float32 (and bfloat16) arithmetic limit, measured as dense matmul GFLOP/s.

    python -m benchmarks.matmul

A square float32 matmul is the best case for a CPU or GPU: the rate it reaches bounds what
any convolution (itself lowered to matrix products) can reach. Prints JSON with the best of
NumPy's BLAS and the active Keras backend's matmul.
"""

from __future__ import annotations

import json
import time

import numpy as np


def gflops(matmul, n: int = 2048, repeats: int = 10, cast=lambda x: x) -> float:
    """Best-of-``repeats`` GFLOP/s of ``matmul`` on ``n`` x ``n`` float32 matrices
    (``cast`` to another type first, outside the timing)."""
    rng = np.random.default_rng(0)
    a = cast(rng.random((n, n), dtype=np.float32))
    b = cast(rng.random((n, n), dtype=np.float32))
    matmul(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def backend_matmul():
    """A matmul through the active Keras backend that waits for its result."""
    import keras
    from keras import ops

    def run(a, b):
        return ops.convert_to_numpy(ops.matmul(ops.convert_to_tensor(a), ops.convert_to_tensor(b)))

    return keras.backend.backend(), run


def measure() -> dict:
    """float32 GFLOP/s of NumPy and the backend (``gflops``: the best), and the backend's
    bfloat16 GFLOP/s (``bfloat16_gflops``), the limit of mixed-precision training."""
    from keras import ops

    backend, run = backend_matmul()
    result = {"numpy_gflops": round(gflops(np.matmul), 1)}
    result[f"{backend}_gflops"] = round(gflops(run), 1)
    result["gflops"] = max(v for k, v in result.items() if k.endswith("_gflops"))

    def bfloat16(x):
        return ops.cast(ops.convert_to_tensor(x), "bfloat16")

    def run_bfloat16(a, b):
        return ops.convert_to_numpy(ops.cast(ops.matmul(a, b), "float32"))

    result["bfloat16_gflops"] = round(gflops(run_bfloat16, cast=bfloat16), 1)
    return result


def flops_per_image(macs: int) -> int:
    """Forward + backward FLOPs of one training image: 2 FLOPs per multiply-add forward,
    and the backward pass costs about twice the forward (gradients for inputs and weights)."""
    return 3 * 2 * macs


if __name__ == "__main__":
    print(json.dumps(measure()))
