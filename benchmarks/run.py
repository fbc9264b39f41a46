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


def _tensorflow_onednn() -> bool:
    """Whether TensorFlow uses its oneDNN kernels by default on this machine."""
    code = "from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())"
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return out.stdout.strip().endswith("True")


def add_fractions(rows: list[dict], limit_ips: float, bfloat16_limit_ips: float) -> None:
    """Each row's images/s as a fraction of the limit of its precision (float32 unless the
    row says ``"precision": "mixed_bfloat16"``)."""
    for row in rows:
        bf16 = row.get("precision") == "mixed_bfloat16"
        limit = bfloat16_limit_ips if bf16 else limit_ips
        row["fraction_of_limit"] = round(row["images_per_s"] / limit, 3)


def throughput(batch_sizes: list[int], model: str = "cnn", images: int = 8192) -> dict:
    from benchmarks.matmul import flops_per_image
    from convlab.data import dataset_info
    from convlab.models import REFERENCES, macs_per_image

    spec, dataset, _ = REFERENCES[model]
    macs = macs_per_image(spec, dataset_info(dataset).image_shape, 10)
    limit = _run_module("benchmarks.matmul", [])[0]
    limit_ips = limit["gflops"] * 1e9 / flops_per_image(macs)
    common = ["--model", model, "--images", str(images)]
    rows, options, missing, onednn_default = [], [], [], None
    for backend in ("tensorflow", "jax", "torch"):
        if not _installed(backend):
            missing.append(backend)
            continue
        bs = [str(b) for b in batch_sizes]
        env = {"KERAS_BACKEND": backend}
        rows += _run_module("benchmarks.throughput", [*common, "--batch-sizes", *bs], env=env)
    if "tensorflow" not in missing:
        env = {"KERAS_BACKEND": "tensorflow"}
        options += _run_module("benchmarks.throughput", [*common, "--options"], env=env)
        options += _run_module(
            "benchmarks.throughput", [*common, "--options", "--inter-op", "1"], env=env
        )
        # TensorFlow turns its oneDNN kernels on by default only on some CPUs: measure the
        # other state than this machine's default.
        onednn_default = _tensorflow_onednn()
        env = {**env, "TF_ENABLE_ONEDNN_OPTS": "0" if onednn_default else "1"}
        options += _run_module("benchmarks.throughput", [*common, "--options"], env=env)
    limit_bf16_ips = limit["bfloat16_gflops"] * 1e9 / flops_per_image(macs)
    add_fractions(rows + options, limit_ips, limit_bf16_ips)
    return {
        "model": model,
        "macs_per_image": macs,
        "train_flops_per_image": flops_per_image(macs),
        "matmul": limit,
        "limit_images_per_s": round(limit_ips, 1),
        "bfloat16_limit_images_per_s": round(limit_bf16_ips, 1),
        "rows": rows,
        "tensorflow_options": options,
        "tensorflow_onednn_default": onednn_default,
        "backends_not_installed": missing,
    }


_COMPILED = {
    "tensorflow": ("XLA", "off"),
    "jax": ("XLA (jit)", "eager"),
    "torch": ("torch.compile", "eager"),
}


def _spread(row: dict) -> str:
    rates = row.get("epochs_images_per_s") or [row["images_per_s"]]
    return f"{min(rates):,.0f} - {max(rates):,.0f}"


def _onednn_default(default: bool | None) -> str:
    if default is None:
        return "."
    return (
        f" (TensorFlow's oneDNN kernels are {'on' if default else 'off'} by default on this CPU)."
    )


def throughput_markdown(r: dict) -> str:
    lines = [
        f"Training throughput of the reference `{r['model']}` "
        f"({r['train_flops_per_image'] / 1e6:.1f} MFLOP per training image). Machine limit: "
        f"{r['matmul']['gflops']} GFLOP/s float32 matmul (best of "
        + ", ".join(
            f"{k.removesuffix('_gflops')} {v}"
            for k, v in r["matmul"].items()
            if k not in ("gflops", "bfloat16_gflops")
        )
        + f") = {r['limit_images_per_s']:,.0f} images/s; bfloat16 matmul: "
        f"{r['matmul']['bfloat16_gflops']} GFLOP/s = "
        f"{r['bfloat16_limit_images_per_s']:,.0f} images/s, the limit of the mixed bfloat16 "
        "row.",
        "",
        "Each row trains as `convlab.train` does (its input pipeline and steps per call), in "
        "float32; images/s is the median timed epoch, beside the slowest and fastest.",
        "",
        "| backend | batch | compiled | images/s | slowest - fastest | of limit |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in r["rows"]:
        on, off = _COMPILED[row["backend"]]
        lines.append(
            f"| {row['backend']} | {row['batch_size']} | {on if row['compiled'] else off} | "
            f"{row['images_per_s']:,.0f} | {_spread(row)} | {row['fraction_of_limit']:.0%} |"
        )
    if r["tensorflow_options"]:
        lines += [
            "",
            "TensorFlow at batch 128, no XLA: the training default against the alternatives"
            + _onednn_default(r.get("tensorflow_onednn_default")),
            "",
            "| input pipeline, steps per call | images/s | slowest - fastest | of limit |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {o['setting']} | {o['images_per_s']:,.0f} | {_spread(o)} | "
            f"{o['fraction_of_limit']:.0%} |"
            for o in r["tensorflow_options"]
        ]
    if r["backends_not_installed"]:
        lines += [
            "",
            f"Not installed here: {', '.join(r['backends_not_installed'])} "
            "(`pip install -e .[bench]`).",
        ]
    return "\n".join(lines) + "\n"


def book(profiles: list[str], log: Path = RESULTS / "book-build.log") -> dict:
    """Cold then warm build of the whole book per profile, as ``make book`` runs it.

    Cold: an empty results store (its own directory under ``_build/bench-results``) and
    ``--fresh`` (no execution cache), so every model is trained. Warm: the same command
    again, nothing changed. Build output goes to ``log``.
    """
    import shutil

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with log.open("w") as out:
        for profile in profiles:
            store = ROOT / "_build" / "bench-results" / profile
            shutil.rmtree(store, ignore_errors=True)
            env = {**os.environ, "CONVLAB_RESULTS_DIR": str(store)}
            for kind in ("cold", "warm"):
                args = [sys.executable, "-m", "convlab", "book", "build", "--profile", profile]
                if kind == "cold":
                    args.append("--fresh")
                out.write(f"$ {' '.join(args[1:])}  # {kind}\n")
                out.flush()
                t0 = time.perf_counter()
                subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=out, stderr=out)
                wall = round(time.perf_counter() - t0, 1)
                rows.append({"profile": profile, "build": kind, "wall_s": wall})
                print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "cpu_count": os.cpu_count()}


def book_markdown(r: dict) -> str:
    lines = [
        f"Whole-book build (`convlab book build`, all chapters) on {r['cpu_count']} CPU cores. "
        "Cold: empty results store and execution cache; warm: the same build again.",
        "",
        "| profile | build | wall time |",
        "|---|---|---:|",
    ]
    lines += [
        f"| {x['profile']} | {x['build']} | {x['wall_s']:.0f} s ({x['wall_s'] / 60:.1f} min) |"
        for x in r["rows"]
    ]
    return "\n".join(lines) + "\n"


def _measured(name: str) -> dict:
    """When, where and how a result file was measured (the build report prints it)."""
    from convlab.book.report import code_revision
    from convlab.hardware import machine_description

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_description(),
        "command": f"python -m benchmarks.run --only {name}",
        "revision": code_revision(ROOT),
    }


def _write(name: str, result: dict, markdown: str) -> None:
    result = {**result, "measured": _measured(name)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="convlab benchmarks")
    parser.add_argument("--only", nargs="+", choices=("throughput", "accuracy", "book"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--profiles", nargs="+", default=["smoke", "quick"])
    parser.add_argument("--images", type=int, default=8192, help="throughput: images/epoch")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--studies",
        nargs="*",
        default=["augmentation", "capacity"],
        help="accuracy: also train these studies in full (their arms are the candidates for "
        "the reference CNN's training and the best study arm)",
    )
    args = parser.parse_args(argv)
    sections = args.only or ["throughput", "accuracy", "book"]
    if "throughput" in sections:
        r = throughput(args.batch_sizes, images=args.images)
        _write("throughput", r, throughput_markdown(r))
    if "accuracy" in sections:
        from benchmarks.accuracy import accuracy, accuracy_markdown

        r = accuracy(args.seeds, studies=tuple(args.studies))
        _write("accuracy", r, accuracy_markdown(r))
    if "book" in sections:
        r = book(args.profiles)
        _write("book", r, book_markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
