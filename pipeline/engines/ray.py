"""Run a pipeline over an article folder on a Ray cluster (Ray Data, one actor per worker).

Each worker loads the models once and processes batches of articles exactly as the local
engine does, writing each record atomically into OUT_DIR; the driver holds the lock, the
manifest and the report. INPUT_DIR and OUT_DIR must be on storage every node can see (a
shared filesystem); resume, skip and retry work as with the local engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.config import PipelineConfig
from pipeline.engines.core import (
    Outcome,
    RunReport,
    prepared_run,
    process_batch,
    progress,
)
from pipeline.errors import RunRefusedError
from pipeline.inputs.reader import InputItem

logger = logging.getLogger(__name__)


def _item_row(item: InputItem) -> dict[str, Any]:
    # Ray Data columns must be plain values: -1 stands for "no line/offset".
    return {
        "id": item.id,
        "path": str(item.path),
        "line": item.line if item.line is not None else -1,
        "offset": item.offset if item.offset is not None else -1,
        "notes": json.dumps(list(item.notes)),
    }


def _row_item(row: dict[str, Any]) -> InputItem:
    line, offset = int(row["line"]), int(row["offset"])
    return InputItem(
        id=str(row["id"]),
        path=Path(str(row["path"])),
        line=None if line < 0 else line,
        offset=None if offset < 0 else offset,
        notes=tuple(json.loads(str(row["notes"]))),
    )


def _rows(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Ray's column batch ({name: array}) as one dict per row."""
    columns = list(batch)
    for values in zip(*batch.values(), strict=True):
        yield dict(zip(columns, values, strict=True))


class ArticleWorker:
    """A Ray Data actor: builds the pipeline once, then processes batches of inputs."""

    def __init__(self, config: dict[str, Any], out_dir: str):
        from pipeline.api import Pipeline
        from pipeline.config import load_config

        self.config = load_config(config)
        self.out_dir = Path(out_dir)
        self.pipe = Pipeline(self.config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        items = [_row_item(row) for row in _rows(batch)]
        outcomes = process_batch(self.pipe, items, self.out_dir, self.config)
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
) -> RunReport:
    """Like engines.local.run_folder, with the batches spread over `workers` Ray actors."""
    try:
        import ray
    except ImportError:
        raise RunRefusedError('the ray engine needs Ray: pip install "id2en[ray]"') from None
    out_dir = Path(out_dir)
    with prepared_run(config, input_dir, out_dir, force=force, engine="ray") as run:
        if run.todo:
            ray.init(
                address=address,
                ignore_reinit_error=True,
                log_to_driver=False,
                include_dashboard=False,
                configure_logging=False,
            )
            cpus = cpus_per_worker or float(config.run.threads or 1)
            rows = _outcomes(ray, config, out_dir, run.todo, workers, cpus, gpus_per_worker)
            with progress(config, len(run.todo)) as bar:
                for row in rows:
                    run.report.add(_outcome(row))
                    bar.update(1)
    return run.report


def _outcomes(
    ray: Any,
    config: PipelineConfig,
    out_dir: Path,
    todo: list[InputItem],
    workers: int,
    cpus: float,
    gpus: float,
) -> Iterator[dict[str, Any]]:
    dataset = ray.data.from_items([_item_row(item) for item in todo])
    results = dataset.map_batches(
        ArticleWorker,
        fn_constructor_kwargs={
            "config": config.model_dump(mode="json"),
            "out_dir": str(out_dir.resolve()),
        },
        batch_size=config.run.batch_articles,
        batch_format="numpy",
        concurrency=workers,
        num_cpus=cpus,
        num_gpus=gpus,
    )
    for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
        yield from _rows(batch)


def _outcome(row: dict[str, Any]) -> Outcome:
    return Outcome(
        id=str(row["id"]),
        status=str(row["status"]),
        error=str(row["error"]) or None,
        sentences=int(row["sentences"]),
        guards=json.loads(str(row["guards"])),
    )
