"""The design of a controlled experiment: a study, its arms, and the model each arm trains.

A :class:`Study` names a question, the variable it changes, its arms (label -> the change)
and a reference arm; :func:`resolve_spec` turns an arm into the exact model spec it trains
on a dataset. The shipped studies are in :mod:`convlab.experiments.catalog`; running them
is :mod:`convlab.experiments.runner`'s job.

Example:
    >>> from convlab.experiments.catalog import get_study
    >>> resolve_spec(get_study("kernel-size").arms["5x5"], "fashion-mnist").blocks[0].kernel_size
    5
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from convlab.data import dataset_info
from convlab.errors import ConvlabError
from convlab.experiments.profiles import Profile
from convlab.models import (
    REFERENCES,
    CNNSpec,
    ModelSpec,
    SpecError,
    count_params,
    head_for_params,
    reference_models,
)
from convlab.train import TrainConfig
from convlab.variants import DataVariant, data_slice

__all__ = [
    "Arm",
    "Study",
    "StudyError",
    "arm_config",
    "arm_spec",
    "matched",
    "resolve_spec",
    "unbuildable_arms",
]


class StudyError(ConvlabError, ValueError):
    """A study that is not well formed, or an arm that cannot apply to its model."""


@dataclass(frozen=True)
class Arm:
    """One value of a study's variable: a change to the model, the training or the data.

    The model is ``model`` (default: the study's base), then ``depth``, ``width`` and
    ``blocks`` applied in that order, so an arm reads as "the base CNN with 5x5 kernels".
    """

    # "cnn" or "baseline" (the dataset's reference models, see convlab.models.reference_models),
    # a name in convlab.models.REFERENCES, or a spec; None: the study's base.
    model: str | ModelSpec | None = None
    depth: int | None = None  # keep the first n conv blocks; extra blocks double the filters
    width: float | None = None  # multiply every block's filters (rounded, at least 1)
    blocks: Mapping[str, Any] = field(default_factory=dict)  # ConvBlock changes, every block
    train: Mapping[str, Any] = field(default_factory=dict)  # TrainConfig changes
    data: DataVariant = DataVariant()
    value: float | str | None = None  # the variable's value, for plots (None: the label)
    group: str | None = None  # arms with a group are drawn as one line per group
    # Resize the dense head so the arm has the parameters of its study's reference arm
    # (within 10 %): the parameter-matched version of the arm (see arm_spec).
    match_params: bool = False
    # Train a smaller training subset for proportionally more epochs, so the arm gets about
    # as many optimiser steps as the profile's whole training set (see arm_config).
    equal_steps: bool = False


@dataclass(frozen=True)
class Study:
    """A controlled experiment.

    Attributes:
        name: what ``convlab study run`` takes.
        question: one sentence the study answers.
        variable: the scientific variable the arms change.
        arms: label -> :class:`Arm`, in the order tables and plots show them.
        reference: the arm the others are compared with.
        fixed: what is held fixed, in words, for the book to print.
        base: the model arms change unless they name their own (see :attr:`Arm.model`).
        seeds: number of seeds; None: the profile's.
        comparisons: (arm, other) pairs for :meth:`StudyResult.differences`; None: every
            arm against ``reference``.
        x: the table column plots put on the x axis ("value", "train_size" or "params").
    """

    name: str
    question: str
    variable: str
    arms: Mapping[str, Arm]
    reference: str
    fixed: tuple[str, ...] = ()
    base: str | ModelSpec = "cnn"
    seeds: int | None = None
    comparisons: tuple[tuple[str, str], ...] | None = None
    x: str = "value"

    def __post_init__(self) -> None:
        if not self.arms:
            raise StudyError(f"Study {self.name!r} has no arms.")
        if self.reference not in self.arms:
            raise StudyError(
                f"Study {self.name!r}: reference {self.reference!r} is not one of its arms "
                f"({', '.join(self.arms)})."
            )
        for a, b in self.comparisons or ():
            if a not in self.arms or b not in self.arms:
                raise StudyError(f"Study {self.name!r}: comparison {a!r} vs {b!r} names no arm.")
        if self.seeds is not None and self.seeds < 1:
            raise StudyError(f"Study {self.name!r}: seeds must be >= 1, got {self.seeds}.")

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The (arm, compared-with) pairs of the differences table."""
        if self.comparisons is not None:
            return self.comparisons
        return tuple((a, self.reference) for a in self.arms if a != self.reference)


def _model(name: str | ModelSpec, dataset: str) -> ModelSpec:
    if not isinstance(name, str):
        return name
    if name in ("cnn", "baseline"):
        baseline, cnn = reference_models(dataset)
        name = cnn if name == "cnn" else baseline
    if name not in REFERENCES:
        raise StudyError(
            f"Unknown model {name!r}: use 'cnn', 'baseline' or one of {', '.join(REFERENCES)}."
        )
    return REFERENCES[name][0]


def resolve_spec(arm: Arm, dataset: str, base: str | ModelSpec = "cnn") -> ModelSpec:
    """The exact model spec an arm trains on a dataset."""
    spec = _model(arm.model if arm.model is not None else base, dataset)
    changes = arm.depth is not None or arm.width is not None or arm.blocks
    if changes and not isinstance(spec, CNNSpec):
        raise StudyError("depth, width and blocks change convolutional blocks: use a CNN model.")
    if arm.depth is not None:
        if arm.depth < 1:
            raise StudyError(f"depth must be >= 1, got {arm.depth}.")
        blocks = list(spec.blocks[: arm.depth])
        while len(blocks) < arm.depth:
            blocks.append(dataclasses.replace(blocks[-1], filters=2 * blocks[-1].filters))
        spec = dataclasses.replace(spec, blocks=tuple(blocks))
    if arm.width is not None:
        spec = dataclasses.replace(
            spec,
            blocks=tuple(
                dataclasses.replace(b, filters=max(1, round(b.filters * arm.width)))
                for b in spec.blocks
            ),
        )
    if arm.blocks:
        spec = spec.with_blocks(**arm.blocks)
    return spec


def arm_spec(study: Study, label: str, dataset: str) -> ModelSpec:
    """The exact spec arm ``label`` of ``study`` trains on a dataset, matched if it asks.

    Raises:
        StudyError: "cannot be built: ..." for a matched arm no head width can match.
    """
    arm = study.arms[label]
    spec = resolve_spec(arm, dataset, study.base)
    if not arm.match_params:
        return spec
    info = dataset_info(dataset)
    shape, classes = info.image_shape, len(info.class_names)
    reference = resolve_spec(study.arms[study.reference], dataset, study.base)
    target = count_params(reference, shape, classes)
    try:
        return head_for_params(spec, shape, classes, target)
    except SpecError as exc:
        raise StudyError(f"cannot be built: {exc}") from None


def arm_config(study: Study, label: str, profile: Profile, dataset: str) -> TrainConfig:
    """The training config arm ``label`` runs with under ``profile``: the profile's, with the
    arm's changes; an ``equal_steps`` arm trains ``profile.epochs x (all / its images)``
    epochs (rounded), about the optimiser steps of the profile's whole training set."""
    arm = study.arms[label]
    config = profile.train_config(**dict(arm.train))
    if not arm.equal_steps:
        return config
    info = dataset_info(dataset)

    def images(variant: DataVariant | None) -> int:
        n = data_slice(profile, variant)["train_size"]
        return info.train_size - profile.val_size if n is None else n

    epochs = max(1, round(config.epochs * images(None) / images(arm.data)))
    return dataclasses.replace(config, epochs=epochs)


def unbuildable_arms(study: Study, dataset: str) -> dict[str, str]:
    """Arm label -> why it cannot be built on ``dataset`` (matched arms no head can match)."""
    out = {}
    for label in study.arms:
        try:
            arm_spec(study, label, dataset)
        except StudyError as exc:
            if not str(exc).startswith("cannot be built"):
                raise
            out[label] = str(exc)
    return out


def matched(study: Study) -> Study:
    """The parameter-matched twin of a study: the same arms and comparisons, each arm's
    dense head resized to the reference arm's parameter count (within 10 %)."""
    return dataclasses.replace(
        study,
        name=f"{study.name}-matched",
        question=f"{study.question.rstrip('?')}, at equal parameters (each arm's dense head "
        "resized to the reference arm's parameter count, within 10 %)?",
        arms={k: dataclasses.replace(a, match_params=True) for k, a in study.arms.items()},
        fixed=(
            *study.fixed,
            "the parameter count: the first dense layer's width is set so every arm has the "
            "reference arm's parameters within 10 % (so the head's width is what differs)",
        ),
    )
