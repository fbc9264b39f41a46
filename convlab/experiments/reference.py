"""Reference results: the runs of the reference regime, exported from a store to one file.

The quick book's conclusions are checked against a regime that takes hours on a CPU (the
``reference`` profile: every training image, 15 epochs, 3 seeds). Its runs are made once,
resumably, in a results store kept outside the work tree, and :func:`export_reference`
writes what the store holds to a JSON file that is committed with the code, per study,
arm and seed, with when, where and by what it was computed. A book build reads the file
instead of retraining (:func:`load_reference`).

Example:
    >>> data = export_reference("/path/to/store")  # doctest: +SKIP
    >>> data["runs"][data["studies"]["mlp-vs-cnn"]["CNN"]["0"]]["test_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterable
from pathlib import Path

from convlab.experiments.catalog import STUDIES
from convlab.experiments.design import Study
from convlab.experiments.profiles import PROFILES, Profile
from convlab.experiments.runner import load_study
from convlab.experiments.store import ResultsStore, git_revision
from convlab.train import encode_classes

__all__ = ["REFERENCE_FILE", "cpu_model", "export_reference", "load_reference"]

REFERENCE_FILE = Path(__file__).with_name("reference_results.json")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def export_reference(
    store: ResultsStore | str,
    studies: Iterable[Study] | None = None,
    profile: Profile = PROFILES["reference"],
    dataset: str = "fashion-mnist",
) -> dict:
    """Every finished run of ``studies`` (default: all shipped ones) in ``store``.

    Returns:
        ``{"profile", "dataset", "exported", "exported_by_revision", "machine",
        "runs": {key: {...}}, "studies": {study: {arm: {seed: key}}},
        "missing": {study: [[arm, seed], ...]}}``;
        each run (once, however many studies share it) holds its test accuracy,
        parameters, creation time, versions, arithmetic and test predictions (one
        character per image).
    """
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    records = {r["key"]: r for r in store.records(profile.name, dataset) if "key" in r}
    out: dict = {
        "profile": {
            "name": profile.name,
            "description": profile.description,
            "train_size": profile.train_size,
            "val_size": profile.val_size,
            "epochs": profile.epochs,
            "seeds": profile.seeds,
        },
        "dataset": dataset,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "exported_by_revision": git_revision(),  # each run names the revision that trained it
        "machine": cpu_model(),
        "runs": {},
        "studies": {},
        "missing": {},
    }
    for study in STUDIES.values() if studies is None else studies:
        result = load_study(study, profile, store, dataset)
        arms: dict = {}
        for run in result.runs:
            if run.result is None:
                continue
            r, record = run.result, records.get(run.key, {})
            arms.setdefault(run.arm, {})[str(run.seed)] = run.key
            out["runs"][run.key] = {
                "test_accuracy": r.test_accuracy,
                "params": r.params,
                "created": record.get("provenance", {}).get("created"),
                "revision": record.get("provenance", {}).get("git_revision"),
                "versions": r.versions,
                "precision": r.config.precision,
                "wall_time_s": round(r.wall_time_s, 1),
                "test_predictions": encode_classes(r.test_predictions),
            }
        if arms:
            out["studies"][study.name] = arms
        if result.missing:
            out["missing"][study.name] = [[a, s] for a, s in result.missing]
    return out


def load_reference(path: str | Path = REFERENCE_FILE) -> dict:
    """The committed reference results (an empty set of studies if there is no file)."""
    path = Path(path)
    if not path.exists():
        return {"runs": {}, "studies": {}, "missing": {}}
    return json.loads(path.read_text(encoding="utf-8"))
