"""Shared fixtures: one smoke-profile build of the whole book per test session."""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BuiltBook:
    returncode: int
    log: str  # stdout and stderr of `convlab book build`
    build_dir: Path
    html: Path  # build_dir / "html"


# The profile the HTML and browser tests build the book in: smoke in `make test`; set
# CONVLAB_TEST_BOOK_PROFILE=quick to put the quick book through the same tests.
BOOK_PROFILE = os.environ.get("CONVLAB_TEST_BOOK_PROFILE", "smoke")


# The published site's editions, as the book workflow sets them.
EDITIONS = "fashion-mnist=.,cifar10=cifar10"


def run_book_build(root: Path, build_dir: Path, *extra: str, env: dict | None = None):
    """``python -m convlab book build`` in :data:`BOOK_PROFILE` (smoke unless set);
    returns the CompletedProcess."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    env.pop("CONVLAB_RESULTS_DIR", None)
    cmd = [sys.executable, "-m", "convlab", "book", "build", "--root", str(root)]
    cmd += ["--build-dir", str(build_dir), "--profile", BOOK_PROFILE, "--quiet", *extra]
    # cwd is the book's root, like `make book`; `python -m` also puts it first on sys.path.
    timeout = 1500 if BOOK_PROFILE == "smoke" else 7200
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> BuiltBook:
    """The repository's book, built once in the smoke profile into a temporary folder
    (results store included), for the HTML and browser tests."""
    build_dir = tmp_path_factory.mktemp("book") / "_build"
    env = {"CONVLAB_DATASET": "fashion-mnist", "CONVLAB_EDITIONS": EDITIONS}
    proc = run_book_build(REPO, build_dir, env=env)
    return BuiltBook(proc.returncode, proc.stdout + proc.stderr, build_dir, build_dir / "html")


def fake_result(spec, config, seed: int, acc: float, **fields):
    """A TrainResult without training (accuracy ``acc``); ``fields`` override the rest."""
    from convlab.train import TrainResult

    values = dict(
        spec=spec,
        config=config,
        seed=seed,
        class_names=("a", "b"),
        history={"loss": [1.0], "accuracy": [acc], "val_loss": [1.0], "val_accuracy": [acc]},
        best_epoch=1,
        test_loss=1 - acc,
        test_accuracy=acc,
        per_class_accuracy=(acc, acc),
        confusion=((1, 0), (0, 1)),
        params=10,
        macs_per_image=20,
        train_size=120,
        wall_time_s=2.0,
        images_per_s=60.0,
        backend="tensorflow",
        versions={},
    )
    return TrainResult(**{**values, **fields})


def tiny_dataset(color: bool):
    """3 classes of 4x4 images (RGB when ``color``): 5/3/4 train and 2/2/1 test images."""
    from dataclasses import replace

    import numpy as np

    from convlab.data import DATASETS, Dataset

    rng = np.random.default_rng(0)
    shape = (4, 4, 3) if color else (4, 4)
    info = replace(
        DATASETS["cifar10" if color else "fashion-mnist"],
        class_names=("cat", "dog", "eel"),
        image_shape=(4, 4, 3 if color else 1),
        train_size=12,
        test_size=5,
    )
    y_train = np.array([0, 1, 2, 0, 0, 1, 2, 0, 2, 1, 0, 2], np.uint8)
    y_test = np.array([2, 0, 1, 0, 1], np.uint8)
    return Dataset(
        info=info,
        x_train=rng.integers(0, 256, (12, *shape), dtype=np.uint8),
        y_train=y_train,
        x_test=rng.integers(3, 200, (5, *shape), dtype=np.uint8),
        y_test=y_test,
        source=None,
    )


@pytest.fixture(scope="session")
def fmnist():
    """The real Fashion-MNIST (the system copy; never downloaded in tests)."""
    from convlab.data import load

    return load("fashion-mnist", download=False)


@pytest.fixture(params=[False, True], ids=["gray", "rgb"])
def tiny(request):
    """:func:`tiny_dataset`, grayscale and RGB."""
    return tiny_dataset(request.param)


# Headless Chromium (Debian's `chromium`) for the browser tests, driven by Playwright.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not shutil.which("chromium"), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """A fresh-profile headless Chromium context, offline-clean (no first-run, no sync)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # fresh profile each run
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@contextlib.contextmanager
def serving(directory: Path):
    """``directory`` over HTTP on the loopback interface, as GitHub Pages would serve it;
    yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def figure_page(browser, figure, name: str, site: Path):
    """A page holding only ``figure`` (``convlab-{name}``), served from ``site`` and opened
    in ``browser`` once its script is ready; yields ``(page, errors)``, ``errors``
    collecting uncaught exceptions and console errors."""
    from convlab.views.embed import page as figure_html

    (site / "index.html").write_text(figure_html(figure, name), encoding="utf-8")
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        with serving(site) as url:
            tab.goto(f"{url}/index.html", wait_until="load")
            tab.wait_for_selector(f".convlab-{name}[data-ready]")
            yield tab, errors
    finally:
        tab.close()


# --------------------------------------------------------------------------- CIFAR-10 files


class Py2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2 ``str``, as in the official batches (pickled by Python 2).

    Python 3 reads those back as bytes with ``encoding="bytes"``; Python 3's own protocol 2
    would write ``_codecs.encode`` calls instead, which Keras' restricted reader refuses.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


CIFAR_BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")


def cifar_archive(batches=CIFAR_BATCHES, n=2, seed=0, n_test=None, learnable=False):
    """A CIFAR-10 python archive in the official layout; returns (bytes, {batch: dict}).

    ``n`` images per training batch (``n_test`` in the test batch, default ``n``): random
    pixels, or with ``learnable`` each class's own colour plus noise, which compresses well
    and gives a classifier something to learn (the whole-book build uses it).
    """
    import numpy as np

    from convlab.data import DATASETS

    names_of_classes = DATASETS["cifar10"].class_names
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 216, (10, 3))
    buf, contents = io.BytesIO(), {}

    def pixels(labels):
        if not learnable:
            return rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
        planes = np.repeat(colours[labels][:, :, None], 1024, axis=2)  # (N, 3, 1024)
        noise = rng.integers(-12, 13, planes.shape)
        return np.clip(planes + noise, 0, 255).astype(np.uint8).reshape(len(labels), 3072)

    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:

        def add(name, obj):
            out = io.BytesIO()
            Py2Pickler(out, protocol=2).dump(obj)
            raw = out.getvalue()
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))

        meta = {b"label_names": [c.encode() for c in names_of_classes], b"num_vis": 3072}
        add("batches.meta", meta)
        for name in batches:
            size = n if name != "test_batch" or n_test is None else n_test
            labels = rng.integers(0, 10, size)
            batch = {
                b"batch_label": f"{name} of 6".encode(),
                b"labels": [int(v) for v in labels],
                b"data": pixels(labels),
                b"filenames": [f"img_{i}.png".encode() for i in range(size)],
            }
            contents[name] = batch
            add(name, batch)
    return buf.getvalue(), contents
