"""Run the benchmarks and write ``benchmarks/results/*.json`` and ``*.md``.

    make bench                                   # everything this machine can run
    python -m benchmarks.run --only throughput   # one section: throughput, accuracy, book

Sections:
  throughput  training images/s of the reference CNN per Keras backend, batch size and XLA
              setting, beside the machine's matmul-bound limit and the ratio to it;
  accuracy    reference MLP and CNN on the full dataset, mean +/- std over seeds;
  book        book build wall time per profile (cold) and the warm rebuild.

Backends that are not installed are reported as such (``pip install jax`` or ``torch``);
each backend runs in its own process because Keras fixes the backend at import.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def _run_module(module: str, args: list[str], env: dict | None = None) -> list[dict]:
    """Run ``python -m module args`` and parse the JSON lines it prints."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _installed(module: str) -> bool:
    return (
        subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode
        == 0
    )


def throughput(batch_sizes: list[int], model: str = "cnn") -> dict:
    from benchmarks.matmul import flops_per_image
    from convlab.data import dataset_info
    from convlab.models import REFERENCES, macs_per_image

    spec, dataset, _ = REFERENCES[model]
    macs = macs_per_image(spec, dataset_info(dataset).image_shape, 10)
    limit = _run_module("benchmarks.matmul", [])[0]
    limit_ips = limit["gflops"] * 1e9 / flops_per_image(macs)
    rows, missing = [], []
    for backend, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch")):
        if not _installed(module):
            missing.append(backend)
            continue
        bs = [str(b) for b in batch_sizes]
        for row in _run_module(
            "benchmarks.throughput",
            ["--model", model, "--batch-sizes", *bs],
            env={"KERAS_BACKEND": backend},
        ):
            row["fraction_of_limit"] = round(row["images_per_s"] / limit_ips, 3)
            rows.append(row)
    return {
        "model": model,
        "macs_per_image": macs,
        "train_flops_per_image": flops_per_image(macs),
        "matmul": limit,
        "limit_images_per_s": round(limit_ips, 1),
        "rows": rows,
        "backends_not_installed": missing,
    }


def throughput_markdown(r: dict) -> str:
    lines = [
        f"Training throughput of the reference `{r['model']}` "
        f"({r['train_flops_per_image'] / 1e6:.1f} MFLOP per training image). Machine limit: "
        f"{r['matmul']['gflops']} GFLOP/s float32 matmul = "
        f"{r['limit_images_per_s']:,.0f} images/s.",
        "",
        "| backend | batch | XLA | images/s | of limit |",
        "|---|---:|---|---:|---:|",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['backend']} | {row['batch_size']} | {'on' if row['xla'] else 'off'} | "
            f"{row['images_per_s']:,.0f} | {row['fraction_of_limit']:.0%} |"
        )
    if r["backends_not_installed"]:
        lines += ["", f"Not installed here: {', '.join(r['backends_not_installed'])}."]
    return "\n".join(lines) + "\n"


def book(profiles: list[str]) -> dict:
    rows = []
    for profile in profiles:
        for kind in ("cold", "warm"):
            args = [sys.executable, "-m", "convlab", "book", "build", "--profile", profile]
            if kind == "cold":
                args.append("--fresh")
            t0 = time.perf_counter()
            subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
            rows.append(
                {"profile": profile, "build": kind, "wall_s": round(time.perf_counter() - t0, 1)}
            )
    return {"rows": rows}


def book_markdown(r: dict) -> str:
    lines = ["| profile | build | wall time |", "|---|---|---:|"]
    lines += [f"| {x['profile']} | {x['build']} | {x['wall_s']:.0f} s |" for x in r["rows"]]
    return "\n".join(lines) + "\n"


def _write(name: str, result: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="convlab benchmarks")
    parser.add_argument("--only", nargs="+", choices=("throughput", "accuracy", "book"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--profiles", nargs="+", default=["smoke", "quick"])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    sections = args.only or ["throughput", "accuracy", "book"]
    if "throughput" in sections:
        r = throughput(args.batch_sizes)
        _write("throughput", r, throughput_markdown(r))
    if "accuracy" in sections:
        from benchmarks.accuracy import accuracy, accuracy_markdown

        r = accuracy(args.seeds)
        _write("accuracy", r, accuracy_markdown(r))
    if "book" in sections:
        r = book(args.profiles)
        _write("book", r, book_markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
