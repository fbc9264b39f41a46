"""The `convlab` command: one subcommand module per concept, each with ``register()``."""

from __future__ import annotations

import argparse
import importlib
import sys

from convlab.errors import ConvlabError

# Each module convlab.cli.<name> defines register(subparsers) and sets a handler with
# parser.set_defaults(handler=fn); fn(args) returns an exit code.
SUBCOMMANDS = ("data", "train", "serve", "book", "study")


class UserError(ConvlabError):
    """A mistake on the command line: printed as one line, exit code 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convlab",
        description="Convolutional layers taught through data and controlled experiments.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"convlab.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ConvlabError as exc:
        print(f"convlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convlab: interrupted", file=sys.stderr)
        return 130
