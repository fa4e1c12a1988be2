"""Run a pipeline over an article folder on a Ray cluster (one model-holding actor per worker).

Each worker loads the models once and processes batches of articles exactly as the local
engine does, writing each record atomically into OUT_DIR; the driver holds the lock, the
manifest and the report. INPUT_DIR and OUT_DIR must be on storage every node can see (a
shared filesystem); resume, skip and retry work as with the local engine.

A worker lost with its node (or its process killed) is started again by Ray where there is
room, and the batch it held is run again by another worker (ray_pool.ActorPool); a record
is written whole or not at all, so a batch run twice still leaves each record once. The
report counts the batches run again. Past the retries the run stops with a ClusterError,
keeping every record finished: the same command resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.api import Pipeline
from pipeline.config import PipelineConfig, load_config
from pipeline.engines import steps
from pipeline.engines.plan import discover_inputs
from pipeline.engines.ray_pool import ActorPool, Job
from pipeline.engines.run_lock import StopFlag, run_lock
from pipeline.engines.run_report import Outcome, RunReport
from pipeline.engines.setup import check_setup
from pipeline.errors import ClusterError, ConfigError, RunRefusedError
from pipeline.inputs.items import InputItem
from pipeline.storage.objects import StoragePath, location

logger = logging.getLogger(__name__)

# A lost worker is started again by Ray up to MAX_RESTARTS times; a batch is started at
# most MAX_ATTEMPTS times in all (a batch that kills its worker each time stops the run).
# Exceptions raised by id2en's own code are never retried: a batch already turns each bad
# article into a failed record, so what escapes it (a full disk) would only fail again.
MAX_RESTARTS = 8
MAX_ATTEMPTS = 3
# With every worker lost, how long to wait for Ray to start one again (a node to join).
WAIT_FOR_WORKERS_S = 600.0

# The package the driver runs, shipped to every worker (Ray's runtime_env py_modules): the
# workers run the driver's code, not whatever `pipeline` their node would import (another
# release, or another checkout's editable install).
PACKAGE_DIR = Path(__file__).resolve().parents[1]


class ArticleWorker:
    """A Ray actor: builds the pipeline once, then processes fixed groups of inputs (see
    plan.Plan.groups), writing the records of the ids it is told to write."""

    def __init__(self, config: dict[str, Any], out_dir: str) -> None:
        self.config = load_config(config)
        self.out_dir = location(out_dir)
        self.pipe = Pipeline(self.config)

    def run(self, items: list[InputItem], write: list[str]) -> list[Outcome]:
        return steps.process_batch(self.pipe, items, self.out_dir, self.config, write=set(write))

    def ping(self) -> bool:
        """Answers once the actor is up (again): the pool then sends it work."""
        return True


def run_folder_ray(
    config: PipelineConfig,
    input_dir: StoragePath | str,
    out_dir: StoragePath | str,
    *,
    force: bool = False,
    address: str | None = None,
    workers: int = 1,
    cpus_per_worker: float | None = None,
    gpus_per_worker: float = 0,
    input_name: str | None = None,
    on_batch: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Like engines.local.run_folder, with the batches spread over `workers` Ray actors;
    `on_batch` is called with the report after each batch's outcomes are counted.

    SIGINT/SIGTERM stop it as they stop the local engine: no new batch is handed out,
    finished records are kept and exported, and run.json says "interrupted". Workers lost
    past the retries stop it the same way, then raise ClusterError (exit 5).
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    ray = _import_ray()
    out_dir = location(out_dir)
    pipe = Pipeline(config)  # to check settings and cache files; the workers load the models
    started = time.perf_counter()
    inputs = discover_inputs(config, input_dir, out_dir, input_name)
    lost: ClusterError | None = None
    with (
        run_lock(out_dir),
        closing(steps.prepare(config, inputs, out_dir, force=force, started=started)) as run,
    ):
        if run.plan.todo:
            check_setup(pipe, load_models=False)
        steps.start(run, engine="ray")
        if run.plan.todo:
            _connect(ray, address)
            resources = _Resources(
                workers, cpus_per_worker or float(config.run.threads or 1), gpus_per_worker
            )
            pool = _pool(ray, run, resources)
            try:
                _collect(run, pool.run(_jobs(run)), on_batch)
            except ClusterError as exc:
                lost = exc
                run.report.interrupted = True  # run.json says so; finished records are exported
            finally:
                run.report.redone_batches = pool.stats.redone
                for actor in pool.actors:
                    ray.kill(actor)
        steps.finish(run)
    if run.report.redone_batches:
        logger.warning(
            "%d batches were run again: their workers were lost", run.report.redone_batches
        )
    if lost is not None:
        raise ClusterError(
            f"the Ray cluster could not finish the run: {lost}. The {run.report.processed} "
            "records written this run are kept; run the same command again to resume "
            "(only what is missing is done)"
        ) from lost
    return run.report


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RunRefusedError('the ray engine needs Ray: pip install "id2en[ray]"') from None
    return ray


def _connect(ray: Any, address: str | None) -> None:
    """Join the cluster at `address`, or start a local one, shipping this package to the
    workers. Ray initialised already (by a notebook, a test) is kept as it is: its job's
    runtime_env decides what code the workers import."""
    if ray.is_initialized():
        return
    ray.init(
        address=address,
        log_to_driver=False,
        include_dashboard=False,
        configure_logging=False,
        runtime_env={"py_modules": [str(PACKAGE_DIR)]},  # Ray takes folders only here
    )


@dataclass(frozen=True)
class _Resources:
    workers: int
    cpus: float
    gpus: float


def _pool(ray: Any, run: steps.Run, resources: _Resources) -> ActorPool:
    worker = ray.remote(ArticleWorker).options(
        num_cpus=resources.cpus,
        num_gpus=resources.gpus,
        max_restarts=MAX_RESTARTS,
        max_task_retries=0,  # the pool runs a lost batch again, on whichever worker is free
    )
    config, out = run.config.model_dump(mode="json"), str(run.out_dir.resolve())
    actors = [worker.remote(config, out) for _ in range(resources.workers)]
    return ActorPool(
        ray,
        actors,
        max_attempts=MAX_ATTEMPTS,
        wait_s=WAIT_FOR_WORKERS_S,
        describe=lambda job: f"the batch of {job.args[0][0].where}",
    )


def _jobs(run: steps.Run) -> Iterator[Job]:
    """Each group with something to do, with the ids to write, read from the plan as the
    pool asks for them (the pool holds a few per worker, never the whole plan)."""
    for index, (group, write) in enumerate(run.plan.groups()):
        yield Job(index, (group, write))


def _collect(
    run: steps.Run,
    results: Iterator[list[Outcome]],
    on_batch: Callable[[RunReport], None] | None,
) -> None:
    """Count the workers' outcomes as batches finish, until done or a stop signal."""
    with StopFlag(run.out_dir) as stop, steps.progress(run.config, run.plan.todo) as bar:
        for outcomes in results:
            steps.count(run, outcomes)
            steps.checkpoint(run)
            bar.update(len(outcomes))
            if on_batch:
                on_batch(run.report)
            if stop.requested:
                run.report.interrupted = True
                break
