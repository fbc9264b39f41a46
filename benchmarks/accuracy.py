"""Accuracy of the reference MLP and CNN on the full dataset, mean +/- std over seeds.

    python -m benchmarks.run --only accuracy --seeds 3

Runs go through the experiments engine with the ``full`` profile (all data, its epochs and
schedule, model selection on validation only), so they are cached in the results store and
are the very records the full-profile book reuses. The best CNN arm of the shipped studies
is reported from whatever full-profile study records the store already holds.
"""

from __future__ import annotations

import numpy as np

TARGETS = {"baseline": 0.890, "cnn": 0.925, "best study arm": 0.935}


def accuracy(seeds: int, dataset: str | None = None, profile: str = "full") -> dict:
    from convlab import settings
    from convlab.experiments import STUDIES, get_profile, load_study, train_one
    from convlab.models import reference

    dataset = dataset or settings.dataset()
    prof = get_profile(profile)
    rows = []
    for role, name in zip(("baseline", "cnn"), settings.models_for(dataset), strict=True):
        results = [
            train_one(reference(name), dataset, prof, seed=s, keep_model=False)
            for s in range(seeds)
        ]
        accs = np.array([r.test_accuracy for r in results])
        rows.append(
            {
                "role": role,
                "model": name,
                "params": results[0].params,
                "epochs": prof.epochs,
                "seeds": seeds,
                "mean": float(accs.mean()),
                "std": float(accs.std(ddof=1)) if seeds > 1 else 0.0,
                "target": TARGETS[role],
            }
        )
    best = None
    for study_name, study in STUDIES.items():
        result = load_study(study, profile=prof, dataset=dataset)
        if result.missing:  # only complete studies count
            continue
        for arm, row in result.table().iterrows():
            if row["model"].lower().startswith("mlp") or "permuted" in arm:
                continue
            if best is None or row["mean_accuracy"] > best["mean"]:
                best = {"study": study_name, "arm": arm, "mean": float(row["mean_accuracy"])}
    return {"dataset": dataset, "profile": profile, "rows": rows, "best_study_arm": best}


def accuracy_markdown(r: dict) -> str:
    lines = [
        f"Test accuracy on full {r['dataset']} ({r['profile']} profile), mean +/- std over seeds.",
        "",
        "| model | parameters | epochs | seeds | test accuracy | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['model']} | {x['params']:,} | {x['epochs']} | {x['seeds']} | "
            f"{x['mean']:.2%} +/- {x['std']:.2%} | >= {x['target']:.1%} |"
        )
    best = r["best_study_arm"]
    lines.append("")
    lines.append(
        f"Best CNN arm of the studies: {best['study']} / {best['arm']}, {best['mean']:.2%}."
        if best
        else "Best CNN arm of the studies: no complete full-profile study in the store yet."
    )
    return "\n".join(lines) + "\n"
