"""Accuracy of the reference MLP and CNN on the full dataset, and of the best study arm.

    python -m benchmarks.run --only accuracy --seeds 3 --studies augmentation capacity

Runs go through the experiments engine with the ``full`` profile (all training images,
its epochs and schedule, no early stopping), so they are cached in the results store and
are the very records the full-profile book reuses. The reference models are the two arms
of the ``mlp-vs-cnn`` study. ``studies`` are trained too (only their missing runs). Among
the CNN arms of every complete study in the store, choices are made by mean *validation*
accuracy (final epoch), never by test accuracy, and their test accuracy is reported: the
reference CNN's row is its best training (an arm with the reference architecture and, say,
augmented images, when a study has one), and the best study arm is the best of all.
"""

from __future__ import annotations

import dataclasses

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
        "spec": dataclasses.asdict(runs[0].spec),
        "training": _training_changes(result.study.arms[arm].train),
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


def _training_changes(changes) -> str:
    """An arm's changes to the profile's training, in words (``"-"``: none)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(dict(changes).items())) or "-"


def _best(candidates: list[dict]) -> dict:
    """The candidate with the highest mean validation accuracy."""
    return max(candidates, key=lambda c: c["val_mean"])


def accuracy(
    seeds: int,
    dataset: str | None = None,
    profile: str = "full",
    studies: tuple[str, ...] = (),
    progress: bool = True,
) -> dict:
    from convlab import settings
    from convlab.experiments import STUDIES, get_profile, get_study, load_study, run_study

    dataset = dataset or settings.dataset()
    prof = get_profile(profile)
    base = run_study(
        get_study("mlp-vs-cnn"), profile=prof, dataset=dataset, seeds=seeds, progress=progress
    )
    for name in studies:
        run_study(get_study(name), profile=prof, dataset=dataset, seeds=seeds, progress=progress)
    candidates, seen = [], set()
    for study in STUDIES.values():
        result = load_study(study, profile=prof, dataset=dataset, seeds=seeds)
        if result.missing:  # only complete studies count
            continue
        for arm in result.study.arms:
            if arm in result.unbuildable:  # a matched arm no head width can match
                continue
            summary = _arm_summary(result, arm)
            same = (summary["params"], summary["val_mean"], summary["mean"])
            if summary["kind"] == "cnn" and same not in seen:  # shared arms count once
                seen.add(same)
                candidates.append(summary)
    reference_cnn = _arm_summary(base, "CNN")["spec"]
    rows = [
        {"role": "MLP", **_arm_summary(base, "MLP"), "target": TARGETS["MLP"]},
        {
            "role": "CNN",
            **_best([c for c in candidates if c["spec"] == reference_cnn]),
            "target": TARGETS["CNN"],
        },
    ]
    best = {**_best(candidates), "target": TARGETS["best study arm"]}
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
        "no early stopping), mean +/- std over seeds. Choices are made on validation "
        "accuracy among the CNN arms of the complete studies: the CNN row is the best arm "
        "with the reference CNN's architecture (its training may differ from the profile's, "
        "as the column says), the last row the best arm of all.",
        "",
        "| model | study / arm | training | parameters | epochs | seeds | validation "
        "| test accuracy | target | s per run |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    best = r["best_study_arm"]
    for role, x in [(x["role"], x) for x in r["rows"]] + [("best study arm", best)]:
        met = "met" if x["mean"] >= x["target"] else "missed"
        lines.append(
            f"| {role} | {x['study']} / {x['arm']} | {x['training']} | {x['params']:,} | "
            f"{x['epochs']} | {x['seeds']} | {x['val_mean']:.2%} | "
            f"{x['mean']:.2%} +/- {x['std']:.2%} | >= {x['target']:.1%} ({met}) | "
            f"{x['wall_s_per_run']:.0f} |"
        )
    others = [c for c in r["candidates"] if (c["study"], c["arm"]) != (best["study"], best["arm"])]
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
