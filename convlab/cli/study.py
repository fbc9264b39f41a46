"""``convlab study list|run|show``: the shipped controlled experiments from the shell."""

from __future__ import annotations

import argparse
import math
import sys

from convlab.cli import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run or show a controlled experiment (one variable, several seeds)",
        description="Controlled experiments: each study changes one choice of the reference "
        "CNN, holds everything else fixed and trains every arm with the same seeds. Results "
        "are stored one run per record (CONVLAB_RESULTS_DIR), so a rerun trains only what is "
        "missing.",
    )
    p.set_defaults(handler=lambda args: p.print_help() or 2)
    actions = p.add_subparsers(title="actions", metavar="ACTION")

    actions.add_parser("list", help="the shipped studies").set_defaults(handler=list_studies)

    for name, handler, text in (
        ("run", run, "train the missing runs of a study, then print its table"),
        ("show", show, "print a study's table from the store, training nothing"),
    ):
        q = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        q.add_argument("name", help="a study (see `convlab study list`)")
        q.add_argument(
            "--profile", default=None, help="smoke, quick or full (default: CONVLAB_PROFILE)"
        )
        q.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default: profile's)")
        q.add_argument("--dataset", default=None, help="default: CONVLAB_DATASET")
        q.add_argument("--results", default=None, metavar="DIR", help="the results store")
        if name == "run":
            q.add_argument("--quiet", action="store_true", help="no progress bar")
        q.set_defaults(handler=handler)


def _study(args: argparse.Namespace):
    from convlab.experiments import ResultsStore, get_profile, get_study

    if args.seeds is not None and args.seeds < 1:
        raise UserError("--seeds must be at least 1.")
    return get_study(args.name), get_profile(args.profile), ResultsStore(args.results)


def list_studies(args: argparse.Namespace) -> int:
    from convlab.experiments import STUDIES

    width = max(map(len, STUDIES))
    for name, study in STUDIES.items():
        print(f"{name:<{width}}  {study.variable}: {', '.join(study.arms)}")
        print(f"{'':<{width}}  {study.question}")
    return 0


def run(args: argparse.Namespace) -> int:
    from convlab.experiments import run_study

    study, profile, store = _study(args)
    result = run_study(
        study, profile, store, dataset=args.dataset, progress=not args.quiet, seeds=args.seeds
    )
    print(format_result(result))
    return 0


def show(args: argparse.Namespace) -> int:
    from convlab.experiments import load_study

    study, profile, store = _study(args)
    result = load_study(study, profile, store, dataset=args.dataset, seeds=args.seeds)
    print(format_result(result))
    if result.missing:
        by_arm: dict[str, list[int]] = {}
        for arm, seed in result.missing:
            by_arm.setdefault(arm, []).append(seed)
        missing = "; ".join(f"{a} (seeds {', '.join(map(str, s))})" for a, s in by_arm.items())
        seeds = f" --seeds {args.seeds}" if args.seeds else ""
        print(f"\nmissing {len(result.missing)} of {len(result.runs)} runs: {missing}.")
        stale = _stale(result, store)
        if stale:
            print(
                f"{stale} of them have records from an older version of convlab's data, "
                "model or training code; those results no longer count."
            )
        print(f"Train them with: convlab study run {study.name} --profile {profile.name}{seeds}")
    return 0


def _stale(result, store) -> int:
    """Missing runs whose inputs match a stored record in everything but the code hash."""
    from convlab.experiments import run_key

    def without_code(inputs: dict) -> str:
        return run_key({k: v for k, v in inputs.items() if k != "code"})

    stored = {without_code(r["inputs"]) for r in store.records() if "inputs" in r}
    return sum(without_code(r.inputs) in stored for r in result.runs if r.result is None)


def _num(x: float, fmt: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def format_result(result) -> str:
    """The study's question, per-arm table, differences and conclusion, as text."""
    from convlab.data import dataset_info

    study, profile = result.study, result.profile
    table, diffs = result.table(), result.differences()
    epochs = f"{profile.epochs} epoch{'s' if profile.epochs != 1 else ''}"
    head = (
        f"{study.name}: {study.question}\n"
        f"{dataset_info(result.dataset).title}, profile {profile.name} "
        f"({epochs}, seeds {', '.join(map(str, result.seeds))}); "
        f"accuracy in %, ± is the 95% t interval over seeds"
    )
    rows = [("arm", "seeds", "accuracy", "std", "params", "MACs/img", "img/s", "s/run", "train")]
    for arm, r in table.iterrows():
        acc = _num(100 * r["mean_accuracy"], ".2f")
        if r["n_seeds"] >= 2:
            acc += f" ± {100 * r['ci95_half_width']:.2f}"
        rows.append(
            (
                str(arm),
                str(int(r["n_seeds"])),
                acc,
                _num(100 * r["std_accuracy"], ".2f"),
                f"{int(r['params']):,}",
                f"{int(r['macs_per_image']):,}",
                _num(r["images_per_s"], ",.0f"),
                _num(r["wall_time_s"], ".1f"),
                _num(r["train_size"], ",.0f") if r["train_size"] is not None else "all",
            )
        )
    lines = [head, "", *_columns(rows), ""]
    drows = [("difference", "pairs", "points", "95% CI", "verdict")]
    for arm, d in diffs.iterrows():
        ci = (
            f"[{100 * d['ci95_low']:+.2f}, {100 * d['ci95_high']:+.2f}]"
            if d["n_pairs"] >= 2
            else "-"
        )
        drows.append(
            (
                f"{arm} - {d['vs']}",
                str(int(d["n_pairs"])),
                _num(100 * d["mean_difference"], "+.2f"),
                ci,
                d["verdict"],
            )
        )
    lines += [*_columns(drows), "", result.conclusion()]
    for problem in result.problems:
        print(f"convlab: warning: {problem}", file=sys.stderr)
    return "\n".join(lines)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
