"""Reference results: the runs of the reference regime, exported from a store to one file.

The quick book's conclusions are checked against a regime that takes hours on a CPU (the
``reference`` profile: every training image, 15 epochs, 3 seeds). Its runs are made once,
resumably, in a results store kept outside the work tree, and :func:`export_reference`
writes what the store holds to a JSON file that is committed with the code, per study,
arm and seed, with when, where and by what it was computed. An export keeps the runs of
the file it replaces that the store lacks (if their keys are still current), so the
regime can be measured over several sessions whose stores do not survive. A book build
reads the file instead of retraining: :func:`reference_study` turns it into a
:class:`~convlab.experiments.results.StudyResult` (test accuracies and per-image
predictions; no learning curves), with the same intervals as a trained study.

Example:
    >>> data = export_reference("/path/to/store", previous=load_reference())  # doctest: +SKIP
    >>> data["runs"][data["studies"]["mlp-vs-cnn"]["CNN"]["0"]]["test_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterable
from pathlib import Path

from convlab.data import dataset_info
from convlab.experiments.catalog import STUDIES
from convlab.experiments.design import Study, unbuildable_arms
from convlab.experiments.profiles import PROFILES, Profile
from convlab.experiments.results import StudyResult
from convlab.experiments.runner import load_study, plan
from convlab.experiments.store import ResultsStore, git_revision
from convlab.hardware import cpu_model
from convlab.models import macs_per_image
from convlab.train import TrainResult, decode_classes, encode_classes
from convlab.variants import test_labels

__all__ = [
    "REFERENCE_FILE",
    "REPORTED_SINGLE_RUNS",
    "export_reference",
    "load_reference",
    "outcome",
    "reference_for",
    "reference_study",
    "regime_comparison",
    "rerun_summary",
]

REFERENCE_FILE = Path(__file__).with_name("reference_results.json")


def _entry(r: TrainResult, record: dict) -> dict:
    provenance = record.get("provenance", {})
    return {
        "test_accuracy": r.test_accuracy,
        "params": r.params,
        "created": provenance.get("created"),
        "revision": provenance.get("git_revision"),
        # Records written before the store kept the machine: the exporting one's.
        "machine": provenance.get("machine") or cpu_model(),
        "versions": r.versions,
        "precision": r.config.precision,
        "wall_time_s": round(r.wall_time_s, 1),
        "test_predictions": encode_classes(r.test_predictions),
    }


def _with_reruns(entry: dict, earlier: dict | None) -> dict:
    """``entry`` (from the store) keeping, under ``"reruns"``, the earlier file's trainings
    of the same run (same key) that it replaces: each one's machine, date, test accuracy
    and test predictions, so that :func:`rerun_summary` can say what a rerun changed."""
    if not earlier:
        return entry
    fields = ("machine", "created", "test_accuracy", "test_predictions")
    trainings = [*earlier.get("reruns", []), {k: earlier.get(k) for k in fields}]
    reruns, seen = [], {entry["created"]}
    for training in trainings:
        if training.get("created") not in seen:  # each training once, this one not at all
            seen.add(training.get("created"))
            reruns.append(training)
    return {**entry, "reruns": reruns} if reruns else entry


def export_reference(
    store: ResultsStore | str,
    studies: Iterable[Study] | None = None,
    profile: Profile = PROFILES["reference"],
    dataset: str = "fashion-mnist",
    previous: dict | None = None,
) -> dict:
    """Every finished run of ``studies`` (default: all shipped ones) in ``store``, and
    those of ``previous`` (an earlier export) that the store lacks and that the studies
    still ask for (same key: same inputs, results version and platform).

    Returns:
        ``{"profile", "dataset", "exported", "exported_by_revision", "machines",
        "runs": {key: {...}}, "studies": {study: {arm: {seed: key}}},
        "missing": {study: [[arm, seed], ...]}}``;
        each run (once, however many studies share it) holds its test accuracy,
        parameters, creation time, revision, machine, versions, arithmetic and test
        predictions (one character per image).
    """
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    records = {r["key"]: r for r in store.records(profile.name, dataset) if "key" in r}
    earlier = (previous or {}).get("runs", {})
    if previous and previous.get("machine"):  # files from before runs named their machine
        earlier = {k: {"machine": previous["machine"], **v} for k, v in earlier.items()}
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
        "runs": {},
        "studies": {},
        "missing": {},
    }
    for study in STUDIES.values() if studies is None else studies:
        result = load_study(study, profile, store, dataset)
        arms: dict = {}
        missing = []
        for run in result.runs:
            if run.result is not None:
                if run.key not in out["runs"]:
                    entry = _entry(run.result, records.get(run.key, {}))
                    out["runs"][run.key] = _with_reruns(entry, earlier.get(run.key))
            elif run.key in earlier:
                out["runs"].setdefault(run.key, earlier[run.key])
            else:
                missing.append([run.arm, run.seed])
                continue
            arms.setdefault(run.arm, {})[str(run.seed)] = run.key
        if arms:
            out["studies"][study.name] = arms
        if missing:
            out["missing"][study.name] = missing
    out["machines"] = sorted({r["machine"] for r in out["runs"].values() if r.get("machine")})
    return out


def _differing(ours: str | None, theirs: str | None) -> int | None:
    """Test images two encoded prediction strings disagree on (``None`` unless both are
    there for the same images)."""
    if not ours or not theirs or len(ours) != len(theirs):
        return None
    return sum(a != b for a, b in zip(ours, theirs, strict=True))


def rerun_summary(data: dict, studies: Iterable[Study] | None = None) -> dict:
    """Where the reference runs of ``data`` (an export) were made, and what it changed.

    Returns ``{"machines": [...], "comparisons": n, "mixed": [(study, arm, vs), ...]}``:
    how many comparisons of ``studies`` (default: all shipped ones) the file can make (both
    arms have runs), those of them whose arms' runs were not all made on one machine, and
    ``"reruns"``: for each run also trained elsewhere, its ``study``, ``arm``, ``seed``,
    ``machine`` (the file's training), ``other`` (the rerun's machine), ``change`` (the
    file's accuracy minus the rerun's) and ``differ`` (test images predicted differently;
    ``None`` if either lacks predictions).
    """
    runs, where = data.get("runs", {}), data.get("studies", {})
    mixed, comparisons = [], 0
    for study in STUDIES.values() if studies is None else studies:
        arms = where.get(study.name, {})
        for arm, other in study.pairs():
            sides = [
                {runs[k].get("machine") for k in arms.get(a, {}).values() if k in runs}
                for a in (arm, other)
            ]
            if not all(sides):  # a comparison the file cannot make (an arm without runs)
                continue
            comparisons += 1
            if len(sides[0] | sides[1]) > 1:
                mixed.append((study.name, arm, other))
    reruns, named = [], set()
    for name, arms in where.items():
        for arm, seeds in arms.items():
            for seed, key in seeds.items():
                entry = runs.get(key, {})
                if key in named or not entry.get("reruns"):
                    continue
                named.add(key)  # a run several studies share counts once
                for rerun in entry["reruns"]:
                    reruns.append(
                        {
                            "study": name,
                            "arm": arm,
                            "seed": int(seed),
                            "machine": entry.get("machine"),
                            "other": rerun.get("machine"),
                            "change": entry["test_accuracy"] - rerun["test_accuracy"],
                            "differ": _differing(
                                entry.get("test_predictions"), rerun.get("test_predictions")
                            ),
                        }
                    )
    machines = sorted({r["machine"] for r in runs.values() if r.get("machine")})
    return {"machines": machines, "comparisons": comparisons, "mixed": mixed, "reruns": reruns}


def load_reference(path: str | Path = REFERENCE_FILE) -> dict:
    """The committed reference results (an empty set of studies if there is no file)."""
    path = Path(path)
    if not path.exists():
        return {"runs": {}, "studies": {}, "missing": {}, "machines": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    if "machines" not in data:  # files from before runs named their machine
        data["machines"] = [data["machine"]] if data.get("machine") else []
    return data


def reference_study(
    study: Study, data: dict | None = None, dataset: str = "fashion-mnist"
) -> StudyResult:
    """A study as the reference regime measured it, from the reference-results file.

    Its runs are the ``reference`` profile's plan; a run whose key the file holds carries
    the file's test accuracy and per-image predictions (so its intervals are computed as
    a trained study's are), the others are missing. Learning curves, losses and
    throughput were not exported and are empty or NaN.
    """
    data = load_reference() if data is None else data
    profile, info = PROFILES["reference"], dataset_info(dataset)
    held = data.get("runs", {}) if data.get("dataset", dataset) == info.name else {}
    runs = []
    for run in plan(study, profile, dataset, profile.seed_list(study.seeds)):
        entry = held.get(run.key)
        if entry is None:
            runs.append(run)
            continue
        result = TrainResult(
            spec=run.spec,
            config=run.config,
            seed=run.seed,
            class_names=info.class_names,
            history={},
            best_epoch=profile.epochs,
            test_loss=math.nan,
            test_accuracy=entry["test_accuracy"],
            per_class_accuracy=(),
            confusion=(),
            params=entry["params"],
            macs_per_image=macs_per_image(run.spec, info.image_shape, len(info.class_names)),
            train_size=run.inputs["data"]["train_size"] or info.train_size - profile.val_size,
            wall_time_s=entry.get("wall_time_s", math.nan),
            images_per_s=math.nan,
            backend=run.inputs.get("platform", {}).get("keras_backend", ""),
            versions=entry.get("versions", {}),
            test_predictions=decode_classes(entry.get("test_predictions", "")),
        )
        runs.append(dataclasses.replace(run, result=result, status="stored"))
    labels = test_labels(dataset, runs[0].inputs["data"]) if runs else None
    return StudyResult(
        study, profile, dataset, tuple(runs), (), unbuildable_arms(study, dataset), labels
    )


def reference_for(result: StudyResult, data: dict | None = None) -> StudyResult:
    """:func:`reference_study` of a trained study's study and dataset."""
    return reference_study(result.study, data, result.dataset)


def outcome(row) -> str:
    """A difference row's verdict as one word: ``better``, ``worse``, ``alike`` (the
    interval covers zero) or ``unmeasured`` (fewer than two seeds)."""
    if not row["n_pairs"] >= 2 or math.isnan(row["ci95_low"]):
        return "unmeasured"
    if not row["distinguishable"]:
        return "alike"
    return "better" if row["mean_difference"] > 0 else "worse"


def regime_comparison(result: StudyResult, reference: StudyResult):
    """One row per comparison of a study: its difference and outcome in ``result``'s
    regime beside the reference regime's, whether the two outcomes agree (``None`` while
    the reference has not measured it) and whether it can be built at all (``buildable``:
    ``False`` where an arm is one no regime can build, e.g. a matched head that no width
    fits)."""
    import pandas as pd

    ours, theirs = result.differences(), reference.differences()
    unbuilt = set(result.unbuildable)
    rows = []
    for k, ((arm, d), (_, r)) in enumerate(zip(ours.iterrows(), theirs.iterrows(), strict=True)):
        a, b = outcome(d), outcome(r)
        rows.append(
            {
                "position": k,
                "arm": arm,
                "vs": d["vs"],
                "mean": d["mean_difference"],
                "low": d["ci95_low"],
                "high": d["ci95_high"],
                "outcome": a,
                "reference_mean": r["mean_difference"],
                "reference_low": r["ci95_low"],
                "reference_high": r["ci95_high"],
                "reference_seeds": int(r["n_pairs"]),
                "reference_outcome": b,
                "agree": None if "unmeasured" in (a, b) else a == b,
                "buildable": not {arm, d["vs"]} & unbuilt,
            }
        )
    return pd.DataFrame(rows).set_index("position")


# What single runs found in the assignment reports this book grew from (Fashion-MNIST, all
# training images, their own epochs and early stopping; one seed each): quoted, not
# measured here, so the book can set this build's means beside them.
REPORTED_SINGLE_RUNS = {"MLP": 0.886, "CNN": 0.917}
