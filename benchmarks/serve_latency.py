"""Latency and throughput of ``convlab serve`` over real HTTP on the loopback interface.

    python -m benchmarks.serve_latency                 # tiny model; PNG, JSON; 1 and 8 clients
    python -m benchmarks.serve_latency --model cnn     # a reference architecture (untrained)
    python -m benchmarks.serve_latency --model exports/cnn --requests 2000 --json

The server runs in its own process, exactly as ``convlab serve`` runs it, so the clients
here do not share its interpreter lock. Each request opens a connection, posts one image
(a PNG, or the same pixels as JSON ``{"instances": [image]}``) and reads the answer; its
latency is measured from connect to the last byte. For each payload and client count,
``--requests`` requests are spread over the clients after a warm-up, and p50/p99 latency
and requests per second (requests / wall time) are printed; the timing is
:func:`convlab.deploy.latency.measure_latency`, which the book's deployment chapter uses
too. Weights do not change the arithmetic, so an untrained model times the same as a
trained one.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

_SERVE = "import sys; from convlab.deploy.server import serve; serve(sys.argv[1], port=0)"


def _export(model: str, directory: Path) -> Path:
    """An export directory: ``model`` itself, or the tiny model / a reference, exported."""
    if Path(model).is_dir():
        return Path(model)
    import keras

    from convlab.deploy import export_model

    keras.utils.set_random_seed(0)
    if model == "tiny":
        net = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        dataset = "fashion-mnist"
    else:
        from convlab.data import dataset_info
        from convlab.models import REFERENCES, build, reference

        spec, dataset = reference(model), REFERENCES[model][1]
        net = build(spec, dataset_info(dataset).image_shape, 10)
    export_model(net, directory, dataset=dataset)
    return directory


def _start_server(export_dir: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(export_dir)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stderr], daemon=True).start()
    deadline, seen = time.monotonic() + 180, []
    while time.monotonic() < deadline and process.poll() is None:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        found = re.search(r"ready at (http://[\d.]+:\d+) ", seen[-1])
        if found:
            return process, found.group(1)
    process.kill()
    raise RuntimeError("the server did not become ready:\n" + "".join(seen))


def _payloads(shape: tuple[int, int, int]) -> dict[str, tuple[bytes, str]]:
    from convlab.deploy.images import encode_image

    pixels = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    return {
        "png": (encode_image(pixels, "PNG"), "image/png"),
        "json": (json.dumps({"instances": [pixels.tolist()]}).encode(), "application/json"),
    }


def measure(url: str, body: bytes, content_type: str, clients: int, requests: int) -> dict:
    """``requests`` posts spread over ``clients`` threads -> latency percentiles and rate."""
    from convlab.deploy.latency import measure_latency

    report = measure_latency(url, body, content_type, requests=requests, clients=clients)
    return {
        "clients": report.clients,
        "requests": report.requests,
        "p50_ms": round(report.p50_ms, 3),
        "p99_ms": round(report.p99_ms, 3),
        "requests_per_s": round(report.requests_per_s, 1),
        "errors": report.errors,
    }


def run(model: str = "tiny", requests: int = 500, clients: tuple[int, ...] = (1, 8)) -> list[dict]:
    """Export (if needed), serve in a subprocess, measure; one row per payload and client count."""
    from convlab.deploy import read_export

    with tempfile.TemporaryDirectory(prefix="serve-latency-") as tmp:
        export_dir = _export(model, Path(tmp) / "export")
        exported = read_export(export_dir)
        process, url = _start_server(export_dir)
        try:
            rows = []
            for payload, (body, content_type) in _payloads(exported.input_shape).items():
                for n in clients:
                    row = measure(url, body, content_type, n, requests)
                    rows.append({"model": model, "payload": payload, "bytes": len(body), **row})
            return rows
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _table(rows: list[dict]) -> str:
    head = f"{'payload':<8}{'bytes':>7}{'clients':>8}{'requests':>9}{'p50 ms':>8}{'p99 ms':>8}"
    lines = [head + f"{'req/s':>8}{'errors':>7}"]
    for r in rows:
        lines.append(
            f"{r['payload']:<8}{r['bytes']:>7}{r['clients']:>8}{r['requests']:>9}"
            f"{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['requests_per_s']:>8.0f}{r['errors']:>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="tiny, a reference name, or an export dir")
    parser.add_argument("--requests", type=int, default=500, help="per payload and client count")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--json", action="store_true", help="print one JSON line per row")
    args = parser.parse_args(argv)
    rows = run(args.model, args.requests, tuple(args.clients))
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(f"convlab serve, model {args.model!r}, {os.cpu_count()} CPUs, loopback HTTP")
        print(_table(rows))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
