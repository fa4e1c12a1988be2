"""Run a pipeline over an article folder on a Ray cluster (Ray Data, one actor per worker).

Each worker loads the models once and processes batches of articles exactly as the local
engine does, writing each record atomically into OUT_DIR; the driver holds the lock, the
manifest and the report. INPUT_DIR and OUT_DIR must be on storage every node can see (a
shared filesystem); resume, skip and retry work as with the local engine.
"""

from __future__ import annotations

import base64
import json
import logging
import pickle
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.api import Pipeline
from pipeline.config import PipelineConfig, load_config
from pipeline.engines import steps
from pipeline.engines.plan import discover_inputs
from pipeline.engines.run_lock import StopFlag, run_lock
from pipeline.engines.run_report import Outcome, RunReport
from pipeline.engines.setup import check_setup
from pipeline.errors import ConfigError, RunRefusedError
from pipeline.inputs.items import InputItem

logger = logging.getLogger(__name__)


def pack_items(items: list[InputItem]) -> str:
    """A group of inputs as text, to travel inside a Ray Data row. Pickled whole, so every
    kind of input (a file, a .jsonl row, a table row with its column options) arrives as
    the driver found it; rebuilding one class from its fields lost the others' fields."""
    return base64.b64encode(pickle.dumps(items)).decode("ascii")


def unpack_items(text: str) -> list[InputItem]:
    items: list[InputItem] = pickle.loads(base64.b64decode(text))
    return items


def _rows(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Ray's column batch ({name: array}) as one dict per row."""
    columns = list(batch)
    for values in zip(*batch.values(), strict=True):
        yield dict(zip(columns, values, strict=True))


class ArticleWorker:
    """A Ray Data actor: builds the pipeline once, then processes groups of inputs.

    Each row is one fixed group of articles (see plan.Plan.groups) with the ids to write,
    so a batch holds the same articles however Ray splits the dataset.
    """

    def __init__(self, config: dict[str, Any], out_dir: str) -> None:
        self.config = load_config(config)
        self.out_dir = Path(out_dir)
        self.pipe = Pipeline(self.config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        outcomes: list[Outcome] = []
        for row in _rows(batch):
            items = unpack_items(str(row["items"]))
            write = set(json.loads(str(row["write"])))
            outcomes += steps.process_batch(
                self.pipe, items, self.out_dir, self.config, write=write
            )
        return {
            "id": [o.id for o in outcomes],
            "status": [o.status for o in outcomes],
            "error": [o.error or "" for o in outcomes],
            "sentences": [o.sentences for o in outcomes],
            "guards": [json.dumps(o.guards) for o in outcomes],
        }


def run_folder_ray(
    config: PipelineConfig,
    input_dir: Path,
    out_dir: Path,
    *,
    force: bool = False,
    address: str | None = None,
    workers: int = 1,
    cpus_per_worker: float | None = None,
    gpus_per_worker: float = 0,
    input_name: str | None = None,
) -> RunReport:
    """Like engines.local.run_folder, with the batches spread over `workers` Ray actors.

    SIGINT/SIGTERM stop it as they stop the local engine: no new batch is handed out,
    finished records are kept and exported, and run.json says "interrupted".
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    ray = _import_ray()
    out_dir = Path(out_dir)
    pipe = Pipeline(config)  # to check settings and cache files; the workers load the models
    started = time.perf_counter()
    inputs = discover_inputs(config, input_dir, out_dir, input_name)
    with run_lock(out_dir):
        run = steps.prepare(config, inputs, out_dir, force=force, started=started)
        if run.plan.todo:
            check_setup(pipe, load_models=False)
        steps.start(run, engine="ray")
        if run.plan.todo:
            _connect(ray, address)
            resources = _Resources(
                workers, cpus_per_worker or float(config.run.threads or 1), gpus_per_worker
            )
            rows = _outcomes(ray, run, resources)
            with StopFlag(out_dir) as stop, steps.progress(config, len(run.plan.todo)) as bar:
                for row in rows:
                    run.report.add(row_outcome(row))
                    bar.update(1)
                    if stop.requested:
                        run.report.interrupted = True
                        break
        steps.finish(run)
    return run.report


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RunRefusedError('the ray engine needs Ray: pip install "id2en[ray]"') from None
    return ray


def _connect(ray: Any, address: str | None) -> None:
    """Join the cluster at `address`, or start a local one (an initialised one is kept)."""
    ray.init(
        address=address,
        ignore_reinit_error=True,
        log_to_driver=False,
        include_dashboard=False,
        configure_logging=False,
    )


@dataclass(frozen=True)
class _Resources:
    workers: int
    cpus: float
    gpus: float


def _outcomes(ray: Any, run: steps.Run, resources: _Resources) -> Iterator[dict[str, Any]]:
    """The outcome of every article to write, one row each, as the workers finish them."""
    todo = run.plan.todo_ids
    rows = [
        {
            "items": pack_items(group),
            "write": json.dumps(sorted(item.id for item in group if item.id in todo)),
        }
        for group in run.plan.groups
    ]
    results = ray.data.from_items(rows).map_batches(
        ArticleWorker,
        fn_constructor_kwargs={
            "config": run.config.model_dump(mode="json"),
            "out_dir": str(run.out_dir.resolve()),
        },
        batch_size=1,  # one fixed group per call
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=resources.workers),
        num_cpus=resources.cpus,
        num_gpus=resources.gpus,
    )
    for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
        yield from _rows(batch)


def row_outcome(row: dict[str, Any]) -> Outcome:
    return Outcome(
        id=str(row["id"]),
        status=str(row["status"]),
        error=str(row["error"]) or None,
        sentences=int(row["sentences"]),
        guards=json.loads(str(row["guards"])),
    )
