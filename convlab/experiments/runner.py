"""Running experiments: plan a study's runs, load the stored ones, train only the rest.

:func:`plan` turns a :class:`~convlab.experiments.design.Study` into its (arm, seed) runs,
each with the inputs and key the results store files it under; :func:`run_study` trains
every run the store does not hold yet (one record per run, written as soon as it
finishes, so an interrupted study resumes where it stopped) and :func:`load_study` reads
what is there, training nothing. :func:`run_cost` is the cost model behind the ETA.
:func:`train_one` is the same cached run for a single model.

Example:
    >>> from convlab.experiments import get_study, run_study
    >>> result = run_study(get_study("kernel-size"), profile="smoke")  # doctest: +SKIP
    >>> len(result.missing)  # doctest: +SKIP
    0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from convlab import train as _train  # called as _train.train, so tests can count trainings
from convlab.data import dataset_info
from convlab.experiments.design import (
    Study,
    StudyError,
    arm_config,
    arm_spec,
    unbuildable_arms,
)
from convlab.experiments.keys import run_inputs, run_key
from convlab.experiments.profiles import Profile, get_profile
from convlab.experiments.results import Run, StudyResult
from convlab.experiments.store import ResultsStore
from convlab.models import ModelSpec, macs_per_image
from convlab.train import TrainConfig, TrainResult
from convlab.variants import DataVariant, data_slice, load_splits, test_labels

__all__ = ["cached_train", "load_study", "plan", "run_cost", "run_study", "train_one"]


def _dataset_name(dataset: str | None) -> str:
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


def cached_train(
    spec: ModelSpec,
    config: TrainConfig,
    seed: int,
    dataset: str,
    data: dict,
    profile: str,
    store: ResultsStore | str | None = None,
    keep_model: bool = False,
) -> TrainResult:
    """One run from explicit inputs: the stored result if there is one, else train and store.

    Args:
        dataset, data: a dataset name and the data slice it is trained on (what
            :func:`convlab.variants.load_splits` takes).
        profile: the profile name the run is filed under.
    """
    inputs, store = run_inputs(spec, config, seed, dataset, data, profile), _store(store)
    result = store.load(inputs, with_model=keep_model)
    if result is None:
        result = _train_and_save(inputs, store, keep_model, spec, config)
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
    data = data_slice(profile, data_variant)
    config = config or profile.train_config()
    return cached_train(
        spec, config, seed, _dataset_name(dataset), data, profile.name, store, keep_model
    )


def plan(study: Study, profile: Profile, dataset: str, seeds: Sequence[int]) -> list[Run]:
    """Every (arm, seed) run of a study: its spec, config, inputs and key (nothing loaded).

    Arms that cannot be built (:func:`~convlab.experiments.design.unbuildable_arms`) have
    no runs; :class:`~convlab.experiments.results.StudyResult` reports them.

    Seeds outer, arms inner: a study stopped half-way has every arm at the first seeds,
    which is a comparable (if noisier) result.
    """
    runs, skip = [], unbuildable_arms(study, dataset)
    for seed in seeds:
        for label, arm in study.arms.items():
            if label in skip:  # reported by load_study, never silently dropped
                continue
            spec = arm_spec(study, label, dataset)
            config = arm_config(study, label, profile, dataset)
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


def run_cost(run: Run, dataset: str) -> float:
    """A run's relative cost, for the ETA: image passes (a training step ~3 forward passes)
    times multiply-adds per image plus a per-image overhead, plus a per-run overhead.

    The overheads (~3M multiply-adds per image, ~2 s per run) were fitted to CPU times of
    the quick profile on 2 cores, where a 7x7 CNN costs ~3x a 3x3 one, not the 5x of MACs.
    """
    info = dataset_info(dataset)
    d, c = run.inputs["data"], run.config
    n_train = d["train_size"] or info.train_size - d["val_size"]
    n_test = d["test_size"] or info.test_size
    macs = macs_per_image(run.spec, info.image_shape, len(info.class_names))
    per_epoch = 3 * n_train + d["val_size"]
    return (macs + 3e6) * (c.epochs * per_epoch + n_test) + 5e10


def load_study(
    study: Study,
    profile: str | Profile | None = None,
    store: ResultsStore | str | None = None,
    dataset: str | None = None,
    seeds: int | Sequence[int] | None = None,
    keep_models: bool = False,
) -> StudyResult:
    """What the store holds for a study, training nothing (``result.missing`` says the rest).

    With ``keep_models`` each run's result also holds its Keras model, and a run stored
    without one counts as missing."""
    if not isinstance(study, Study):
        raise StudyError(
            f"Expected a Study, got {study!r}: look a shipped one up with "
            "convlab.experiments.get_study(name)."
        )
    profile = get_profile(profile)
    dataset = _dataset_name(dataset)
    store = _store(store)
    first_problem = len(store.problems)
    runs = []
    for run in plan(study, profile, dataset, _seeds(study, profile, seeds)):
        result = store.load(run.inputs, with_model=keep_models)
        status = "missing" if result is None else "stored"
        runs.append(dataclasses.replace(run, result=result, status=status))
    problems = tuple(store.problems[first_problem:])
    unbuildable = unbuildable_arms(study, dataset)
    return StudyResult(
        study, profile, dataset, tuple(runs), problems, unbuildable, _test_labels(runs, dataset)
    )


def _test_labels(runs: Sequence[Run], dataset: str):
    """The labels of the one test set every run of a study is tested on (None if none)."""
    tests = {(r.inputs["data"]["test_size"], r.inputs["data"]["split_seed"]) for r in runs}
    if len(tests) != 1:
        return None
    return test_labels(dataset, runs[0].inputs["data"])


def run_study(
    study: Study,
    profile: str | Profile | None = None,
    store: ResultsStore | str | None = None,
    dataset: str | None = None,
    progress: bool = True,
    seeds: int | Sequence[int] | None = None,
    keep_models: bool = False,
) -> StudyResult:
    """Load a study's stored runs and train only the missing ones.

    Each run's record is written as soon as it finishes, so an interrupted study resumes
    where it stopped. Runs that several arms (or studies) share are trained once.

    Args:
        study: a :class:`Study`, e.g. ``get_study("kernel-size")``.
        profile: data slices, epochs and seeds; default :func:`get_profile`.
        store: a :class:`ResultsStore` or its directory; default the settings' one.
        dataset: default :func:`convlab.settings.dataset`.
        progress: a progress bar over the runs to train, with an ETA.
        seeds: a number of seeds or the seeds themselves; default the study's or profile's.
        keep_models: also store and return each run's trained Keras model (``run.result.
            model``), for measurements beyond test accuracy; runs stored without their
            model are trained again.
    """
    store = _store(store)
    loaded = load_study(study, profile, store, dataset, seeds, keep_models)
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

        costs = {k: run_cost(r, dataset) for k, r in todo.items()}
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
                done[key] = _train_and_save(run.inputs, store, keep_models, run.spec, run.config)
                bar.update(costs[key])
        finally:
            bar.close()
    runs = tuple(
        dataclasses.replace(r, result=done[r.key], status="trained") if r.key in done else r
        for r in loaded.runs
    )
    return dataclasses.replace(loaded, runs=runs)
