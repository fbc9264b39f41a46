"""Set-up of the book's notebook kernels: start the Keras backend without native start-up noise.

TensorFlow >= 2.19 writes some start-up lines straight to the process's stderr before its
logging is initialised, whatever ``TF_CPP_MIN_LOG_LEVEL`` says (tensorflow/tensorflow#100442):
on CPUs where its oneDNN kernels are on by default, "oneDNN custom operations are on". In a
notebook kernel that is stderr output in a cell, which the strict build rejects. So a
build's kernels start with an IPython start-up file (:func:`write_startup`, found through
``IPYTHONDIR``) that imports Keras, and with it the backend, once, with the process's native
stderr, file descriptor 2, pointed at ``os.devnull``. Python's own warnings and errors still
reach the page: in a kernel they do not go through that descriptor. Chapters stay as they
are, and run unchanged outside a build (Colab shows the line, harmlessly).

On the JAX and PyTorch backends Keras does not load TensorFlow, but chapters still do
(``tf.data`` for training, the SavedModel export), later, with stderr live; so the start-up
file also imports TensorFlow, quietly, wherever it is installed.

ipykernel >= 7 also warns, on every kernel start, that its TCP sockets are not encrypted:
in a build, a dozen lines saying "susceptible to eavesdropping" for kernels that the build
starts for itself on the loopback interface. The profile's kernel configuration
(:data:`KERNEL_CONFIG`) drops that one message; every other kernel message stays.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["KERNEL_CONFIG", "native_stderr_silenced", "start_backend_quietly", "write_startup"]

KERNEL_CONFIG = """\
# Written by `convlab book build` (convlab.book.kernel). The build's kernels listen on the
# loopback interface for the build alone: drop ipykernel's warning that TCP is unencrypted.
import logging

logging.getLogger("IPKernelApp").addFilter(
    lambda record: "without encryption" not in record.getMessage()
)
"""


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at ``os.devnull`` inside the block, then restore it."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def start_backend_quietly() -> None:
    """Import Keras, and so start its backend, and TensorFlow if installed, with native
    stderr silenced."""
    import importlib.util

    with native_stderr_silenced():
        import keras  # noqa: F401

        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow  # noqa: F401


def write_startup(ipython_dir: Path) -> Path:
    """Write the start-up file that kernels run when ``IPYTHONDIR`` is ``ipython_dir``, and
    the profile's kernel configuration (:data:`KERNEL_CONFIG`); returns the start-up file."""
    profile = Path(ipython_dir) / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)
    startup = profile / "startup" / "00-convlab-backend.py"
    startup.parent.mkdir(parents=True, exist_ok=True)
    startup.write_text(
        "# Written by `convlab book build` (convlab.book.kernel): start Keras quietly.\n"
        "from convlab.book.kernel import start_backend_quietly\n\n"
        "start_backend_quietly()\n"
    )
    return startup
