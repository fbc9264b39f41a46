"""Tables the book shows: a model's layers, the CNN's design choices, a study's results.

Each function turns convlab objects (specs, :class:`~convlab.experiments.StudyResult`)
into a pandas DataFrame or a Markdown text for a chapter; nothing is computed twice and
nothing prints.
"""

from __future__ import annotations

import math

import pandas as pd

from convlab.models import CNNSpec, ModelSpec, layer_table

__all__ = [
    "design_table",
    "differences_table",
    "layer_frame",
    "profiles_table",
    "studies_summary",
    "study_intro",
    "study_table",
]


def layer_frame(spec: ModelSpec, input_shape: tuple[int, ...], num_classes: int) -> pd.DataFrame:
    """Each layer's output shape, parameters (with the formula) and multiply-adds."""
    rows = [
        {
            "layer": r.name,
            "output shape": " x ".join(map(str, r.output_shape)),
            "parameters": r.params,
            "formula": r.formula,
            "multiply-adds": r.macs,
        }
        for r in layer_table(spec, input_shape, num_classes)
    ]
    return pd.DataFrame(rows).set_index("layer")


def _same(values: list) -> str:
    return str(values[0]) if len(set(values)) == 1 else " / ".join(map(str, values))


def _downsampling(block) -> str:
    if block.pool != "none":
        return f"{block.pool_size}x{block.pool_size} {block.pool} pooling"
    return f"stride-{block.stride} convolution" if block.stride > 1 else "none"


def design_table(spec: ModelSpec) -> pd.DataFrame:
    """Each design choice of a CNN spec, its value, why, and the study that tests it.

    Values are read from ``spec``; the reasons are the usual arguments, which the named
    study of the controlled-experiments chapter then puts to the test.
    """
    if not isinstance(spec, CNNSpec):
        raise TypeError(f"design_table describes a CNNSpec, got {type(spec).__name__}.")
    b = spec.blocks
    downsampling = _same([_downsampling(x) for x in b])
    dropout = [x.dropout for x in b] + [spec.dense_dropout]
    rows = [
        (
            "kernel size",
            _same([f"{x.kernel_size}x{x.kernel_size}" for x in b]),
            "the smallest kernel with a centre; stacked, small kernels see far with few weights",
            "kernel-size",
        ),
        (
            "blocks",
            str(len(b)),
            "each block halves the feature map, so a few blocks reach a small, abstract map",
            "depth",
        ),
        (
            "filters per block",
            "-".join(str(x.filters) for x in b),
            "few filters where maps are large, more after each downsampling",
            "width",
        ),
        (
            "convolutions per block",
            _same([x.convs for x in b]),
            "more convolutions before downsampling see more context at full resolution",
            "capacity",
        ),
        (
            "padding",
            _same([x.padding for x in b]),
            "'same' keeps the border pixels and the map size; 'valid' shrinks every map",
            "padding",
        ),
        (
            "downsampling",
            downsampling,
            "halves the resolution, keeps the strongest response, tolerates small shifts",
            "downsampling",
        ),
        (
            "batch normalisation",
            _same(["on" if x.batch_norm else "off" for x in b]),
            "normalises each layer's inputs; often speeds up training",
            "batch-norm",
        ),
        ("activation", spec.activation, "cheap, non-saturating non-linearity", "-"),
        (
            "dropout",
            _same(dropout) if any(dropout) else "none",
            "regularises larger models; the small reference CNN does without"
            if not any(dropout)
            else "regularises the larger model against overfitting",
            "capacity",
        ),
        (
            "dense head",
            "-".join(map(str, spec.dense)) or "none",
            "combines the last feature maps before the softmax",
            "-",
        ),
    ]
    return pd.DataFrame(rows, columns=["choice", "this CNN", "why", "tested by"]).set_index(
        "choice"
    )


def study_intro(result) -> str:
    """A study's question, variable, arms and what is held fixed, as Markdown."""
    s = result.study
    arms = ", ".join(s.arms)
    fixed = "\n".join(f"- {item}" for item in s.fixed)
    n = len(result.seeds)
    if s.comparisons is None:
        compared = f"each compared with {s.reference}"
    else:
        compared = "comparisons: " + "; ".join(f"{a} vs {b}" for a, b in s.comparisons)
    return (
        f"**Question.** {s.question}\n\n"
        f"**Variable.** {s.variable}: {arms} ({compared}).\n\n"
        f"**Held fixed.**\n\n{fixed}\n\n"
        f"**Runs.** {n} seed{'s' if n != 1 else ''} per arm, {result.profile.name} profile, "
        f"{result.dataset}."
    )


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.2f}"


def _interval(low: float, high: float, points: bool = False) -> str:
    if math.isnan(low) or math.isnan(high):
        return "-"
    sign = "+" if points else ""
    return f"[{100 * low:{sign}.2f}, {100 * high:{sign}.2f}]"


def study_table(result) -> pd.DataFrame:
    """A study's arms: model, parameters, mean test accuracy over seeds and its 95% interval
    (in %)."""
    rows = [
        {
            "arm": arm,
            "model": r["model"],
            "parameters": f"{int(r['params']):,}",
            "seeds": int(r["n_seeds"]),
            "accuracy %": _pct(r["mean_accuracy"]),
            "95% CI": _interval(r["ci95_low"], r["ci95_high"]),
        }
        for arm, r in result.table().iterrows()
    ]
    return pd.DataFrame(rows).set_index("arm")


def differences_table(result) -> pd.DataFrame:
    """A study's comparisons: each arm minus the arm it is compared with, paired by seed,
    in points, with its 95% interval and the verdict in words."""
    rows = []
    for arm, d in result.differences().iterrows():
        mean = d["mean_difference"]
        rows.append(
            {
                "comparison": f"{arm} - {d['vs']}",
                "difference (points)": "-" if math.isnan(mean) else f"{100 * mean:+.2f}",
                "95% CI": _interval(d["ci95_low"], d["ci95_high"], points=True),
                "verdict": d["verdict"],
            }
        )
    return pd.DataFrame(rows).set_index("comparison")


def studies_summary(results) -> pd.DataFrame:
    """One row per study: its variable, the arm with the highest mean accuracy, and the
    comparisons whose 95% interval excludes zero (the others are not distinguishable)."""
    rows = []
    for result in results:
        table = result.table()
        best = table["mean_accuracy"].idxmax()
        diffs = result.differences()
        apart = [
            f"{arm} vs {d['vs']} ({100 * d['mean_difference']:+.2f})"
            for arm, d in diffs.iterrows()
            if d["verdict"].startswith(("better", "worse"))  # the interval excludes zero
        ]
        rows.append(
            {
                "study": result.study.name,
                "variable": result.study.variable,
                "highest mean accuracy": f"{best} ({_pct(table.loc[best, 'mean_accuracy'])}%)",
                "distinguishable differences (points)": "; ".join(apart) or "none",
            }
        )
    return pd.DataFrame(rows).set_index("study")


def profiles_table() -> pd.DataFrame:
    """The compute profiles: data sizes, epochs, seeds and arithmetic of every run."""
    from convlab.experiments import PROFILES

    def size(n: int | None) -> str:
        return "all" if n is None else f"{n:,}"

    def arithmetic(p) -> str:
        used = p.train_config().precision  # the profile resolves "auto" for this machine
        return f"auto (here {used})" if p.precision == "auto" else used

    rows = [
        {
            "profile": p.name,
            "training images": size(p.train_size),
            "validation images": size(p.val_size),
            "test images": size(p.test_size),
            "epochs": p.epochs,
            "seeds": p.seeds,
            "arithmetic": arithmetic(p),
            "for": p.description.split(":")[0],
        }
        for p in PROFILES.values()
    ]
    return pd.DataFrame(rows).set_index("profile")
