"""Accuracy of the reference MLP and CNN on the full dataset, and of the best study arm.

    python -m benchmarks.run --only accuracy --seeds 3 --studies augmentation

Runs go through the experiments engine with the ``full`` profile (all training images,
its epochs and schedule, no early stopping), so they are cached in the results store and
are the very records the full-profile book reuses. The reference models are the two arms
of the ``mlp-vs-cnn`` study. ``studies`` are trained too (only their missing runs); the
best CNN arm of every complete study in the store is then chosen by mean *validation*
accuracy (final epoch), never by test accuracy, and its test accuracy is reported.
"""

from __future__ import annotations

import numpy as np

TARGETS = {"MLP": 0.890, "CNN": 0.925, "best study arm": 0.935}


def _arm_summary(result, arm: str) -> dict:
    """Test and validation accuracy of one arm over its seeds, with its size and cost."""
    runs = [r.result for r in result.runs if r.arm == arm and r.result is not None]
    test = np.array([r.test_accuracy for r in runs])
    val = np.array([r.history["val_accuracy"][-1] for r in runs])
    return {
        "study": result.study.name,
        "arm": arm,
        "kind": runs[0].spec.kind,
        "params": runs[0].params,
        "epochs": runs[0].epochs_run,
        "train_size": runs[0].train_size,
        "seeds": len(runs),
        "mean": float(test.mean()),
        "std": float(test.std(ddof=1)) if len(runs) > 1 else 0.0,
        "val_mean": float(val.mean()),
        "wall_s_per_run": float(np.mean([r.wall_time_s for r in runs])),
        "images_per_s": float(np.mean([r.images_per_s for r in runs])),
    }


def accuracy(
    seeds: int,
    dataset: str | None = None,
    profile: str = "full",
    studies: tuple[str, ...] = (),
    progress: bool = True,
) -> dict:
    from convlab import settings
    from convlab.experiments import STUDIES, get_profile, load_study, run_study

    dataset = dataset or settings.dataset()
    prof = get_profile(profile)
    base = run_study("mlp-vs-cnn", profile=prof, dataset=dataset, seeds=seeds, progress=progress)
    rows = []
    for arm in ("MLP", "CNN"):
        rows.append({"role": arm, **_arm_summary(base, arm), "target": TARGETS[arm]})
    for name in studies:
        run_study(name, profile=prof, dataset=dataset, seeds=seeds, progress=progress)
    candidates, seen = [], set()
    for name in STUDIES:
        result = load_study(name, profile=prof, dataset=dataset, seeds=seeds)
        if result.missing:  # only complete studies count
            continue
        for arm in result.study.arms:
            summary = _arm_summary(result, arm)
            same = (summary["params"], summary["val_mean"], summary["mean"])
            if summary["kind"] == "cnn" and same not in seen:  # shared arms count once
                seen.add(same)
                candidates.append(summary)
    best = max(candidates, key=lambda c: c["val_mean"], default=None)
    if best is not None:
        best = {**best, "target": TARGETS["best study arm"]}
    return {
        "dataset": dataset,
        "profile": profile,
        "rows": rows,
        "candidates": candidates,
        "best_study_arm": best,
    }


def accuracy_markdown(r: dict) -> str:
    lines = [
        f"Test accuracy on {r['dataset']} ({r['profile']} profile: every training image, "
        "no early stopping), mean +/- std over seeds. The best study arm is chosen by "
        "validation accuracy among the CNN arms of the complete studies.",
        "",
        "| model | study / arm | parameters | epochs | seeds | validation | test accuracy "
        "| target | s per run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    best = r["best_study_arm"]
    for role, x in [(x["role"], x) for x in r["rows"]] + (
        [("best study arm", best)] if best else []
    ):
        met = "met" if x["mean"] >= x["target"] else "missed"
        lines.append(
            f"| {role} | {x['study']} / {x['arm']} | {x['params']:,} | {x['epochs']} | "
            f"{x['seeds']} | {x['val_mean']:.2%} | {x['mean']:.2%} +/- {x['std']:.2%} | "
            f">= {x['target']:.1%} ({met}) | {x['wall_s_per_run']:.0f} |"
        )
    if not best:
        lines += ["", "No complete study with a CNN arm in the store for this profile yet."]
    others = [
        c
        for c in r["candidates"]
        if best and (c["study"], c["arm"]) != (best["study"], best["arm"])
    ]
    if others:
        lines += [
            "",
            "Other CNN arms considered (validation / test): "
            + "; ".join(
                f"{c['study']} / {c['arm']} {c['val_mean']:.2%} / {c['mean']:.2%}" for c in others
            )
            + ".",
        ]
    return "\n".join(lines) + "\n"
