"""The smoke book on the JAX backend, where JAX is installed (CI installs it).

The book runs on Keras 3, so it must build on another backend than TensorFlow. TensorFlow
stays installed (training feeds batches through ``tf.data`` on TensorFlow only, and the
SavedModel export needs it), so the build's kernels import it quietly at start-up too: its
native start-up lines would otherwise reach stderr when a chapter first imports it, and the
strict build rejects stderr. The test keeps TensorFlow's own logging on, as a user's shell
would have it. PyTorch is not tested: the book does not claim it.
"""

from __future__ import annotations

import importlib.util

import pytest
from conftest import REPO, run_book_build
from test_book_build import toc_pages

NEEDS_JAX = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason='JAX is not installed (pip install -e ".[jax]"; CI installs it)',
)


@NEEDS_JAX
def test_the_smoke_book_builds_strictly_on_the_jax_backend(tmp_path):
    env = {"KERAS_BACKEND": "jax", "CONVLAB_DATASET": "fashion-mnist", "TF_CPP_MIN_LOG_LEVEL": "0"}
    proc = run_book_build(REPO, tmp_path / "_build", env=env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    html = tmp_path / "_build" / "html"
    for page in toc_pages():
        assert (html / f"{page}.html").is_file(), page
    report = (html / "book" / "build-report.html").read_text(encoding="utf-8")
    assert "Keras backend" in report and ">jax<" in report.replace("> jax <", ">jax<")
