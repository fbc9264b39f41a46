"""The results store: one JSON record per training run, keyed by a hash of its inputs.

A run's key is the SHA-256 of its inputs serialised as sorted-keys JSON: model spec,
training config, seed, dataset, the data slice it saw, profile name, and a hash of the
convlab modules that determine a result (so editing ``train.py`` retrains, while editing
the CLI or the book does not). Records are written atomically (a temporary file in the
same directory, then ``os.replace``), so a killed process loses at most the run in
progress; a record that cannot be read is reported and treated as missing.

Layout: ``<root>/<profile>/<dataset>/<key>.json`` (and ``<key>.keras`` for kept models).

Example:
    >>> store = ResultsStore("/tmp/convlab-results")  # doctest: +SKIP
    >>> store.load(inputs) is None  # not trained yet  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from convlab.train import TrainResult

__all__ = [
    "RESULT_MODULES",
    "SCHEMA",
    "ResultsStore",
    "StoreWarning",
    "code_hash",
    "git_revision",
    "run_inputs",
    "run_key",
    "source_hash",
]

SCHEMA = 1  # bump when the meaning of a record changes
_PACKAGE = Path(__file__).resolve().parent.parent
# The modules whose code decides what a run measures; their hash is part of every key.
RESULT_MODULES = ("data.py", "preprocess.py", "models.py", "train.py", "experiments/variants.py")


class StoreWarning(UserWarning):
    """A record that could not be used (corrupt, partial, or from other inputs)."""


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 of the convlab modules that determine a run's result (:data:`RESULT_MODULES`)."""
    return _hash_files([_PACKAGE / m for m in RESULT_MODULES])


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 of every ``.py`` file of the convlab package (provenance only)."""
    return _hash_files(sorted(_PACKAGE.rglob("*.py")))


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """``git rev-parse HEAD`` of the checkout convlab runs from, or ``None``."""
    try:
        out = subprocess.run(
            ["git", "-C", str(_PACKAGE.parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _plain(obj: Any) -> Any:
    """Dataclasses and tuples -> JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.loads(json.dumps(obj))


def run_inputs(spec, config, seed: int, dataset: str, data: Mapping, profile: str) -> dict:
    """Everything that determines a run's result, as plain JSON (what the key hashes)."""
    return {
        "schema": SCHEMA,
        "spec": _plain(spec),
        "config": _plain(config),
        "seed": int(seed),
        "dataset": str(dataset),
        "data": _plain(dict(data)),
        "profile": str(profile),
        "code": code_hash(),
    }


def run_key(inputs: Mapping) -> str:
    """The stable key of a run: SHA-256 of its inputs as sorted-keys, compact JSON."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultsStore:
    """A directory of run records (default: :func:`convlab.settings.results_dir`).

    ``problems`` lists, in words, every record that could not be used (each was also
    reported with a :class:`StoreWarning`); the caller retrains those runs.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        if root is None:
            from convlab.settings import results_dir

            root = results_dir()
        self.root = Path(root).expanduser()
        self.problems: list[str] = []

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.root)!r})"

    def path(self, inputs: Mapping) -> Path:
        """Where the record of a run with these inputs lives."""
        return self.root / inputs["profile"] / inputs["dataset"] / f"{run_key(inputs)}.json"

    def model_path(self, inputs: Mapping) -> Path:
        """Where the trained model of a run is kept (``keep_model=True``)."""
        return self.path(inputs).with_suffix(".keras")

    def _report(self, path: Path, why: str) -> None:
        msg = f"Ignoring unusable record {path} ({why}); the run will be retrained."
        self.problems.append(msg)
        warnings.warn(msg, StoreWarning, stacklevel=3)

    def load(self, inputs: Mapping, with_model: bool = False) -> TrainResult | None:
        """The stored result of a run, or ``None`` if there is none that can be used.

        Args:
            inputs: from :func:`run_inputs`.
            with_model: also load the kept Keras model into ``result.model``; a record
                without a readable model then counts as missing.
        """
        path = self.path(inputs)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("key") != run_key(inputs) or run_key(record["inputs"]) != record["key"]:
                raise ValueError("its key does not match its inputs")
            result = TrainResult.from_dict(record["result"])
        except Exception as exc:  # any unreadable record is retrained, never fatal
            self._report(path, f"{type(exc).__name__}: {exc}"[:300])
            return None
        if with_model:
            model_path = self.model_path(inputs)
            if not model_path.exists():
                return None  # trained without keep_model: retrain to get the model
            try:
                import keras

                model = keras.saving.load_model(model_path)
            except Exception as exc:
                self._report(model_path, f"{type(exc).__name__}: {exc}"[:300])
                return None
            result = dataclasses.replace(result, model=model)
        return result

    def save(self, inputs: Mapping, result: TrainResult, with_model: bool = False) -> Path:
        """Write a run's record atomically (model first, so a record implies its model)."""
        path = self.path(inputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        if with_model:
            if result.model is None:
                raise ValueError("with_model=True needs a result that holds its model.")
            final = self.model_path(inputs)
            tmp = final.with_name(f".{final.stem}.{uuid.uuid4().hex}.tmp.keras")
            try:
                result.model.save(tmp)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
        record = {
            "key": run_key(inputs),
            "inputs": dict(inputs),
            "result": result.to_dict(),
            "provenance": {
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "backend": result.backend,  # the Keras backend the run trained on
                "versions": result.versions,
                "git_revision": git_revision(),
                "convlab_source_hash": source_hash(),
                "code_hash": code_hash(),
            },
        }
        _atomic_write(path, json.dumps(record, indent=1, sort_keys=True))
        return path

    def records(self) -> Iterator[dict]:
        """Every readable record in the store (for inspection and benchmarks)."""
        for path in sorted(self.root.glob("*/*/*.json")):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
