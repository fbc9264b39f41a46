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

from convlab.data import dataset_info
from convlab.experiments.design import (
    Study,
    StudyError,
    arm_config,
    arm_spec,
    unbuildable_arms,
)
from convlab.experiments.executors import Serial, get_executor, train_and_save
from convlab.experiments.keys import run_inputs, run_key
from convlab.experiments.profiles import Profile, get_profile
from convlab.experiments.results import Run, StudyResult
from convlab.experiments.store import ResultsStore
from convlab.models import ModelSpec, macs_per_image
from convlab.train import TrainConfig, TrainResult
from convlab.variants import DataVariant, data_slice, test_labels

__all__ = [
    "RunsFailed",
    "cached_train",
    "load_study",
    "plan",
    "run_cost",
    "run_study",
    "train_one",
]


# run_cost's fixed part of a run (start-up, tracing, evaluation), in its units (~2 s on 2
# CPU cores); convlab.book.launch replaces it by the time it measures.
RUN_OVERHEAD = 5e10


class RunsFailed(StudyError):
    """Runs of a study that raised; every other run finished and was stored."""

    def __init__(self, study: str, failures: Sequence[tuple[Run, Exception]]) -> None:
        self.failures = tuple(failures)
        by_error: dict[str, list[str]] = {}  # one line per distinct error, naming its runs
        for run, exc in self.failures:
            error = f"{type(exc).__name__}: {exc}"[:300]
            by_error.setdefault(error, []).append(f"{run.arm}, seed {run.seed}")
        lines = "; ".join(f"{', '.join(runs)}: {error}" for error, runs in by_error.items())
        super().__init__(
            f"{len(self.failures)} run(s) of study {study!r} failed ({lines}). The other runs "
            "are stored: run the study again to retry only these."
        )


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
    return train_and_save(inputs, store, keep_model, spec, config), True


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
        result = train_and_save(inputs, store, keep_model, spec, config)
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
    return (macs + 3e6) * (c.epochs * per_epoch + n_test) + RUN_OVERHEAD


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
    executor=None,
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
        executor: where the missing runs train: ``"serial"`` (one after another here),
            ``"ray"`` (side by side, :class:`~convlab.experiments.executors.RayExecutor`)
            or an executor object; default ``CONVLAB_EXECUTOR``, else serial.

    Raises:
        RunsFailed: some runs raised; the others finished and are stored.
    """
    store = _store(store)
    loaded = load_study(study, profile, store, dataset, seeds, keep_models)
    study, profile, dataset = loaded.study, loaded.profile, loaded.dataset
    todo: dict[str, Run] = {}
    for run in loaded.runs:
        if run.status == "missing":
            todo.setdefault(run.key, run)
    done = (
        _train_missing(
            list(todo.values()), store, keep_models, executor, study.name, dataset, progress
        )
        if todo
        else {}
    )
    runs = tuple(
        dataclasses.replace(r, result=done[r.key], status="trained") if r.key in done else r
        for r in loaded.runs
    )
    return dataclasses.replace(loaded, runs=runs)


def _train_missing(
    todo: list[Run],
    store: ResultsStore,
    keep_models: bool,
    executor,
    name: str,
    dataset: str,
    progress: bool,
) -> dict[str, TrainResult]:
    """Train the runs on the executor, a progress bar over their cost; key -> result."""
    executor = get_executor(executor)
    if progress:
        from tqdm.auto import tqdm
    else:  # tqdm.auto warns on stderr at import in kernels without ipywidgets
        from tqdm import tqdm

    costs = {r.key: run_cost(r, dataset) for r in todo}
    side_by_side = "" if isinstance(executor, Serial) else f" on {executor.name}"
    bar = tqdm(
        total=sum(costs.values()),
        desc=name,
        disable=not progress,
        bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
    )
    done, failed = {}, []
    try:
        bar.set_description(f"{name}: {len(todo)} runs to train{side_by_side}")
        for i, (run, outcome) in enumerate(executor.execute(todo, store, keep_models), 1):
            if isinstance(outcome, Exception):
                failed.append((run, outcome))
            else:
                done[run.key] = outcome
            bar.update(costs[run.key])
            bar.set_description(
                f"{name}: {i}/{len(todo)} runs done{side_by_side} "
                f"(last: {run.arm}, seed {run.seed})"
            )
    finally:
        bar.close()
    if failed:
        raise RunsFailed(name, failed) from failed[0][1]
    return done
