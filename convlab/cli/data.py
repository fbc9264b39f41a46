"""``convlab data verify`` and ``convlab data describe``: check a dataset's files, then look."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from convlab.data import DATASETS

    names = ", ".join(DATASETS)
    p = sub.add_parser(
        "data",
        help="verify a dataset's files or describe it",
        description="Find, verify and describe the datasets convlab trains on.",
    )
    p.set_defaults(handler=lambda args: _usage(p))
    actions = p.add_subparsers(title="actions", metavar="ACTION")

    for action, handler, help_text, description in (
        (
            "verify",
            verify,
            "check every file of a dataset and say where it came from",
            "Find the dataset's files (data dir, CONVLAB_DATA_DIR, Keras cache, system "
            "copy, else a download), check each one's SHA-256, and print sizes, hashes, "
            "the directory and the split sizes. Exit status 2 with the reason if anything "
            "is missing or corrupt.",
        ),
        (
            "describe",
            describe,
            "print shapes, classes, class balance and pixel statistics",
            "Load the verified dataset and print its image shape, classes, images per class "
            "in each split, and pixel statistics per split and channel.",
        ),
    ):
        a = actions.add_parser(action, help=help_text, description=description)
        a.add_argument("name", metavar="NAME", help=f"the dataset: one of {names}")
        a.add_argument("--data-dir", default=None, help="look for the files here first")
        a.add_argument("--no-download", action="store_true", help="fail instead of downloading")
        a.set_defaults(handler=handler)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load(args: argparse.Namespace):
    from convlab import data

    info = data.dataset_info(args.name)
    paths = data.locate(info, args.data_dir, download=not args.no_download)
    # locate() found (or fetched) the files; reading them again finds the same ones.
    return data.load_dataset(info, args.data_dir, download=False), paths


def _shape(ds) -> str:
    return " x ".join(map(str, ds.info.image_shape))


def verify(args: argparse.Namespace) -> int:
    ds, paths = _load(args)
    what = "decompressed content" if ds.info.format == "idx" else "file"
    files = "1 file" if len(paths) == 1 else f"{len(paths)} files"
    print(f"{ds.info.title} ({ds.info.name}): {files} verified")
    print(f"  from {ds.source}")
    width = max(len(p.name) for p in paths.values())
    for fname, path in paths.items():
        print(
            f"  {path.name:<{width}}  {path.stat().st_size:>12,} bytes  "
            f"SHA-256 {ds.info.files[fname][:16]}... ok ({what})"
        )
    print(
        f"  train {len(ds.y_train):,} images, test {len(ds.y_test):,} images, "
        f"each {_shape(ds)}, {ds.info.num_classes} classes"
    )
    return 0


def describe(args: argparse.Namespace) -> int:
    from convlab import eda

    ds, _ = _load(args)
    summary = eda.split_summary(ds)
    total = summary.loc["total"]
    print(
        f"{ds.info.title}: {_shape(ds)} images (height x width x channels), "
        f"{ds.info.num_classes} classes, {total['train']:,} train + {total['test']:,} test"
    )
    print(f"read from {ds.source}")
    print("\nImages per class:")
    print(summary.to_string())
    print("\nPixel statistics per split and channel (raw 0-255, and scaled to 0-1):")
    print(eda.pixel_stats(ds).to_string(float_format=lambda v: f"{v:.4g}"))
    return 0
