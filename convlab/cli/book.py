"""``convlab book``: build the book strictly and keep its paired notebooks in sync."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from convlab.cli import UserError

_ROOT_HELP = "folder with _config.yml and _toc.yml (default: the current folder)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "book",
        help="build the book, or sync its paired notebooks",
        description="Build the Jupyter Book strictly (warnings are errors), or keep the "
        "output-free .ipynb beside each MyST chapter in step with it.",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION")

    b = actions.add_parser(
        "build",
        help="execute the chapters (cached) and build the HTML",
        description="Execute every chapter (outputs cached; the cache is cleared when "
        "convlab, the profile or the dataset changes) and build _build/html. Fails on any "
        "execution error, broken reference, missing glue value or warning.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    b.add_argument(
        "--profile",
        default=None,
        help="smoke | quick | full (default: CONVLAB_PROFILE, else full with a GPU, quick without)",
    )
    b.add_argument("--dataset", default=None, help="default: CONVLAB_DATASET or fashion-mnist")
    b.add_argument("--root", default=".", help=_ROOT_HELP)
    b.add_argument("--build-dir", default=None, help="default: ROOT/_build")
    b.add_argument(
        "--results-dir",
        default=None,
        help="experiments results store (default: CONVLAB_RESULTS_DIR, else BUILD_DIR/results)",
    )
    b.add_argument(
        "--repository-url",
        default=os.environ.get("CONVLAB_REPOSITORY_URL") or None,
        help="repository the launch buttons open (default: CONVLAB_REPOSITORY_URL, else "
        "_config.yml)",
    )
    b.add_argument(
        "--branch",
        default=os.environ.get("CONVLAB_REPOSITORY_BRANCH") or None,
        help="branch the launch buttons open (default: CONVLAB_REPOSITORY_BRANCH, else "
        "_config.yml)",
    )
    b.add_argument("--fresh", action="store_true", help="clear the execution cache first")
    b.add_argument("--quiet", action="store_true", help="print only warnings and the summary")
    b.add_argument(
        "--executor",
        choices=("serial", "ray"),
        default=None,
        help="where the chapters' missing runs train (default: CONVLAB_EXECUTOR, else serial); "
        "Ray's settings: RAY_ADDRESS, CONVLAB_RAY_WORKERS, CONVLAB_RAY_CPUS_PER_RUN, "
        "CONVLAB_RAY_GPUS_PER_RUN",
    )
    b.set_defaults(handler=run_build)

    s = actions.add_parser(
        "sync",
        help="rewrite the paired .ipynb files from the MyST chapters",
        description="Point each chapter's install cell at _config.yml's repository.url and "
        "rewrite the output-free .ipynb beside each MyST chapter. With --check, change "
        "nothing and exit 1 if anything is out of step.",
    )
    s.add_argument("--root", default=".", help=_ROOT_HELP)
    s.add_argument("--check", action="store_true", help="only report drift")
    s.add_argument("--url", default=None, help="the repository (default: _config.yml's)")
    s.add_argument(
        "--pin",
        default=None,
        metavar="REF",
        help="install cells install this commit or tag (the book workflow pins its launch "
        "notebooks to the commit it builds)",
    )
    s.set_defaults(handler=run_sync)
    p.set_defaults(handler=lambda args: p.print_help() or 2)


def _root(path: str) -> Path:
    root = Path(path).resolve()
    if not (root / "_config.yml").is_file():
        raise UserError(f"No _config.yml in {root}: run this in the repository root or use --root.")
    return root


def _editions(dataset: str) -> tuple[tuple[str, str], ...]:
    """``CONVLAB_EDITIONS`` checked: the editions of the published site, this one among them."""
    from convlab.book.sphinx_ext import parse_editions

    text = os.environ.get("CONVLAB_EDITIONS", "")
    try:
        editions = parse_editions(text)
    except ValueError as exc:  # DataError (an unknown dataset) is a ValueError too
        raise UserError(str(exc)) from None
    if editions and dataset not in editions:
        raise UserError(
            f"CONVLAB_EDITIONS={text!r} has no edition for the dataset being built, {dataset}."
        )
    return tuple(editions.items())


def _check_executor() -> None:
    """A wrong CONVLAB_EXECUTOR, or Ray missing: one message before Sphinx (no Keras)."""
    import importlib.util

    name = os.environ.get("CONVLAB_EXECUTOR") or "serial"
    if name not in ("serial", "ray"):
        raise UserError(f"CONVLAB_EXECUTOR must be serial or ray, got {name!r}.")
    if name == "ray" and importlib.util.find_spec("ray") is None:
        raise UserError(
            'The Ray executor needs Ray, which is not installed: pip install "convlab[ray]"'
        )


def run_build(args: argparse.Namespace) -> int:
    from convlab import settings
    from convlab.book.build import BuildSettings, build

    root = _root(args.root)
    build_dir = Path(args.build_dir).resolve() if args.build_dir else root / "_build"
    results = args.results_dir or os.environ.get("CONVLAB_RESULTS_DIR") or build_dir / "results"
    if args.dataset:
        os.environ["CONVLAB_DATASET"] = args.dataset
    if args.executor:  # the chapters' kernels inherit it
        os.environ["CONVLAB_EXECUTOR"] = args.executor
    _check_executor()
    if not args.profile:  # the default profile asks Keras for a GPU: start it quietly first
        from convlab.book.kernel import start_backend_quietly

        start_backend_quietly()
    config = BuildSettings(
        root=root,
        build_dir=build_dir,
        profile=args.profile or settings.profile_name(),
        dataset=settings.dataset(),  # validates the name
        results_dir=Path(results).resolve(),
        repository_url=args.repository_url,
        branch=args.branch,
        fresh=args.fresh,
        editions=_editions(settings.dataset()),
    )
    print(
        f"convlab book: profile {config.profile}, dataset {config.dataset}, "
        f"results in {config.results_dir}",
        flush=True,
    )
    result = build(config, quiet=args.quiet)
    if result.cache_cleared:
        print(f"execution cache cleared: {result.cache_cleared}")
    minutes, seconds = divmod(result.wall_time_s, 60)
    wall = f"{int(minutes)} min {seconds:.0f} s"
    if result.returncode:
        print(
            f"convlab book: FAILED after {wall} (exit {result.returncode}); see the messages above."
        )
        return result.returncode
    print(f"convlab book: built in {wall}\nHTML: {result.html_dir / 'index.html'}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from convlab.book.paired import drift, sync

    root = _root(args.root)
    if args.check:
        problems = drift(root)
        for line in problems:
            print(line)
        return 1 if problems else 0
    try:
        written = sync(root, url=args.url, pin=args.pin)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    return 0
