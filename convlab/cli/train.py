"""``convlab train``: train one reference model on one dataset and print its metrics."""

from __future__ import annotations

import argparse

from convlab.cli import UserError


def register(sub: argparse._SubParsersAction) -> None:
    from convlab.data import DATASETS
    from convlab.models import REFERENCES

    p = sub.add_parser(
        "train",
        help="train a reference model and print its test metrics",
        description="Train a reference model (seeded, early stopping on a stratified "
        "validation split) and print test loss, accuracy and per-class accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--model", default="cnn", help=f"one of: {', '.join(REFERENCES)}")
    p.add_argument("--dataset", default="fashion-mnist", help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--epochs", type=int, default=10, help="at most this many epochs")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, dropout and shuffling")
    p.add_argument(
        "--subset",
        type=int,
        default=None,
        metavar="N",
        help="train on a stratified subset of N images (default: all)",
    )
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    p.add_argument(
        "--precision",
        choices=("auto", "float32", "mixed_bfloat16"),
        default="auto",
        help="arithmetic of training; auto: mixed_bfloat16 where this machine has bfloat16 "
        "units (a CPU with AMX), else float32",
    )
    p.add_argument("--val-size", type=int, default=6000, help="validation images")
    p.add_argument("--data-dir", default=None, help="read the dataset from here first")
    p.add_argument("--save", default=None, metavar="DIR", help="save the model and result here")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from convlab import data, models, preprocess, train

    if args.epochs < 1 or args.batch_size < 1:
        raise UserError("--epochs and --batch-size must be at least 1.")
    spec = models.reference(args.model)
    ds = data.load(args.dataset, data_dir=args.data_dir)
    splits = preprocess.make_splits(ds, val_size=args.val_size, train_size=args.subset, seed=0)
    config = train.TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        schedule=args.schedule,
        precision=train.default_precision() if args.precision == "auto" else args.precision,
    )
    result = train.train(spec, splits, config, seed=args.seed, progress=not args.quiet)
    if args.save:
        from pathlib import Path

        out = Path(args.save)
        out.mkdir(parents=True, exist_ok=True)
        result.model.save(out / "model.keras")
        (out / "result.json").write_text(result.to_json())
    if args.json:
        print(result.to_json())
        return 0
    print(format_result(result, ds.info.title, args.model))
    return 0


def format_result(result, title: str, model_name: str) -> str:
    """A short human-readable report of one training run."""
    per_epoch = result.wall_time_s / max(result.epochs_run, 1)
    lines = [
        f"{model_name} on {title}: {result.params:,} parameters, "
        f"{result.macs_per_image:,} multiply-adds per image",
        f"trained on {result.train_size:,} images for {result.epochs_run} epochs "
        f"(best: {result.best_epoch}) in {result.wall_time_s:.1f} s "
        f"({per_epoch:.1f} s/epoch, {result.images_per_s:,.0f} images/s, {result.backend}, "
        f"{result.config.precision})",
        f"test accuracy {result.test_accuracy:.4f}, test loss {result.test_loss:.4f}",
        "per-class accuracy:",
    ]
    width = max(len(n) for n in result.class_names)
    for name, acc in zip(result.class_names, result.per_class_accuracy, strict=True):
        lines.append(f"  {name:<{width}}  {acc:.4f}")
    return "\n".join(lines)
