"""Settings read from the environment: the book's dataset, profile and results location."""

from __future__ import annotations

import os
from pathlib import Path

from convlab.data import dataset_info

__all__ = ["dataset", "profile_name", "results_dir"]


def dataset() -> str:
    """``CONVLAB_DATASET`` (default ``fashion-mnist``), checked against the known names."""
    return dataset_info(os.environ.get("CONVLAB_DATASET", "fashion-mnist")).name


def profile_name() -> str:
    """``CONVLAB_PROFILE``; default ``full`` when a GPU is visible, ``quick`` otherwise."""
    from convlab.hardware import gpu_available

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
