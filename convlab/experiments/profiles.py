"""Compute profiles: how much data, how many epochs and seeds every run of a study gets.

A profile is data, not a code branch: the engine reads its fields and nothing else, so
``smoke`` (tests, seconds), ``quick`` (a 2-core laptop, all shipped studies in at most
30 minutes) and ``full`` (the published book, on a GPU) run the same code.

Example:
    >>> get_profile("smoke").train_config().epochs
    1
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from convlab.errors import ConvlabError
from convlab.train import TrainConfig, default_precision

__all__ = ["PROFILES", "Profile", "ProfileError", "get_profile"]


class ProfileError(ConvlabError, ValueError):
    """An unknown profile name or an impossible profile."""


@dataclass(frozen=True)
class Profile:
    """The compute budget of every run; the same for every arm of a study."""

    name: str
    description: str
    train_size: int | None  # training images, stratified; None: all the split leaves
    val_size: int  # validation images (learning curves; early stopping if patience is set)
    test_size: int | None  # test images, stratified; None: the whole official test split
    epochs: int
    seeds: int  # seeds 0 .. seeds-1, the same for every arm
    batch_size: int = 128
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    # Cosine decay to 0 and no early stopping: every arm gets exactly the same number of
    # optimiser steps, so a difference between arms is not a difference in stopping time.
    schedule: str = "cosine"
    patience: int | None = None
    # XLA on CPU compiles slowly and, on 2 cores, trains the 7x7 CNN ~4x slower than
    # plain TensorFlow (measured); on a GPU Keras' "auto" choice is the fast one.
    jit_compile: bool | str = False
    split_seed: int = 0  # the train/validation/test slices; fixed, so only training varies
    # "auto": convlab.train.default_precision() of this machine, resolved when a run is
    # planned, so the run's record and key hold the precision it really trained in.
    precision: str = "auto"
    # The tabular comparison of the interpretation chapter (convlab.inspect.tabular): a
    # small table, so many epochs with early stopping on validation loss.
    tabular_epochs: int = 100
    tabular_patience: int = 8

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.seeds < 1 or self.batch_size < 1 or self.val_size < 1:
            raise ProfileError(f"Profile {self.name!r}: epochs, seeds, batch_size, val_size >= 1.")

    def train_config(self, **changes) -> TrainConfig:
        """The :class:`~convlab.train.TrainConfig` of a run, with an arm's ``changes``."""
        base = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            schedule=self.schedule,
            patience=self.patience,
            jit_compile=self.jit_compile,
            precision=default_precision() if self.precision == "auto" else self.precision,
        )
        unknown = set(changes) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ProfileError(f"Not TrainConfig fields: {', '.join(sorted(unknown))}.")
        return dataclasses.replace(base, **changes)

    def tabular_config(self) -> TrainConfig:
        """The training of the tabular comparison: Adam at 1e-3, batch 64, constant rate,
        up to ``tabular_epochs`` with early stopping (``tabular_patience``)."""
        return self.train_config(
            epochs=self.tabular_epochs,
            batch_size=64,
            learning_rate=1e-3,
            schedule="constant",
            patience=self.tabular_patience,
        )

    def seed_list(self, n: int | None = None) -> tuple[int, ...]:
        """Seeds ``0 .. n-1`` (default: this profile's number of seeds)."""
        n = self.seeds if n is None else int(n)
        if n < 1:
            raise ProfileError(f"Need at least one seed, got {n}.")
        return tuple(range(n))


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            description="tests and CI: tiny slices, 1 epoch, 2 seeds; checks plumbing, not science",
            train_size=300,
            val_size=200,
            test_size=500,
            epochs=1,
            seeds=2,
            batch_size=32,  # the quick profile's optimiser settings, on a sliver of data
            learning_rate=2e-3,
            tabular_epochs=3,
            tabular_patience=1,
        ),
        # Budget, measured on a 2-vCPU AMD EPYC without bfloat16 units (float32, TensorFlow
        # CPU, no XLA; 2026-12-04): the 65 arms of the shipped studies (naive and
        # parameter-matched) are 40 distinct configurations (the reference CNN is one arm of
        # many studies and trains once), 120 runs at 3 seeds; the whole book, cold (empty
        # store and cache), built in 17 min 25 s (`time make book`), within the 30-minute
        # budget. On an Intel Xeon with AMX (mixed bfloat16) the 75-run catalogue of 12-04
        # built in 7.8 minutes.
        Profile(
            name="quick",
            description="a 2-core laptop: 6,000 training images, 4 epochs, 3 seeds; "
            "all shipped studies in under 30 minutes",
            train_size=6000,
            val_size=2000,
            test_size=None,
            epochs=4,
            seeds=3,
            # Few images and epochs: small batches and a higher rate give the optimiser
            # 750 steps (batch 128 at 1e-3 left both models near 79%: too few steps). The
            # fourth epoch (3 until 2026-12-05) spends the budget's headroom on the regime's
            # weakest point: larger and regularised arms that had not finished learning.
            batch_size=32,
            learning_rate=2e-3,
        ),
        Profile(
            name="full",
            description="the published book, on a GPU: all data, 20 epochs, 5 seeds",
            train_size=None,
            val_size=6000,
            test_size=None,
            epochs=20,
            seeds=5,
            jit_compile="auto",
        ),
        # The regime the quick profile's conclusions are checked against (the experiments
        # chapter's regime table): every training image and enough epochs for the models to
        # converge, on a CPU. float32 on every machine, so that runs made on machines with
        # and without bfloat16 units are the same runs and one store can span sessions.
        Profile(
            name="reference",
            description="the reference regime: all data, 15 epochs, 3 seeds, float32",
            train_size=None,
            val_size=6000,
            test_size=None,
            epochs=15,
            seeds=3,
            precision="float32",
        ),
    )
}


def get_profile(name: str | Profile | None = None) -> Profile:
    """A profile by name; ``None`` reads :func:`convlab.settings.profile_name`."""
    if isinstance(name, Profile):
        return name
    if name is None:
        from convlab.settings import profile_name

        name = profile_name()
    if name not in PROFILES:
        raise ProfileError(
            f"Unknown profile {name!r}. Valid profiles: {', '.join(PROFILES)} "
            "(set CONVLAB_PROFILE or pass --profile)."
        )
    return PROFILES[name]
