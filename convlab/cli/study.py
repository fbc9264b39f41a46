"""``convlab study list|run|show``: the shipped controlled experiments from the shell."""

from __future__ import annotations

import argparse
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

    e = actions.add_parser(
        "export-reference",
        help="write the reference regime's finished runs to the reference-results file",
        description="Write every finished run of the shipped studies in the reference "
        "profile (train them first with `convlab study run NAME --profile reference`) to "
        "the JSON file the experiments chapter compares its conclusions with. Runs that "
        "the file already holds and the store lacks are kept (if their keys are still "
        "current), so the regime can be measured over sessions whose stores are lost.",
    )
    e.add_argument("--results", required=True, metavar="DIR", help="the results store")
    e.add_argument(
        "--out", default=None, help="default: convlab/experiments/reference_results.json"
    )
    e.add_argument("--dataset", default="fashion-mnist")
    e.add_argument(
        "--fresh", action="store_true", help="keep only the store's runs, not the file's"
    )
    e.set_defaults(handler=export_reference)

    actions.add_parser("list", help="the shipped studies").set_defaults(handler=list_studies)

    for name, handler, text in (
        ("run", run, "train the missing runs of a study, then print its table"),
        ("show", show, "print a study's table from the store, training nothing"),
    ):
        q = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        q.add_argument("name", help="a study (see `convlab study list`)")
        q.add_argument(
            "--profile",
            default=None,
            help="smoke, quick, full or reference (default: CONVLAB_PROFILE)",
        )
        q.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default: profile's)")
        q.add_argument("--dataset", default=None, help="default: CONVLAB_DATASET")
        q.add_argument("--results", default=None, metavar="DIR", help="the results store")
        if name == "run":
            q.add_argument("--quiet", action="store_true", help="no progress bar")
            add_executor_arguments(q)
        q.set_defaults(handler=handler)


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """--executor and its Ray settings (also used by `convlab book build`)."""
    g = parser.add_argument_group("where runs train")
    g.add_argument(
        "--executor",
        choices=("serial", "ray"),
        default=None,
        help="serial: one after another here; ray: side by side, one Ray task per run "
        "(default: CONVLAB_EXECUTOR, else serial)",
    )
    g.add_argument(
        "--address",
        default=None,
        help="a Ray cluster to join (default: RAY_ADDRESS, else a local Ray started here)",
    )
    g.add_argument("--workers", type=int, default=None, help="CPUs of a local Ray (default: all)")
    g.add_argument(
        "--cpus-per-run", type=float, default=None, help="CPUs each run declares (default 1)"
    )
    g.add_argument(
        "--gpus-per-run",
        type=float,
        default=None,
        help="the fraction of a GPU each run declares, 0.25 puts 4 runs on a GPU (default: "
        "what the cost model picks where the cluster has GPUs, else 0)",
    )


RAY_FLAGS = ("address", "workers", "cpus_per_run", "gpus_per_run")  # RayExecutor's fields


def executor_from(args: argparse.Namespace):
    """The executor the command line names (None: CONVLAB_EXECUTOR decides)."""
    import dataclasses

    from convlab.experiments import RayExecutor, get_executor

    given = {f: getattr(args, f) for f in RAY_FLAGS if getattr(args, f) is not None}
    if args.executor is None and not given:
        return None
    executor = get_executor(args.executor)
    if not isinstance(executor, RayExecutor):
        if given:
            raise UserError(
                "--address, --workers, --cpus-per-run and --gpus-per-run need --executor ray "
                "(or CONVLAB_EXECUTOR=ray)."
            )
        return executor
    try:
        return dataclasses.replace(executor, **given)
    except ValueError as exc:
        raise UserError(str(exc)) from None


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
    from convlab.views.study import study_text

    study, profile, store = _study(args)
    executor = executor_from(args)
    result = run_study(
        study,
        profile,
        store,
        dataset=args.dataset,
        progress=not args.quiet,
        seeds=args.seeds,
        executor=executor,
    )
    _warn(result)
    print(study_text(result))
    return 0


def show(args: argparse.Namespace) -> int:
    from convlab.experiments import load_study
    from convlab.views.study import study_text

    study, profile, store = _study(args)
    result = load_study(study, profile, store, dataset=args.dataset, seeds=args.seeds)
    _warn(result)
    print(study_text(result))
    if result.missing:
        by_arm: dict[str, list[int]] = {}
        for arm, seed in result.missing:
            by_arm.setdefault(arm, []).append(seed)
        missing = "; ".join(f"{a} (seeds {', '.join(map(str, s))})" for a, s in by_arm.items())
        seeds = f" --seeds {args.seeds}" if args.seeds else ""
        print(f"\nmissing {len(result.missing)} of {len(result.runs)} runs: {missing}.")
        stale = store.stale(r.inputs for r in result.runs if r.result is None)
        reasons: dict[str, int] = {}
        for why in stale.values():
            reasons[why] = reasons.get(why, 0) + 1
        for why, n in reasons.items():
            print(
                f"{n} of them {'has a record' if n == 1 else 'have records'} computed with "
                f"{why}; such results do not count here."
            )
        print(f"Train them with: convlab study run {study.name} --profile {profile.name}{seeds}")
    return 0


def _warn(result) -> None:
    for problem in result.problems:
        print(f"convlab: warning: {problem}", file=sys.stderr)


def export_reference(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from convlab.experiments.reference import REFERENCE_FILE, load_reference
    from convlab.experiments.reference import export_reference as export

    if not Path(args.results).is_dir():
        raise UserError(f"No results store at {args.results}.")
    out = Path(args.out) if args.out else REFERENCE_FILE
    previous = None if args.fresh else load_reference(out)
    data = export(args.results, dataset=args.dataset, previous=previous)
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    missing = sum(len(m) for m in data["missing"].values())
    kept = len(set(data["runs"]) & set((previous or {}).get("runs", {})))
    print(
        f"wrote {out}: {len(data['runs'])} distinct runs for {len(data['studies'])} studies "
        f"({kept} of them were in the file it replaces); {missing} (arm, seed) pairs "
        "missing."
    )
    return 0
