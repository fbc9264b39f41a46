"""The results store: one JSON record per training run, keyed by a hash of its inputs.

A run's key is :func:`convlab.experiments.keys.run_key` of its inputs (spec, training
config, seed, dataset, data slice, profile, results version and platform). Records are
written atomically (a temporary file in the same directory, then ``os.replace``), so a
killed process loses at most the run in progress; a record that cannot be read is
reported and treated as missing. Each record also keeps, as provenance only, when it was
made, the library versions, the git revision and fingerprints of convlab's source.

Layout: ``<root>/<profile>/<dataset>/<key>.json`` (and ``<key>.keras`` for kept models).

Example:
    >>> store = ResultsStore("/tmp/convlab-results")  # doctest: +SKIP
    >>> store.load(inputs) is None  # not trained yet  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from convlab.experiments.keys import core_inputs, results_fingerprint, run_key, stale_reason
from convlab.fingerprint import PACKAGE_DIR, fingerprint, package_modules
from convlab.hardware import cpu_model
from convlab.train import TrainResult

__all__ = ["ResultsStore", "StoreWarning", "git_revision", "source_fingerprint"]


class StoreWarning(UserWarning):
    """A record that could not be used (corrupt, partial, or from other inputs)."""


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """Fingerprint of every module of the convlab package (provenance only)."""
    return fingerprint(package_modules())


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """``git rev-parse HEAD`` of the checkout convlab runs from, or ``None``."""
    try:
        out = subprocess.run(
            ["git", "-C", str(PACKAGE_DIR.parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


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
                "machine": cpu_model(),
                "versions": result.versions,
                "git_revision": git_revision(),
                "results_fingerprint": results_fingerprint(),
                "source_fingerprint": source_fingerprint(),
            },
        }
        _atomic_write(path, json.dumps(record, indent=1, sort_keys=True, allow_nan=False))
        return path

    def records(self, profile: str = "*", dataset: str = "*") -> Iterator[dict]:
        """Every readable record in the store, or of one profile and dataset."""
        for path in sorted(self.root.glob(f"{profile}/{dataset}/*.json")):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue

    def stale(self, wanted: Iterable[Mapping]) -> dict[str, str]:
        """For runs the store lacks: key -> why a record of the same run does not count.

        A record is "the same run" when its inputs equal the wanted ones in everything but
        the results version and platform (:func:`~convlab.experiments.keys.core_inputs`),
        e.g. one computed before a ``RESULTS_VERSION`` bump or on another Keras backend.
        """
        wanted = [w for w in wanted if not self.path(w).exists()]
        if not wanted:
            return {}
        by_core: dict[str, dict] = {}
        for profile, dataset in {(w["profile"], w["dataset"]) for w in wanted}:
            for record in self.records(profile, dataset):
                inputs = record.get("inputs")
                if isinstance(inputs, dict):
                    by_core.setdefault(run_key(core_inputs(inputs)), inputs)
        out = {}
        for w in wanted:
            found = by_core.get(run_key(core_inputs(w)))
            if found is not None:
                out[run_key(w)] = stale_reason(found, w)
        return out
