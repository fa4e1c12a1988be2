"""The steps both engines take, as plain functions, in the order they take them:

    discover_inputs (plan.py)  ->  with run_lock:  prepare (lists every article into the
    plan)  ->  check_setup (setup.py)  ->  start  ->  for each batch: process_batch (reads,
    processes, writes its records)  ->  finish (exports records.jsonl/Parquet and closes
    run.json); the engine closes the run (its plan's temporary file) however it ends

Each engine (local.py, ray.py) calls them top to bottom; nothing here calls back into an
engine, and no step hides work in a context manager's exit.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipeline.api import Pipeline
from pipeline.config import PipelineConfig
from pipeline.engines.fingerprint import Manifest, check_manifest
from pipeline.engines.plan import Inputs, Plan, plan_run, records_of
from pipeline.engines.run_report import Outcome, RunReport
from pipeline.errors import InputError
from pipeline.inputs.items import InputItem
from pipeline.inputs.language import check_language
from pipeline.inputs.reader import read_article
from pipeline.output.export import export_records
from pipeline.output.manifest import now, write_manifest
from pipeline.output.records import (
    GONE_DIR,
    SOURCE_DIGEST,
    article_record,
    remove_stdin_copies,
    remove_temp_files,
    set_aside_records,
    write_record,
)
from pipeline.progress import progress_bar
from pipeline.storage.objects import StoragePath
from pipeline.types import Article

logger = logging.getLogger(__name__)

# Write errors that no other article could escape: the run stops (exit 4), resumable.
_FATAL_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


@dataclass
class Run:
    """One run into an output folder, handed from step to step."""

    config: PipelineConfig
    out_dir: StoragePath
    manifest: Manifest
    plan: Plan
    report: RunReport
    started: float  # time.perf_counter() when the run began, before discovery
    earlier_s: float = 0.0  # time the folder's earlier runs took (a resumed run's total)
    runs: int = 1  # invocations into this folder, this one included
    saved: float = 0.0  # when checkpoint() last wrote the time into run.json

    def tick(self) -> None:
        self.report.elapsed = time.perf_counter() - self.started

    def close(self) -> None:
        self.plan.close()

    def total_time(self) -> dict[str, Any]:
        """run.json's time fields: this invocation's and the whole run's, all invocations."""
        return {
            "elapsed_s": round(self.report.elapsed, 3),
            "elapsed_total_s": round(self.earlier_s + self.report.elapsed, 3),
            "runs": self.runs,
        }


def prepare(
    config: PipelineConfig, inputs: Inputs, out_dir: StoragePath, *, force: bool, started: float
) -> Run:
    """With OUT locked: refuse a folder made with other settings or input (unless forced),
    and list every article, and what is left to do. Nothing is written yet. The caller
    closes the run (`with closing(prepare(...)) as run`), whatever happens."""
    manifest = check_manifest(out_dir, config, inputs.name, force)
    plan = plan_run(out_dir, inputs, config)
    report = RunReport(total=plan.total, already_done=plan.already_done, changed=plan.changed)
    earlier, runs = _earlier_runs(manifest.data)
    return Run(config, out_dir, manifest, plan, report, started, earlier, runs + 1)


def _earlier_runs(data: dict[str, Any]) -> tuple[float, int]:
    """(seconds, count) of the runs into a folder so far, from its run.json."""
    total = data.get("elapsed_total_s", data.get("elapsed_s"))
    seconds = float(total) if isinstance(total, (int, float)) else 0.0
    runs = data.get("runs")
    return seconds, runs if isinstance(runs, int) else int("started" in data)


def start(run: Run, engine: str) -> None:
    """run.json says a run is under way (after the setup was checked); temporary files a
    killed run left are removed, and records of inputs that are gone are set aside."""
    data = run.manifest.data
    data.update({"started": now(), "engine": engine})
    for key in ("finished", "interrupted"):
        data.pop(key, None)
    run.tick()
    data.update(run.total_time())
    write_manifest(run.out_dir, data)
    run.saved = time.perf_counter()
    if removed := remove_temp_files(run.out_dir):
        logger.info("removed %d temporary files left by an earlier, killed run", removed)
    if removed := remove_stdin_copies(run.out_dir, run.plan.folders()):
        logger.info("removed %d copies of standard input left by killed runs", removed)
    if moved := set_aside_records(run.out_dir, records_of(run.plan)):
        logger.warning(
            "%d records are of inputs that are gone (deleted or renamed since they were "
            "made): moved to %s, and left out of every output",
            moved,
            run.out_dir / GONE_DIR,
        )
        export_records(run.out_dir, run.config.run.formats, run.plan.ids)  # at once: a kill


def process_batch(
    pipe: Pipeline,
    batch: list[InputItem],
    out_dir: StoragePath,
    config: PipelineConfig,
    write: set[str] | None = None,
) -> list[Outcome]:
    """Read, process and write one batch; every engine's workers run this. With `write`,
    the whole batch is processed (the same batch as in an uninterrupted run) but only
    those articles' records are written and reported."""
    articles = [_read(item, config) for item in batch]
    wanted = [a for a in articles if write is None or a.id in write]
    # When every article to write failed to read (a link not followed, an unreadable file),
    # the group's model work would only be thrown away: a resume must not redo it each time.
    if any(a.error is None for a in wanted):
        pipe.process(articles)  # it passes over failed and skipped articles
    return [_write(article, out_dir) for article in wanted]


def _read(item: InputItem, config: PipelineConfig) -> Article:
    """The article, or one that carries the read error; its language checked."""
    try:
        article = read_article(item, max_bytes=config.run.max_input_bytes)
    except InputError as exc:
        logger.warning("%s: %s", item.where, exc)
        article = Article(
            id=item.id, text="", source=item.where, warnings=list(item.notes), error=f"read: {exc}"
        )
        article.meta[SOURCE_DIGEST] = item.digest
        return article
    check_language(article, config.run.non_indonesian)
    article.meta[SOURCE_DIGEST] = item.digest
    return article


def _write(article: Article, out_dir: StoragePath) -> Outcome:
    """Write the article's record; one that cannot be written fails that article only,
    unless no article could be written (a full or read-only disk stops the run)."""
    record = article_record(article)
    try:
        write_record(out_dir, record)
    except OSError as exc:
        if exc.errno in _FATAL_WRITE_ERRORS:
            raise
        logger.error("%s: could not write its record: %s", article.id, exc)
        record.update(status="failed")
        article.error = f"write: {exc.strerror or exc} ({exc.filename or out_dir})"
    return Outcome(
        id=article.id,
        status=record["status"],
        error=article.error,
        sentences=len(article.sentences),
        guards=dict(article.meta.get("guards", {})),
    )


def count(run: Run, outcomes: list[Outcome]) -> None:
    """A batch's outcomes into the report, and its records into the plan (for the export)."""
    for outcome in outcomes:
        run.report.add(outcome)
    run.plan.written([outcome.id for outcome in outcomes])


CHECKPOINT_S = 10.0  # how often a run's time so far is saved, for a kill -9 to keep it


def checkpoint(run: Run) -> None:
    """After a batch: the time so far, into run.json now and then, so that the Time of a
    run killed without warning still counts toward the folder's total."""
    run.tick()
    if time.perf_counter() - run.saved >= CHECKPOINT_S:
        run.manifest.data.update(run.total_time())
        write_manifest(run.out_dir, run.manifest.data)
        run.saved = time.perf_counter()


def finish(run: Run) -> None:
    """Export records.jsonl (and Parquet) for this input and close run.json: after the
    last batch, and after a stop signal (a crash leaves both for the resume)."""
    run.tick()
    export_records(run.out_dir, run.config.run.formats, run.plan.ids)
    report, data = run.report, run.manifest.data
    if report.processed:
        run.manifest.adopt_settings()
    data["interrupted" if report.interrupted else "finished"] = now()
    data["last_report"] = report.line()
    data.update(run.total_time())
    write_manifest(run.out_dir, data)


@contextmanager
def progress(config: PipelineConfig, total: int) -> Iterator[Any]:
    """A bar in terminals and notebooks alike; silent in logs unless asked for."""
    bar = progress_bar(total, config.run.progress, unit="article", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
