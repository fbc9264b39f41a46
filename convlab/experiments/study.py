"""Controlled experiments: one scientific variable, every other setting fixed, several seeds.

A :class:`Study` names a question, the variable it changes, its arms (label -> the change)
and a reference arm. :func:`run_study` trains every (arm, seed) the store does not hold
yet, then :class:`StudyResult` summarises over seeds: a per-arm table with 95% t
intervals, paired differences to the reference, and a conclusion in words generated from
those numbers. :func:`train_one` is the same cached run for a single model.

Example:
    >>> from convlab.experiments import get_study, run_study
    >>> result = run_study(get_study("kernel-size"), profile="smoke")  # doctest: +SKIP
    >>> result.table()[["n_seeds", "mean_accuracy", "ci95_half_width"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convlab import train as _train  # called as _train.train, so tests can count trainings
from convlab.errors import ConvlabError
from convlab.experiments.profiles import Profile, get_profile
from convlab.experiments.stats import Interval, mean_interval, paired_difference, verdict
from convlab.experiments.store import ResultsStore, run_inputs, run_key
from convlab.experiments.variants import DataVariant, data_slice, load_splits
from convlab.models import REFERENCES, CNNSpec, MLPSpec, ModelSpec, count_params, macs_per_image
from convlab.train import TrainConfig, TrainResult

__all__ = [
    "Arm",
    "Run",
    "Study",
    "StudyError",
    "StudyResult",
    "describe",
    "load_study",
    "resolve_spec",
    "run_study",
    "train_one",
]


class StudyError(ConvlabError, ValueError):
    """A study that is not well formed, or an arm that cannot apply to its model."""


# --------------------------------------------------------------------------- arms and studies


@dataclass(frozen=True)
class Arm:
    """One value of a study's variable: a change to the model, the training or the data.

    The model is ``model`` (default: the study's base), then ``depth``, ``width`` and
    ``blocks`` applied in that order, so an arm reads as "the base CNN with 5x5 kernels".
    """

    # "cnn" or "baseline" (the dataset's reference models, see convlab.settings.models_for),
    # a name in convlab.models.REFERENCES, or a spec; None: the study's base.
    model: str | ModelSpec | None = None
    depth: int | None = None  # keep the first n conv blocks; extra blocks double the filters
    width: float | None = None  # multiply every block's filters (rounded, at least 1)
    blocks: Mapping[str, Any] = field(default_factory=dict)  # ConvBlock changes, every block
    train: Mapping[str, Any] = field(default_factory=dict)  # TrainConfig changes
    data: DataVariant = DataVariant()
    value: float | str | None = None  # the variable's value, for plots (None: the label)
    group: str | None = None  # arms with a group are drawn as one line per group


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
        from convlab.settings import models_for

        baseline, cnn = models_for(dataset)
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


def describe(spec: ModelSpec) -> str:
    """A one-line summary of an architecture (for tables)."""
    if isinstance(spec, MLPSpec):
        text = "MLP " + "-".join(map(str, spec.hidden))
        return text + (f", dropout {spec.dropout:g}" if spec.dropout else "")

    def each(attr: str) -> str:
        values = [getattr(b, attr) for b in spec.blocks]
        return str(values[0]) if len(set(values)) == 1 else "/".join(map(str, values))

    filters = "-".join(f"{b.filters}" + (f"x{b.convs}" if b.convs > 1 else "") for b in spec.blocks)
    k = each("kernel_size")
    parts = [f"conv {filters}", f"{k}x{k}" if "/" not in k else f"k {k}", each("padding")]
    pools = {b.pool for b in spec.blocks}
    parts.append("no pooling" if pools == {"none"} else f"{each('pool')} pool")
    if any(b.stride > 1 for b in spec.blocks):
        parts.append(f"stride {each('stride')}")
    if any(b.batch_norm for b in spec.blocks):
        parts.append("batch norm")
    if any(b.dropout for b in spec.blocks):
        parts.append(f"dropout {each('dropout')}")
    head = "-".join(map(str, spec.dense))
    if head and spec.dense_dropout:
        head += f", dropout {spec.dense_dropout:g}"
    return ", ".join(parts) + (f"; dense {head}" if head else "")


# --------------------------------------------------------------------------- single runs


def _dataset_name(dataset: str | None) -> str:
    from convlab.data import dataset_info
    from convlab.settings import dataset as default_dataset

    return default_dataset() if dataset is None else dataset_info(dataset).name


def _store(store: ResultsStore | str | None) -> ResultsStore:
    return store if isinstance(store, ResultsStore) else ResultsStore(store)


def _fetch_or_train(
    inputs: dict, store: ResultsStore, keep_model: bool, spec, config
) -> tuple[TrainResult, bool]:
    """(result, trained?) for one run: the stored record if usable, else a fresh run."""
    result = store.load(inputs, with_model=keep_model)
    if result is not None:
        return result, False
    return _train_and_save(inputs, store, keep_model, spec, config), True


def _train_and_save(inputs: dict, store: ResultsStore, keep_model: bool, spec, config):
    splits = load_splits(inputs["dataset"], inputs["data"])
    result = _train.train(spec, splits, config, seed=inputs["seed"], progress=False)
    store.save(inputs, result, with_model=keep_model)
    return result


def train_one(
    spec: ModelSpec,
    dataset: str | None = None,
    profile: str | Profile | None = None,
    seed: int = 0,
    store: ResultsStore | str | None = None,
    data_variant: DataVariant | None = None,
    keep_model: bool = False,
    config: TrainConfig | None = None,
) -> TrainResult:
    """One cached training run: the stored result if there is one, else train and store it.

    Args:
        spec: the architecture.
        dataset: a dataset name; default :func:`convlab.settings.dataset`.
        profile: data slices and training budget; default :func:`get_profile`.
        seed: seeds weights, dropout and shuffling.
        store: a :class:`ResultsStore` or its directory; default the settings' one.
        data_variant: a smaller training subset or a pixel permutation.
        keep_model: also store the trained Keras model, so ``result.model`` is usable on
            a cache hit too.
        config: the training config; default the profile's.
    """
    profile = get_profile(profile)
    name = _dataset_name(dataset)
    config = config or profile.train_config()
    inputs = run_inputs(spec, config, seed, name, data_slice(profile, data_variant), profile.name)
    result, _ = _fetch_or_train(inputs, _store(store), keep_model, spec, config)
    return result


# --------------------------------------------------------------------------- studies


@dataclass(frozen=True)
class Run:
    """One (arm, seed) of a study: what it ran with, and its result if there is one."""

    arm: str
    seed: int
    spec: ModelSpec
    config: TrainConfig
    inputs: dict
    key: str
    result: TrainResult | None = None
    status: str = "missing"  # "stored" (loaded), "trained" (this call) or "missing"


def _plan(study: Study, profile: Profile, dataset: str, seeds: tuple[int, ...]) -> list[Run]:
    # Seeds outer, arms inner: a study stopped half-way has every arm at the first seeds,
    # which is a comparable (if noisier) result.
    runs = []
    for seed in seeds:
        for label, arm in study.arms.items():
            spec = resolve_spec(arm, dataset, study.base)
            config = profile.train_config(**dict(arm.train))
            inputs = run_inputs(
                spec, config, seed, dataset, data_slice(profile, arm.data), profile.name
            )
            runs.append(Run(label, seed, spec, config, inputs, run_key(inputs)))
    return runs


def _seeds(study: Study, profile: Profile, seeds: int | Sequence[int] | None) -> tuple[int, ...]:
    if seeds is None:
        return profile.seed_list(study.seeds)
    if isinstance(seeds, int):
        return profile.seed_list(seeds)
    return tuple(int(s) for s in seeds)


def _cost(run: Run, dataset: str) -> float:
    """A run's relative cost, for the ETA: image passes (a training step ~3 forward passes)
    times multiply-adds per image plus a per-image overhead, plus a per-run overhead.

    The overheads (~3M multiply-adds per image, ~2 s per run) were fitted to CPU times of
    the quick profile on 2 cores, where a 7x7 CNN costs ~3x a 3x3 one, not the 5x of MACs.
    """
    from convlab.data import dataset_info

    info = dataset_info(dataset)
    d, c = run.inputs["data"], run.config
    n_train = d["train_size"] or info.train_size - d["val_size"]
    n_test = d["test_size"] or info.test_size
    macs = macs_per_image(run.spec, info.image_shape, len(info.class_names))
    per_epoch = 3 * n_train + d["val_size"]
    return (macs + 3e6) * (c.epochs * per_epoch + n_test) + 5e10


def load_study(
    study: Study | str,
    profile: str | Profile | None = None,
    store: ResultsStore | str | None = None,
    dataset: str | None = None,
    seeds: int | Sequence[int] | None = None,
) -> StudyResult:
    """What the store holds for a study, training nothing (``result.missing`` says the rest)."""
    if isinstance(study, str):
        from convlab.experiments.catalog import get_study

        study = get_study(study)
    profile = get_profile(profile)
    dataset = _dataset_name(dataset)
    store = _store(store)
    first_problem = len(store.problems)
    runs = []
    for run in _plan(study, profile, dataset, _seeds(study, profile, seeds)):
        result = store.load(run.inputs)
        status = "missing" if result is None else "stored"
        runs.append(dataclasses.replace(run, result=result, status=status))
    problems = tuple(store.problems[first_problem:])
    return StudyResult(study, profile, dataset, tuple(runs), problems)


def run_study(
    study: Study | str,
    profile: str | Profile | None = None,
    store: ResultsStore | str | None = None,
    dataset: str | None = None,
    progress: bool = True,
    seeds: int | Sequence[int] | None = None,
) -> StudyResult:
    """Load a study's stored runs and train only the missing ones.

    Each run's record is written as soon as it finishes, so an interrupted study resumes
    where it stopped. Runs that several arms (or studies) share are trained once.

    Args:
        study: a :class:`Study` or the name of a shipped one (``"kernel-size"``).
        profile: data slices, epochs and seeds; default :func:`get_profile`.
        store: a :class:`ResultsStore` or its directory; default the settings' one.
        dataset: default :func:`convlab.settings.dataset`.
        progress: a progress bar over the runs to train, with an ETA.
        seeds: a number of seeds or the seeds themselves; default the study's or profile's.
    """
    store = _store(store)
    loaded = load_study(study, profile, store, dataset, seeds)
    study, profile, dataset = loaded.study, loaded.profile, loaded.dataset
    todo: dict[str, Run] = {}
    for run in loaded.runs:
        if run.status == "missing":
            todo.setdefault(run.key, run)
    done: dict[str, TrainResult] = {}
    if todo:
        if progress:
            from tqdm.auto import tqdm
        else:  # tqdm.auto warns on stderr at import in kernels without ipywidgets
            from tqdm import tqdm

        costs = {k: _cost(r, dataset) for k, r in todo.items()}
        total = sum(costs.values())
        bar = tqdm(
            total=total,
            desc=study.name,
            disable=not progress,
            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
        )
        try:
            for i, (key, run) in enumerate(todo.items(), 1):
                bar.set_description(
                    f"{study.name}: run {i}/{len(todo)} ({run.arm}, seed {run.seed})"
                )
                done[key] = _train_and_save(run.inputs, store, False, run.spec, run.config)
                bar.update(costs[key])
        finally:
            bar.close()
    runs = tuple(
        dataclasses.replace(r, result=done[r.key], status="trained") if r.key in done else r
        for r in loaded.runs
    )
    return StudyResult(study, profile, dataset, runs, loaded.problems)


# --------------------------------------------------------------------------- results


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _points(x: float) -> str:
    return f"{100 * x:+.2f}"


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


@dataclass(frozen=True)
class StudyResult:
    """The runs of a study and their summaries over seeds."""

    study: Study
    profile: Profile
    dataset: str
    runs: tuple[Run, ...]
    problems: tuple[str, ...] = ()  # unusable records that were reported (and retrained)

    @property
    def records(self) -> list[TrainResult]:
        """The results of every finished run, arm by arm in study order, seeds ascending."""
        order = {a: i for i, a in enumerate(self.study.arms)}
        done = [r for r in self.runs if r.result is not None]
        done.sort(key=lambda r: (order[r.arm], r.seed))
        return [r.result for r in done]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted({r.seed for r in self.runs}))

    @property
    def missing(self) -> list[tuple[str, int]]:
        """(arm, seed) of the runs the store does not hold."""
        return [(r.arm, r.seed) for r in self.runs if r.result is None]

    @property
    def trained(self) -> int:
        """How many distinct runs this call trained."""
        return len({r.key for r in self.runs if r.status == "trained"})

    def accuracies(self, arm: str) -> dict[int, float]:
        """seed -> test accuracy of an arm's finished runs."""
        return {r.seed: r.result.test_accuracy for r in self.runs if r.arm == arm and r.result}

    def interval(self, arm: str, confidence: float = 0.95) -> Interval:
        """Mean test accuracy of an arm over seeds, with its t interval."""
        return mean_interval(self.accuracies(arm).values(), confidence)

    def difference(self, arm: str, other: str, confidence: float = 0.95) -> Interval:
        """Mean paired (by seed) test-accuracy difference ``arm - other`` with its interval."""
        return paired_difference(self.accuracies(arm), self.accuracies(other), confidence)

    def frame(self):
        """One row per (arm, seed): tidy per-run measurements (NaN where missing)."""
        import pandas as pd

        rows = []
        for r in self.runs:
            res = r.result
            rows.append(
                {
                    "arm": r.arm,
                    "seed": r.seed,
                    "status": r.status,
                    "test_accuracy": res.test_accuracy if res else math.nan,
                    "test_loss": res.test_loss if res else math.nan,
                    "params": res.params if res else math.nan,
                    "macs_per_image": res.macs_per_image if res else math.nan,
                    "images_per_s": res.images_per_s if res else math.nan,
                    "wall_time_s": res.wall_time_s if res else math.nan,
                    "epochs_run": res.epochs_run if res else math.nan,
                    "key": r.key,
                }
            )
        return pd.DataFrame(rows)

    def curves(self):
        """One row per (arm, seed, epoch): the learning curves, tidy."""
        import pandas as pd

        rows = []
        for r in self.runs:
            if r.result is None:
                continue
            h = r.result.history
            for e in range(r.result.epochs_run):
                row = {"arm": r.arm, "seed": r.seed, "epoch": e + 1}
                row.update({k: v[e] for k, v in h.items()})
                rows.append(row)
        return pd.DataFrame(rows)

    def table(self):
        """One row per arm (index: arm label): seeds, mean, std and t interval of the test
        accuracy (fractions, not percent), parameters, multiply-adds per image, training
        throughput and wall time per run (means over seeds)."""
        import pandas as pd

        from convlab.data import dataset_info

        info = dataset_info(self.dataset)
        rows = []
        for label, arm in self.study.arms.items():
            runs = [r for r in self.runs if r.arm == label]
            spec, done = runs[0].spec, [r.result for r in runs if r.result is not None]
            iv = self.interval(label)
            n_train = runs[0].inputs["data"]["train_size"]
            rows.append(
                {
                    "arm": label,
                    "value": arm.value if arm.value is not None else label,
                    "model": describe(spec),
                    "train_size": done[0].train_size if done else n_train,
                    "n_seeds": iv.n,
                    "mean_accuracy": iv.mean,
                    "std_accuracy": iv.std,
                    "ci95_low": iv.low,
                    "ci95_high": iv.high,
                    "ci95_half_width": iv.half_width,
                    "mean_test_loss": _mean([d.test_loss for d in done]),
                    "params": count_params(spec, info.image_shape, len(info.class_names)),
                    "macs_per_image": macs_per_image(spec, info.image_shape, len(info.class_names)),
                    "images_per_s": _mean([d.images_per_s for d in done]),
                    "wall_time_s": _mean([d.wall_time_s for d in done]),
                }
            )
        return pd.DataFrame(rows).set_index("arm")

    def differences(self):
        """Each compared arm minus its counterpart (the reference unless the study says),
        paired by seed, with its t interval and a verdict in words."""
        import pandas as pd

        rows = []
        for arm, other in self.study.pairs():
            d = self.difference(arm, other)
            rows.append(
                {
                    "arm": arm,
                    "vs": other,
                    "n_pairs": d.n,
                    "mean_difference": d.mean,
                    "std_difference": d.std,
                    "ci95_low": d.low,
                    "ci95_high": d.high,
                    "verdict": verdict(d, other),
                }
            )
        return pd.DataFrame(rows).set_index("arm")

    def conclusion(self) -> str:
        """One or two sentences, generated from the numbers (accuracy in percent)."""
        arms = [a for a in self.study.arms if self.accuracies(a)]
        if not arms:
            return f"No results yet for {self.study.name!r}: run the study first."
        ivs = {a: self.interval(a) for a in arms}
        best = max(arms, key=lambda a: ivs[a].mean)
        worst = min(arms, key=lambda a: ivs[a].mean)
        n = min(iv.n for iv in ivs.values())
        seeds = f"{n} seed" + ("s" if n != 1 else "")

        def stated(a: str) -> str:
            iv = ivs[a]
            if iv.n < 2:
                return f"{a} ({_pct(iv.mean)})"
            return f"{a} ({_pct(iv.mean)} ± {100 * iv.half_width:.2f})"

        first = f"Mean test accuracy over {seeds}" + (" (± 95% CI, points)" if n >= 2 else "")
        if best == worst:
            first += f": {stated(best)}."
        else:
            first += f" is highest for {stated(best)} and lowest for {stated(worst)}."
        apart, alike = [], []
        for arm, other in self.study.pairs():
            d = self.difference(arm, other)
            if d.n >= 2 and not d.covers_zero:
                apart.append(
                    f"{arm} vs {other} {_points(d.mean)} points "
                    f"[{_points(d.low)}, {_points(d.high)}]"
                )
            else:
                alike.append(f"{arm} vs {other}")
        if n < 2:
            second = "With one seed nothing can be told apart from seed-to-seed noise."
        elif not apart:
            second = (
                f"At {seeds} no difference is distinguishable from seed-to-seed noise "
                f"(every 95% interval of {', '.join(alike)} covers zero)."
            )
        else:
            second = f"Distinguishable at {seeds}: {'; '.join(apart)}"
            second += f"; not distinguishable: {', '.join(alike)}." if alike else "."
        return f"{first} {second}"
