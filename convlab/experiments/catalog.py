"""The studies the book ships: each changes one convolutional choice of the reference CNN.

Arms are changes to the dataset's reference models (:func:`convlab.models.reference_models`),
so every study runs on any dataset; on Fashion-MNIST the base is the 32-64, 3x3, max-pool,
Dense-64 CNN of the assignment reports. Arms that equal the base (the 3x3 arm, the 2-block
arm, ...) are one configuration, trained once and shared through the results store.

Example:
    >>> sorted(STUDIES)[:3]
    ['augmentation', 'batch-norm', 'data-efficiency']
    >>> get_study("kernel-size").reference
    '3x3'
"""

from __future__ import annotations

from convlab.experiments.design import Arm, Study, StudyError, matched
from convlab.variants import DataVariant

__all__ = ["CONFOUNDED", "STUDIES", "get_study"]

# Held fixed in every study: the profile sets them and no arm changes them.
_TRAINING = (
    "dataset and its train / validation / test images (the profile's stratified slices)",
    "optimiser (Adam), learning rate, batch size, epochs and cosine schedule (the profile's); "
    "no early stopping, nothing tuned per arm",
    "seeds: the same seeds for every arm, so differences are paired by seed",
)
_BASE = "every other choice of the reference CNN (filters, kernels, padding, pooling, dense head)"


def _except(*changed: str) -> tuple[str, ...]:
    return (*_TRAINING, f"{_BASE} (except {', '.join(changed)})")


_ALL = (
    Study(
        name="mlp-vs-cnn",
        question="Does the reference CNN classify the test images more accurately than the "
        "MLP baseline, with the same data and training budget?",
        variable="architecture",
        arms={
            "MLP": Arm(model="baseline", value="MLP"),
            "CNN": Arm(model="cnn", value="CNN"),
        },
        reference="MLP",
        fixed=(*_TRAINING, "both models are the reference ones; parameter counts differ"),
    ),
    Study(
        name="kernel-size",
        question="Does a larger convolution kernel (5x5, 7x7 instead of 3x3) in every block "
        "improve test accuracy?",
        variable="kernel size",
        arms={f"{k}x{k}": Arm(blocks={"kernel_size": k}, value=k) for k in (3, 5, 7)},
        reference="3x3",
        fixed=_except("kernel size"),
    ),
    Study(
        name="depth",
        question="How does test accuracy change with the number of convolutional blocks "
        "(1, 2, 3; each added block doubles the filters of the one before)?",
        variable="convolutional blocks",
        arms={f"{n} block{'s' if n > 1 else ''}": Arm(depth=n, value=n) for n in (1, 2, 3)},
        reference="2 blocks",
        fixed=_except("number of blocks"),
    ),
    Study(
        name="width",
        question="How does test accuracy change with the number of filters per block "
        "(0.25x to 2x the reference CNN's, e.g. 8-16 to 64-128)?",
        variable="width (filters, relative to the reference CNN)",
        arms={f"{w:g}x": Arm(width=w, value=w) for w in (0.25, 0.5, 1.0, 2.0)},
        reference="1x",
        fixed=_except("filters per block"),
    ),
    Study(
        name="downsampling",
        question="Which way of shrinking the feature maps between blocks gives the best "
        "test accuracy: max pooling, average pooling, stride-2 convolution, or none?",
        variable="downsampling",
        arms={
            "max pool": Arm(blocks={"pool": "max", "stride": 1}, value="max pool"),
            "avg pool": Arm(blocks={"pool": "avg", "stride": 1}, value="avg pool"),
            "stride-2 conv": Arm(blocks={"pool": "none", "stride": 2}, value="stride-2 conv"),
            "none": Arm(blocks={"pool": "none", "stride": 1}, value="none"),
        },
        reference="max pool",
        fixed=_except("pooling and stride"),
    ),
    Study(
        name="padding",
        question="Does zero ('same') padding, which keeps the border pixels' outputs, beat "
        "'valid' convolutions that shrink every feature map?",
        variable="padding",
        arms={p: Arm(blocks={"padding": p}, value=p) for p in ("same", "valid")},
        reference="same",
        fixed=_except("padding"),
    ),
    Study(
        name="batch-norm",
        question="Does batch normalisation after every convolution improve test accuracy "
        "at the same training budget?",
        variable="batch normalisation",
        arms={
            "off": Arm(blocks={"batch_norm": False}, value="off"),
            "on": Arm(blocks={"batch_norm": True}, value="on"),
        },
        reference="off",
        fixed=_except("batch normalisation (conv without bias, BatchNorm, then ReLU)"),
    ),
    Study(
        name="augmentation",
        question="Do randomly shifted training images (moved by up to 1 or 2 pixels), mirrored "
        "ones (flipped left-right), or both, improve test accuracy at the same budget?",
        variable="training-image augmentation",
        arms={
            "none": Arm(value="none"),
            "shift 1 px": Arm(train={"augment_shift": 1}, value="shift 1"),
            "shift 2 px": Arm(train={"augment_shift": 2}, value="shift 2"),
            "flip": Arm(train={"augment_flip": True}, value="flip"),
            "flip + shift 2 px": Arm(
                train={"augment_flip": True, "augment_shift": 2}, value="flip + shift 2"
            ),
        },
        reference="none",
        # Each arm changes one thing from the one it is compared with: a shift, its size, a
        # flip, or a flip on top of the 2-pixel shift.
        comparisons=(
            ("shift 1 px", "none"),
            ("shift 2 px", "shift 1 px"),
            ("flip", "none"),
            ("flip + shift 2 px", "shift 2 px"),
        ),
        fixed=(
            *_TRAINING,
            f"{_BASE}; validation and test images are never augmented",
        ),
    ),
    Study(
        name="capacity",
        question="Does a deeper CNN (three blocks of two convolutions) beat the reference "
        "CNN, and does it need dropout and shifted training images to do so?",
        variable="capacity and regularisation",
        arms={
            "reference": Arm(value="reference"),
            "deeper": Arm(depth=3, blocks={"convs": 2, "dropout": 0.0}, value="deeper"),
            "deeper + dropout": Arm(
                depth=3, blocks={"convs": 2, "dropout": 0.25}, value="+ dropout"
            ),
            "deeper + dropout + shift": Arm(
                depth=3,
                blocks={"convs": 2, "dropout": 0.25},
                train={"augment_shift": 1},
                value="+ shift",
            ),
        },
        reference="reference",
        comparisons=(
            ("deeper", "reference"),
            ("deeper + dropout", "deeper"),
            ("deeper + dropout + shift", "deeper + dropout"),
            ("deeper + dropout + shift", "reference"),
        ),
        fixed=(
            *_TRAINING,
            "the reference CNN's first two blocks' filters, 3x3 kernels, 'same' padding, 2x2 "
            "max pooling and dense head; the third block doubles the filters; dropout (0.25, "
            "after each block's pooling) and shifts (up to 1 pixel, training images only, as "
            "in the augmentation study) are added one at a time",
        ),
    ),
    Study(
        name="data-efficiency",
        question="How much does the CNN's advantage over the MLP depend on the number of "
        "training images (1,000, 5,000, all), at equal epochs and at equal optimiser steps?",
        variable="training images",
        arms={
            f"{m} {label}{', equal steps' if steps else ''}": Arm(
                model=model,
                data=DataVariant(train_size=size),
                value=size or "all",
                group=f"{m}, equal steps" if steps else m,
                equal_steps=steps,
            )
            for steps in (False, True)
            for label, size in (("1k", 1000), ("5k", 5000), ("all", None))
            for m, model in (("MLP", "baseline"), ("CNN", "cnn"))
        },
        reference="MLP all",
        comparisons=(
            *((f"CNN {s}", f"MLP {s}") for s in ("1k", "5k", "all")),
            *((f"CNN {s}, equal steps", f"MLP {s}, equal steps") for s in ("1k", "5k")),
            *((f"{m} {s}, equal steps", f"{m} {s}") for s in ("1k", "5k") for m in ("MLP", "CNN")),
        ),
        # "all" is every image the profile allows: under `quick`, its train_size cap
        # (and under `smoke` every arm is capped to the same few hundred images).
        fixed=(
            *_TRAINING[1:],
            "validation and test images; smaller training sets are nested stratified "
            "subsets of larger ones; 'all' means the profile's training cap",
            "both models are the reference ones",
            "the epochs: the profile's for every arm, except the 'equal steps' arms, which "
            "train a smaller subset for proportionally more epochs (about the optimiser "
            "steps of the whole training set; the cosine schedule spans them all)",
        ),
        x="train_size",
    ),
    Study(
        name="locality",
        question="Does shuffling the pixel positions (one fixed random order, the same for every "
        "image) hurt the CNN while leaving the MLP unchanged?",
        variable="pixel order",
        arms={
            f"{m} {order}": Arm(
                model=model, data=DataVariant(permutation_seed=seed), value=order, group=m
            )
            for m, model in (("MLP", "baseline"), ("CNN", "cnn"))
            for order, seed in (("original", None), ("permuted", 0))
        },
        reference="MLP original",
        comparisons=(
            ("MLP permuted", "MLP original"),
            ("CNN permuted", "CNN original"),
            ("CNN permuted", "MLP permuted"),
        ),
        fixed=(
            *_TRAINING,
            "the permutation: one fixed random order of pixel positions (seed 0), the same for "
            "training, validation and test images, for both models and every seed",
            "both models are the reference ones",
        ),
    ),
)

# Studies whose arms differ in parameters by more than a quarter also run parameter-matched
# (the head resized, see convlab.experiments.design.matched): the book shows both, so the
# parameter count, a nuisance variable, is controlled instead of riding along.
CONFOUNDED = ("kernel-size", "depth", "width", "downsampling", "padding", "capacity")
_MATCHED = tuple(matched(s) for s in _ALL if s.name in CONFOUNDED)

STUDIES: dict[str, Study] = {s.name: s for s in (*_ALL, *_MATCHED)}


def get_study(name: str) -> Study:
    """A shipped study by name; a wrong name lists the valid ones."""
    if name not in STUDIES:
        raise StudyError(f"Unknown study {name!r}. Valid studies: {', '.join(STUDIES)}.")
    return STUDIES[name]
