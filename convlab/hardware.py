"""What this machine computes with: a GPU the Keras backend sees, the CPU's model and flags."""

from __future__ import annotations

__all__ = ["cpu_flags", "cpu_model", "gpu_available", "machine_description"]


def gpu_available() -> bool:
    """Whether the active Keras backend sees a GPU (imports the backend)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` says."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    """The CPU's feature flags (``/proc/cpuinfo``), or ``""`` where there is none to read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
    except OSError:  # not Linux: nothing cheap to read
        return ""
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return line.split(":", 1)[1].strip()
    return ""


def machine_description() -> str:
    """The CPU as a timing should name it: model, vector and matrix units, core count,
    e.g. ``"Intel(R) Xeon(R) Processor (AVX-512, AMX bfloat16), 2 CPUs"``."""
    import os

    flags = set(cpu_flags().split())
    units = [
        name
        for flag, name in (("avx512f", "AVX-512"), ("amx_bf16", "AMX bfloat16"))
        if flag in flags
    ]
    if not units and "avx2" in flags:
        units = ["AVX2"]
    extra = f" ({', '.join(units)})" if units else ""
    return f"{cpu_model()}{extra}, {os.cpu_count()} CPUs"
