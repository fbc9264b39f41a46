"""What a run's key is made of: its inputs, one explicit results version, and the platform.

A run's key is the SHA-256 of :func:`run_inputs` as sorted-keys JSON. The inputs are what
the run was asked to do (model spec, training config with its resolved arithmetic, seed,
dataset, the data slice it saw, profile) plus what computes it: the Keras backend and the
major.minor versions of Keras and of the backend library. The source code is *not* in the
key, so reformatting a module or editing a docstring retrains nothing. Instead, a change
to what the result-determining modules (:data:`RESULT_MODULES`) compute is a reviewed
decision: bump :data:`RESULTS_VERSION`. ``tests/test_experiments_keys.py`` compares a
fingerprint of those modules (comments, docstrings and formatting removed) with
``tests/results_fingerprint.json`` and fails until one of the two is done.

Example:
    >>> core_inputs({"seed": 0, "results_version": 1, "platform": {}})
    {'seed': 0}
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from convlab.fingerprint import PACKAGE_DIR, fingerprint, module_fingerprints

__all__ = [
    "RESULTS_VERSION",
    "RESULT_MODULES",
    "core_inputs",
    "fingerprint_changes",
    "platform_inputs",
    "recorded_fingerprint",
    "result_fingerprints",
    "results_fingerprint",
    "run_inputs",
    "run_key",
    "stale_reason",
]

# Bump when a change to RESULT_MODULES (or to a dependency's behaviour that convlab pins)
# can change what a run measures, for the same spec, config, seed and data: a new default,
# a changed metric, another shuffling, another preprocessing. Every stored run then
# retrains. Do not bump for refactors, renames, comments or docstrings: the fingerprint
# test tells you which modules changed; refresh the fingerprint when results cannot change.
# 2: keys hold this version and the platform instead of a hash of the source text.
# 3: records keep each test image's predicted class (TrainResult.test_predictions).
RESULTS_VERSION = 3

# The modules whose code decides what a run measures (paths inside the package).
RESULT_MODULES = ("data.py", "preprocess.py", "variants.py", "models.py", "train.py")


def result_fingerprints() -> dict[str, str]:
    """Module -> fingerprint of its normalised source, for :data:`RESULT_MODULES`."""
    return module_fingerprints(PACKAGE_DIR / m for m in RESULT_MODULES)


@functools.lru_cache(maxsize=1)
def results_fingerprint() -> str:
    """One fingerprint of :data:`RESULT_MODULES` (kept in every record, as provenance)."""
    return fingerprint(PACKAGE_DIR / m for m in RESULT_MODULES)


def fingerprint_changes(recorded: Mapping, current: Mapping[str, str] | None = None) -> str | None:
    """What a reviewer must decide, or ``None`` when the recorded fingerprint still holds.

    Args:
        recorded: ``{"results_version": int, "modules": {module: fingerprint}}``, the
            checked-in file ``tests/results_fingerprint.json``.
        current: module -> fingerprint; default :func:`result_fingerprints`.
    """
    current = result_fingerprints() if current is None else dict(current)
    modules = recorded.get("modules", {})
    changed = sorted(m for m in modules.keys() | current.keys() if modules.get(m) != current.get(m))
    if recorded.get("results_version") == RESULTS_VERSION and not changed:
        return None
    what = ", ".join(changed) if changed else "none (RESULTS_VERSION changed)"
    return (
        f"The code that determines run results changed (modules: {what}). Decide: if stored "
        "results can differ, bump RESULTS_VERSION in convlab/experiments/keys.py; either "
        "way, refresh the fingerprint if results cannot change, with "
        "`python tests/test_experiments_keys.py --refresh`."
    )


def recorded_fingerprint() -> dict:
    """This package's results version and module fingerprints, as the checked-in file holds."""
    return {"results_version": RESULTS_VERSION, "modules": result_fingerprints()}


def _major_minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


@functools.lru_cache(maxsize=1)
def platform_inputs() -> dict[str, str]:
    """The Keras backend and the major.minor versions of Keras and of the backend library."""
    import keras

    from convlab.train import library_versions

    backend = keras.backend.backend()
    versions = library_versions()
    out = {"keras_backend": backend, "keras": _major_minor(versions["keras"])}
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    if module in versions:
        out[module] = _major_minor(versions[module])
    return out


def _plain(obj: Any) -> Any:
    """Dataclasses and tuples -> JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.loads(json.dumps(obj))


def run_inputs(
    spec,
    config,
    seed: int,
    dataset: str,
    data: Mapping,
    profile: str,
    platform: Mapping[str, str] | None = None,
) -> dict:
    """Everything that determines a run's result, as plain JSON (what the key hashes).

    Args:
        platform: default :func:`platform_inputs` of this process.
    """
    return {
        "results_version": RESULTS_VERSION,
        "platform": dict(platform_inputs() if platform is None else platform),
        "spec": _plain(spec),
        "config": _plain(config),
        "seed": int(seed),
        "dataset": str(dataset),
        "data": _plain(dict(data)),
        "profile": str(profile),
    }


def run_key(inputs: Mapping) -> str:
    """The stable key of a run: SHA-256 of its inputs as sorted-keys, compact JSON."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# What older keys held besides the run's own inputs.
_NOT_CORE = ("results_version", "platform", "schema", "code")


def core_inputs(inputs: Mapping) -> dict:
    """The inputs without the results version and platform (or the code hash of keys
    before version 2): equal for the same run computed by another version or platform."""
    return {k: v for k, v in inputs.items() if k not in _NOT_CORE}


def stale_reason(stored: Mapping, wanted: Mapping) -> str:
    """In words, why a stored record with the same core inputs does not count."""
    old = stored.get("results_version")
    if old != wanted.get("results_version"):
        return f"results version {old or 1} (now {wanted.get('results_version')})"
    a, b = stored.get("platform", {}), wanted.get("platform", {})
    changed = [
        f"{k} {a.get(k, '-')} (now {b.get(k, '-')})" for k in sorted(a | b) if a.get(k) != b.get(k)
    ]
    return ", ".join(changed) or "an older record format"
