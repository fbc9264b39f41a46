"""``convlab export``, ``convlab serve`` and ``convlab predict`` as a user runs them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest
from PIL import Image

from convlab.cli import main
from convlab.data import dataset_info
from convlab.deploy import read_export

NAMES = dataset_info("fashion-mnist").class_names
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def convlab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convlab", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("trained") / "model.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def export_dir(keras_file, tmp_path_factory):
    # In-process, as the export is slow; `serve` and `predict` run as subprocesses below.
    out = tmp_path_factory.mktemp("cli") / "export"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["export", "--model", str(keras_file), "--out", str(out)]) == 0
    assert f"serve it with: convlab serve --model {out}" in stdout.getvalue()
    return out


@pytest.fixture(scope="module")
def served(export_dir):
    """`convlab serve --port 0` in a subprocess; yields (process, URL, stderr lines queue)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "convlab", "serve", "--model", str(export_dir), "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stderr], daemon=True
    )
    reader.start()
    try:
        url, seen, deadline = None, [], time.monotonic() + 120
        while url is None and time.monotonic() < deadline and process.poll() is None:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(r"ready at (http://127\.0\.0\.1:\d+) ", seen[-1])
            url = found and found.group(1)
        assert url, f"no ready line; stderr so far:\n{''.join(seen)}"
        yield process, url, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_export_writes_a_servable_directory(export_dir):
    exported = read_export(export_dir)
    assert exported.class_names == NAMES and exported.tarball_path.is_file()


def test_export_refuses_to_overwrite_and_names_the_flag(keras_file, export_dir, capsys):
    assert main(["export", "--model", str(keras_file), "--out", str(export_dir)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_export_explains_a_missing_model(tmp_path, capsys):
    args = ["export", "--model", str(tmp_path / "none.keras"), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "none.keras does not exist" in capsys.readouterr().err


def test_predict_images_and_json_against_serve(served, tmp_path):
    _, url, _ = served
    x = np.random.default_rng(0).integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(x[0]).save(buffer, "PNG")
    (tmp_path / "shoe.png").write_bytes(buffer.getvalue())
    (tmp_path / "batch.json").write_text(json.dumps({"instances": x.tolist()}))
    args = ["predict", "--url", url, str(tmp_path / "shoe.png"), "--json"]
    result = convlab(*args, str(tmp_path / "batch.json"), "--top-k", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{tmp_path / 'shoe.png'}: ")
    assert lines[1].startswith(f"{tmp_path / 'batch.json'}[0]: ")
    # "Class 12.3% (Other 4.5%)": a class name, then exactly one runner-up for --top-k 2.
    pattern = "|".join(re.escape(n) for n in NAMES)
    for line in lines:
        assert re.search(rf": ({pattern}) \d+\.\d% \(({pattern}) \d+\.\d%\)$", line), line
    # The PNG and the first JSON instance are the same pixels.
    assert lines[0].split(": ")[1] == lines[1].split(": ")[1]

    raw = convlab("predict", "--url", url, "--raw", str(tmp_path / "shoe.png"))
    answer = json.loads(raw.stdout)
    assert answer["input"] == str(tmp_path / "shoe.png")
    assert answer["predictions"][0]["class"] in NAMES


def test_predict_reports_refused_inputs_and_goes_on(served, tmp_path):
    _, url, _ = served
    (tmp_path / "bad.json").write_text('{"instances": [[1, 2]]}')
    (tmp_path / "good.json").write_text(json.dumps({"instances": [[[0] * 28] * 28]}))
    result = convlab(
        "predict",
        "--url",
        url,
        "--json",
        str(tmp_path / "bad.json"),
        "--json",
        str(tmp_path / "good.json"),
    )
    assert result.returncode == 1
    assert "bad.json: error:" in result.stderr and "answered 400" in result.stderr
    assert "good.json: " in result.stdout


def test_predict_usage_errors():
    assert "at least one IMAGE" in convlab("predict").stderr
    missing = convlab("predict", "/nonexistent/x.png")
    assert missing.returncode == 2 and "cannot be read" in missing.stderr


def test_ctrl_c_stops_serve_cleanly(served):
    process, _, lines = served
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    # The reader thread may still be passing on the last lines.
    rest, deadline = [], time.monotonic() + 10
    while not any("stopped" in line for line in rest) and time.monotonic() < deadline:
        try:
            rest.append(lines.get(timeout=1))
        except queue.Empty:
            continue
    assert any("stopped" in line for line in rest), rest
