"""``convlab export``, ``convlab serve`` and ``convlab predict``: deployment from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from convlab.cli import UserError


def register(sub: argparse._SubParsersAction) -> None:
    from convlab.deploy.server import DEFAULT_MAX_BODY_BYTES, DEFAULT_WORKERS

    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser(
        "export",
        help="export a .keras model for SageMaker and `convlab serve`",
        description="Write model.keras, convlab.json and a SageMaker TensorFlow Serving "
        "model.tar.gz (1/ SavedModel + code/inference.py) to OUT.",
        formatter_class=fmt,
    )
    p.add_argument("--model", required=True, help="a .keras file, e.g. from `convlab train --save`")
    p.add_argument("--out", required=True, help="the export directory")
    p.add_argument("--dataset", default="fashion-mnist", help="names the classes")
    p.add_argument(
        "--class-names", default=None, help="comma-separated names; overrides the dataset's"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in OUT")
    p.set_defaults(handler=run_export)

    p = sub.add_parser(
        "serve",
        help="serve an exported model over HTTP (SageMaker contract)",
        description="Serve an export on GET /ping and POST /invocations (application/json "
        '{"instances": [...]}, image/png, image/jpeg). ?top_k=K sets how many classes to '
        "list. Ctrl-C stops.",
        formatter_class=fmt,
    )
    p.add_argument("--model", required=True, metavar="DIR", help="a `convlab export` directory")
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves other machines too")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument(
        "--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="larger bodies get 413"
    )
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="requests served at once")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.set_defaults(handler=run_serve)

    p = sub.add_parser(
        "predict",
        help="classify images with a running `convlab serve` or a SageMaker endpoint",
        description='Send PNG/JPEG images and JSON files ({"instances": [...]}) to an '
        "endpoint and print the predicted classes.",
        formatter_class=fmt,
    )
    p.add_argument("images", nargs="*", metavar="IMAGE", help="PNG or JPEG files")
    p.add_argument("--json", action="append", default=[], metavar="FILE", help="a JSON payload")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--url", default="http://127.0.0.1:8080", help="a `convlab serve` URL")
    target.add_argument("--endpoint", default=None, help="a SageMaker endpoint name (needs boto3)")
    p.add_argument("--region", default=None, help="AWS region of --endpoint")
    p.add_argument("--top-k", type=int, default=3, help="classes to list per image")
    p.add_argument("--raw", action="store_true", help="print the JSON answers")
    p.set_defaults(handler=run_predict)


def run_export(args: argparse.Namespace) -> int:
    import keras

    from convlab.deploy.export import check_target, export_model

    check_target(args.out, args.overwrite)  # before the slow model load
    path = Path(args.model)
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise UserError(f"{path} does not exist; pass a .keras file to --model.")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a file it cannot read
        raise UserError(f"{path} cannot be loaded as a Keras model ({exc}).") from None
    names = [n.strip() for n in args.class_names.split(",")] if args.class_names else None
    exported = export_model(
        model,
        args.out,
        class_names=names,
        dataset=None if names else args.dataset,
        overwrite=args.overwrite,
    )
    print(f"exported to {exported.directory}:")
    for f in (exported.keras_path, exported.metadata_path, exported.tarball_path):
        print(f"  {f.name:<13} {f.stat().st_size:>10,} bytes")
    print(f"serve it with: convlab serve --model {exported.directory}")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from convlab.deploy import serve

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be from 0 to 65535; got {args.port}.")
    if args.workers < 1 or args.max_body_bytes < 1:
        raise UserError("--workers and --max-body-bytes must be at least 1.")
    serve(
        args.model,
        host=args.host,
        port=args.port,
        max_body_bytes=args.max_body_bytes,
        workers=args.workers,
        verbose=args.verbose,
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from convlab.deploy import client

    if not args.images and not args.json:
        raise UserError("Give at least one IMAGE file or --json FILE to classify.")
    if args.top_k < 1:
        raise UserError("--top-k must be at least 1.")
    # Read every file first: a missing one is a usage error, before any request goes out.
    payloads = [(name, *client.payload_from_file(name)) for name in args.images]
    for name in args.json:
        try:
            payloads.append((name, Path(name).read_bytes(), "application/json"))
        except OSError as exc:
            raise UserError(f"{name}: cannot be read ({exc.strerror}).") from None
    failures = 0
    for name, body, content_type in payloads:
        try:
            if args.endpoint:
                answer = client.predict_sagemaker(
                    args.endpoint, body, content_type, args.region, top_k=args.top_k
                )
            else:
                answer = client.predict_local(args.url, body, content_type, top_k=args.top_k)
        except client.ServingError as exc:
            # One refused file should not hide the answers for the others.
            print(f"{name}: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        if args.raw:
            print(json.dumps({"input": name, **answer}))
            continue
        predictions = answer["predictions"]
        for i, prediction in enumerate(predictions):
            label = name if len(predictions) == 1 else f"{name}[{i}]"
            print(f"{label}: {format_prediction(prediction)}")
    return 1 if failures else 0


def format_prediction(prediction: dict) -> str:
    """``Sneaker 93.1% (Sandal 4.0%, Ankle boot 2.1%)``."""
    best, *rest = prediction["top_k"]
    text = f"{best['class']} {100 * best['probability']:.1f}%"
    if rest:
        text += " (" + ", ".join(f"{p['class']} {100 * p['probability']:.1f}%" for p in rest) + ")"
    return text
