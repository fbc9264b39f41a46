"""What the build-report page shows: how, where and with what the book was built.

``convlab book build`` writes :func:`build_info` to ``_build/book-info.json`` and tells the
kernels where it is (``CONVLAB_BOOK_INFO``); the page reads it back with
:func:`load_build_info`, or computes the same facts itself when built another way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "benchmarks_markdown",
    "build_info",
    "code_revision",
    "info_rows",
    "load_build_info",
    "write_build_info",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
# Tools that shape the pages, besides the libraries that shape the numbers.
BOOK_TOOLS = ("jupyter-book", "myst-nb", "sphinx", "jupytext", "jupyter-cache")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def code_revision(root: Path = REPO_ROOT) -> str:
    """``git describe``-like revision: short commit, ``-dirty`` with uncommitted changes."""
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def _tool_versions() -> dict[str, str]:
    versions = {}
    for name in BOOK_TOOLS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def build_info(profile: str, dataset: str, results_dir: str | Path) -> dict[str, Any]:
    """Profile, dataset, backend, device, library versions and code revision (imports Keras)."""
    import keras

    from convlab.data import vouched_hashes
    from convlab.hardware import gpu_available
    from convlab.train import library_versions

    return {
        "profile": profile,
        "dataset": dataset,
        "vouched_data": sorted(vouched_hashes()),  # files accepted in place of official ones
        "backend": keras.backend.backend(),
        "device": "GPU" if gpu_available() else "CPU",
        "revision": code_revision(),
        "results_dir": str(results_dir),
        "versions": {**library_versions(), **_tool_versions()},
    }


def write_build_info(path: Path, settings) -> dict[str, Any]:
    """Write :func:`build_info` for a :class:`~convlab.book.build.BuildSettings` as JSON."""
    info = build_info(settings.profile, settings.dataset, Path(settings.results_dir).resolve())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=1, sort_keys=True))
    return info


def load_build_info() -> dict[str, Any]:
    """The facts ``convlab book build`` recorded, or the same facts computed now."""
    path = os.environ.get("CONVLAB_BOOK_INFO")
    if path and Path(path).is_file():
        return json.loads(Path(path).read_text())
    from convlab import settings

    return build_info(settings.profile_name(), settings.dataset(), settings.results_dir())


def _dataset_line(info: dict[str, Any]) -> str:
    if not info.get("vouched_data"):
        return info["dataset"]
    return (
        f"{info['dataset']} (from files vouched for by CONVLAB_VOUCHED_SHA256, not the "
        "official ones: a test build)"
    )


def info_rows(info: dict[str, Any]):
    """The build facts as a two-column table (pandas DataFrame) for the page."""
    import pandas as pd

    rows = [
        ("profile", info["profile"]),
        ("dataset", _dataset_line(info)),
        ("Keras backend", info["backend"]),
        ("device", info["device"]),
        ("code revision", info["revision"]),
    ]
    rows += [(name, version) for name, version in sorted(info["versions"].items())]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def benchmarks_markdown(root: Path = REPO_ROOT) -> str:
    """The tables in ``benchmarks/results/*.md`` as one Markdown text, each under its name.

    Headings inside a file become bold lines: a heading level that skipped one would be a
    warning, which fails the strict build. Without results, says how to make them.
    """
    files = sorted((Path(root) / "benchmarks" / "results").glob("*.md"))
    if not files:
        return "No benchmark results yet: `make bench` writes them to `benchmarks/results/`."
    parts = []
    for path in files:
        text = re.sub(r"(?m)^#+\s+(.*?)\s*#*\s*$", r"**\1**", path.read_text(encoding="utf8"))
        parts.append(
            f"**{path.stem}** (`benchmarks/results/{path.name}`)\n\n{measured_line(path)}\n\n"
            f"{text.strip()}\n"
        )
    return "\n".join(parts)


def measured_line(path: Path) -> str:
    """When, where and how a benchmark table was measured, from the ``measured`` entry of
    the JSON file written with it; says so where the file does not record it. These
    tables are read from files, not re-measured by the build that shows them."""
    record = path.with_suffix(".json")
    try:
        measured = json.loads(record.read_text(encoding="utf8")).get("measured")
    except (OSError, ValueError, AttributeError):
        measured = None
    if not measured:
        return (
            "*Read from a file, not measured by this build; the file does not record when, "
            "where or how it was measured.*"
        )
    return (
        f"*Read from a file, not measured by this build. Measured {measured.get('date', '?')} "
        f"on {measured.get('machine', '?')}, with `{measured.get('command', '?')}` at revision "
        f"{measured.get('revision', '?')}.*"
    )
