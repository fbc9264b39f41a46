"""Book-level settings read from the environment: dataset, profile and results location."""

from __future__ import annotations

import os
from pathlib import Path

from convlab.data import dataset_info

__all__ = ["dataset", "gpu_available", "models_for", "profile_name", "results_dir"]

# The baseline and the CNN each dataset's chapters compare (reference names in convlab.models).
# The baseline is the stronger of the two reference MLPs, chosen on validation accuracy
# (full profile, seed 0: 256-128 units 90.17 %, 128 units 88.85 %): a CNN should have to
# beat a good MLP, and the 256-128 one has more parameters than the reference CNN.
_MODELS = {
    "fashion-mnist": ("mlp-256-128", "cnn"),
    "mnist": ("mlp-256-128", "cnn"),
    "cifar10": ("cifar-mlp", "cifar-cnn"),
}


def dataset() -> str:
    """``CONVLAB_DATASET`` (default ``fashion-mnist``), checked against the known names."""
    return dataset_info(os.environ.get("CONVLAB_DATASET", "fashion-mnist")).name


def models_for(name: str) -> tuple[str, str]:
    """The reference (baseline, CNN) model names for a dataset."""
    return _MODELS[dataset_info(name).name]


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


def profile_name() -> str:
    """``CONVLAB_PROFILE``; default ``full`` when a GPU is visible, ``quick`` otherwise."""
    return os.environ.get("CONVLAB_PROFILE") or ("full" if gpu_available() else "quick")


def results_dir() -> Path:
    """Where run records live.

    ``CONVLAB_RESULTS_DIR`` if set; in a checkout of the repository, ``_build/results`` at
    its root (beside the book's HTML, ignored by git); elsewhere (Colab, an installed
    package) ``convlab-results`` in the working directory.
    """
    env = os.environ.get("CONVLAB_RESULTS_DIR")
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parent.parent
    if (root / "_config.yml").is_file():
        return root / "_build" / "results"
    return Path.cwd() / "convlab-results"
