"""Settings read from the environment: the book's dataset, profile, arithmetic and results
location."""

from __future__ import annotations

import os
from pathlib import Path

from convlab.data import dataset_info
from convlab.errors import ConvlabError

__all__ = ["PrecisionError", "dataset", "precision_name", "profile_name", "results_dir"]


def dataset() -> str:
    """``CONVLAB_DATASET`` (default ``fashion-mnist``), checked against the known names."""
    return dataset_info(os.environ.get("CONVLAB_DATASET", "fashion-mnist")).name


def profile_name() -> str:
    """``CONVLAB_PROFILE``; default ``full`` when a GPU is visible, ``quick`` otherwise."""
    from convlab.hardware import gpu_available

    return os.environ.get("CONVLAB_PROFILE") or ("full" if gpu_available() else "quick")


class PrecisionError(ConvlabError, ValueError):
    """A ``CONVLAB_PRECISION`` that names no training precision."""


PRECISION_CHOICES = ("auto", "float32", "mixed_bfloat16")


def precision_name() -> str:
    """``CONVLAB_PRECISION``: ``auto`` (the default; mixed bfloat16 where the CPU has AMX
    units, see :func:`convlab.train.precision_for`), ``float32`` or ``mixed_bfloat16``.
    Set it to measure or rebuild in one arithmetic on any machine (for example the quick
    book's float32 budget on a CPU with AMX)."""
    name = os.environ.get("CONVLAB_PRECISION") or "auto"
    if name not in PRECISION_CHOICES:
        raise PrecisionError(
            f"CONVLAB_PRECISION must be one of {', '.join(PRECISION_CHOICES)}, got {name!r}."
        )
    return name


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
