"""Where a study's runs train: one after another in this process, or side by side on Ray.

An executor takes the runs the store lacks and yields each ``(run, result or error)`` as it
finishes; every run writes its own record through :class:`~convlab.experiments.store.
ResultsStore` (atomic, so concurrent writers never corrupt one, and two workers that train
the same run leave one valid record). :class:`Serial` is the default. :class:`RayExecutor`
makes each run one Ray task, with the CPUs (and the fraction of a GPU, so that several
runs share one device) that it declares; it starts a local Ray on demand or joins a
cluster (``address``, ``RAY_ADDRESS``), and checks first that every node sees the same
store. A worker killed mid-run loses that run alone, and Ray retries it; a run that raises
is yielded as its error, and the others go on.

Ray is optional (``pip install "convlab[ray]"``) and imported only when asked for.

Example:
    >>> from convlab.experiments import get_study, run_study
    >>> run_study(get_study("depth"), profile="smoke", executor="ray")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from convlab import train as _train  # called as _train.train, so tests can count trainings
from convlab.errors import ConvlabError
from convlab.experiments.results import Run
from convlab.experiments.store import ResultsStore
from convlab.train import TrainResult
from convlab.variants import load_splits

__all__ = [
    "EXECUTORS",
    "ExecutorError",
    "RayExecutor",
    "Serial",
    "get_executor",
    "runs_per_gpu",
    "train_and_save",
]

EXECUTORS = ("serial", "ray")
INSTALL_RAY = 'pip install "convlab[ray]"'
# What a worker needs to compute what this process would: the backend, convlab's settings,
# and quiet, shareable accelerators (memory growth / no preallocation, so runs share a GPU).
FORWARDED_ENV = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
GPU_SHARING_ENV = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


# A run's GPU memory: the backend's context (~0.5 GiB) plus a small CNN's weights, optimiser
# state and batch-128 activations (tens of MiB), with room to spare. An assumption until a
# device check measures it (benchmarks/gpu_runs.py prints the peak per run).
RUN_MEMORY_GIB = 2.0
# Beyond this many processes per GPU the kernels of a small CNN mostly queue behind each
# other; the device check measures where throughput stops growing.
MAX_RUNS_PER_GPU = 8


def runs_per_gpu(
    gpu_memory_gib: float,
    cpu_cores: int,
    gpus: int = 1,
    cpus_per_run: float = 1.0,
    run_memory_gib: float = RUN_MEMORY_GIB,
) -> int:
    """Runs that share one GPU: what its memory holds (90 %) and the CPU cores feed (one
    core kept for the driver), at most :data:`MAX_RUNS_PER_GPU`, at least 1.

    A small CNN at batch 128 leaves a large GPU mostly idle; several processes fill it.

    >>> runs_per_gpu(gpu_memory_gib=80, cpu_cores=16)
    8
    """
    if gpu_memory_gib <= 0 or cpu_cores < 1 or gpus < 1 or cpus_per_run <= 0:
        raise ValueError("gpu_memory_gib, cpu_cores, gpus and cpus_per_run must be positive.")
    by_memory = math.floor(0.9 * gpu_memory_gib / run_memory_gib)
    by_cores = math.floor(max(cpu_cores - 1, 1) / (gpus * cpus_per_run))
    return max(1, min(by_memory, by_cores, MAX_RUNS_PER_GPU))


def _env_number(name: str, default: float | None) -> float | None:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ExecutorError(f"{name} must be a number, got {value!r}.") from None


class ExecutorError(ConvlabError, ValueError):
    """An unknown executor, Ray missing, or a cluster whose workers cannot share the store."""


def train_and_save(inputs: dict, store: ResultsStore, keep_model: bool, spec, config):
    """Train one run from its inputs and write its record (and model, if kept)."""
    splits = load_splits(inputs["dataset"], inputs["data"])
    result = _train.train(spec, splits, config, seed=inputs["seed"], progress=False)
    store.save(inputs, result, with_model=keep_model)
    return result


class Serial:
    """Every run in this process, one after another (today's behaviour; the default)."""

    name = "serial"

    def __repr__(self) -> str:
        return "Serial()"

    def execute(
        self, runs: Iterable[Run], store: ResultsStore, keep_models: bool
    ) -> Iterator[tuple[Run, TrainResult | Exception]]:
        for run in runs:
            try:
                yield run, train_and_save(run.inputs, store, keep_models, run.spec, run.config)
            except Exception as exc:  # reported with its arm and seed; the others go on
                yield run, exc


def _ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            f"The Ray executor needs Ray, which is not installed: {INSTALL_RAY}"
        ) from None
    return ray


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in FORWARDED_ENV or k.startswith("CONVLAB_")}
    env.pop("CONVLAB_EXECUTOR", None)  # a worker trains its run itself
    return {**GPU_SHARING_ENV, **env}


def _train_remote(inputs: dict, root: str, keep_model: bool, spec, config) -> str:
    """The body of one Ray task: train a run and write its record into the shared store."""
    store = ResultsStore(root)
    train_and_save(inputs, store, keep_model, spec, config)
    return str(store.path(inputs))


def _probe_store(root: str, token: str) -> str | None:
    """On one node: None if it reads the driver's token in the store and can write there."""
    where = f"the worker on {socket.gethostname()}"
    mark = Path(root) / ".convlab-workers" / token
    try:
        if mark.read_text(encoding="utf-8") != token:
            return f"{where} reads another file at {mark}"
        answer = mark.with_name(f"{token}.{uuid.uuid4().hex}")
        answer.write_text(token, encoding="utf-8")
        answer.unlink()
    except OSError as exc:
        return f"{where} cannot read and write {mark.parent} ({exc.strerror or exc})"
    return None


@dataclass(frozen=True)
class RayExecutor:
    """Each run one Ray task on a local Ray (started on demand) or an existing cluster.

    Args:
        address: a cluster to join (``ray://...`` or ``host:port``); default
            ``RAY_ADDRESS``, else a local Ray started here.
        workers: CPUs of a local Ray (default: every CPU of this machine).
        cpus_per_run: CPUs each run declares (and the threads its backend uses).
        gpus_per_run: the fraction of a GPU each run declares; 0.25 puts four runs on one
            GPU. Default (None): ``1 / runs_per_gpu(...)`` of the cluster's GPUs, CPUs and
            GPU memory (``CONVLAB_GPU_MEMORY_GIB``, default 16) where it has GPUs, else 0.
        max_retries: how often Ray reruns a run whose worker died (killed, out of memory).
    """

    address: str | None = None
    workers: int | None = None
    cpus_per_run: float = 1.0
    gpus_per_run: float | None = None
    max_retries: int = 2
    name = "ray"

    @classmethod
    def from_env(cls) -> RayExecutor:
        """Settings from ``RAY_ADDRESS``, ``CONVLAB_RAY_WORKERS``, ``CONVLAB_RAY_CPUS_PER_RUN``
        and ``CONVLAB_RAY_GPUS_PER_RUN`` (how the book build passes them to its chapters)."""
        workers = _env_number("CONVLAB_RAY_WORKERS", None)
        return cls(
            address=os.environ.get("RAY_ADDRESS") or None,
            workers=None if workers is None else int(workers),
            cpus_per_run=_env_number("CONVLAB_RAY_CPUS_PER_RUN", 1.0),
            gpus_per_run=_env_number("CONVLAB_RAY_GPUS_PER_RUN", None),
        )

    def __post_init__(self) -> None:
        gpus = 0 if self.gpus_per_run is None else self.gpus_per_run
        if self.cpus_per_run <= 0 or gpus < 0 or gpus > 1 or self.max_retries < 0:
            raise ExecutorError(
                "cpus_per_run must be > 0, gpus_per_run within [0, 1], max_retries >= 0."
            )
        if self.workers is not None and self.workers < 1:
            raise ExecutorError("workers must be at least 1.")

    def start(self):
        """Join the cluster, or start a local Ray; returns the ``ray`` module."""
        ray = _ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            ray.init(
                address=address,
                num_cpus=None if address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="ERROR",
                runtime_env={"env_vars": _worker_env()},
            )
        return ray

    def gpu_share(self) -> float:
        """The fraction of a GPU each run declares (see ``gpus_per_run``)."""
        if self.gpus_per_run is not None:
            return self.gpus_per_run
        resources = self.start().cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus == 0:
            return 0.0
        memory = _env_number("CONVLAB_GPU_MEMORY_GIB", 16.0)
        k = runs_per_gpu(memory, int(resources.get("CPU", 1)), gpus, self.cpus_per_run)
        return 1.0 / k

    def check_store(self, store: ResultsStore) -> None:
        """Raise :class:`ExecutorError` unless every node of the cluster sees this store."""
        ray = self.start()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        token = uuid.uuid4().hex
        mark = store.root / ".convlab-workers" / token
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(token, encoding="utf-8")
        try:
            probe = ray.remote(num_cpus=0)(_probe_store)
            nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
            answers = ray.get(
                [
                    probe.options(
                        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
                    ).remote(str(store.root), token)
                    for node in nodes
                ]
            )
        finally:
            mark.unlink(missing_ok=True)
        problems = [a for a in answers if a]
        if problems:
            raise ExecutorError(
                f"The results store {store.root} is not shared by every Ray worker: "
                f"{'; '.join(problems)}. On a cluster, point --results (CONVLAB_RESULTS_DIR) "
                "at a directory that every node mounts at the same path, writable by all."
            )

    def execute(
        self, runs: Iterable[Run], store: ResultsStore, keep_models: bool
    ) -> Iterator[tuple[Run, TrainResult | Exception]]:
        runs = list(runs)
        if not runs:
            return
        ray = self.start()
        self.check_store(store)
        task = ray.remote(_train_remote).options(
            num_cpus=self.cpus_per_run,
            num_gpus=self.gpu_share(),
            max_retries=self.max_retries,
            retry_exceptions=False,  # a run that raises would raise again: report it
            runtime_env={"env_vars": {"TF_NUM_INTRAOP_THREADS": str(int(self.cpus_per_run))}},
        )
        pending = {
            task.remote(r.inputs, str(store.root), keep_models, r.spec, r.config): r for r in runs
        }
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                run = pending.pop(ready[0])
                try:
                    ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:  # the run raised: its own error
                    cause = exc.cause if isinstance(exc.cause, Exception) else None
                    yield run, cause or exc.as_instanceof_cause()
                    continue
                except ray.exceptions.RayError as exc:  # e.g. its worker died every retry
                    yield run, exc
                    continue
                result = store.load(run.inputs, with_model=keep_models)
                if result is None:
                    yield run, ExecutorError(f"A worker trained the run but {store} lacks it.")
                else:
                    yield run, result
        finally:
            for ref in pending:  # interrupted: stop the runs still queued or training
                ray.cancel(ref, force=True)


def get_executor(executor: str | Serial | RayExecutor | None = None):
    """An executor from its name (``serial``, ``ray``), default ``CONVLAB_EXECUTOR``."""
    if executor is None:
        executor = os.environ.get("CONVLAB_EXECUTOR") or "serial"
    if not isinstance(executor, str):
        return executor
    if executor == "serial":
        return Serial()
    if executor == "ray":
        _ray()  # say how to install it before any work starts
        return RayExecutor.from_env()
    raise ExecutorError(
        f"Unknown executor {executor!r} (CONVLAB_EXECUTOR or --executor): "
        f"choose one of {', '.join(EXECUTORS)}."
    )
