"""Run a pipeline over an article folder in this process: batches, resume, lock, report."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.api import Pipeline
from pipeline.config import PipelineConfig
from pipeline.io import (
    InputError,
    InputItem,
    atomic_write_text,
    discover,
    iter_records,
    read_article,
    read_record,
    write_record,
)
from pipeline.types import Article

logger = logging.getLogger(__name__)

MANIFEST = "run.json"
LOCK = ".id2en.lock"
# Settings that change what a record contains; device, threads and progress do not.
FINGERPRINT_SECTIONS = ("stages", "split", "translate", "summarize", "guards")


class RunError(RuntimeError):
    """The run cannot start (folder locked, config changed since the last run, ...)."""


@dataclass
class RunReport:
    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    sentences: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        state = "interrupted" if self.interrupted else "finished"
        return (
            f"{state}: {self.done} done, {self.failed} failed, {self.skipped} skipped "
            f"(already done) of {self.total} articles; {self.sentences} sentences in "
            f"{self.elapsed:.1f}s"
        )


def config_fingerprint(config: PipelineConfig) -> tuple[str, dict[str, Any]]:
    relevant = {
        k: v for k, v in config.model_dump(mode="json").items() if k in FINGERPRINT_SECTIONS
    }
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
    return digest, relevant


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        where = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, where + "."))
        elif a != b:
            out.append(f"{where}: {a!r} -> {b!r}")
    return out


@contextmanager
def run_lock(out_dir: Path) -> Iterator[None]:
    """One run per output folder; the OS frees the lock even if the process is killed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunError(
            f"another id2en run ({holder}) is writing to {out_dir}; wait for it to "
            "finish or choose another output folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class _StopFlag:
    """SIGINT/SIGTERM ask the run to stop after the current batch, not mid-write."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C means now
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("stopping after the current batch (signal %d); run again to resume", signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _check_manifest(out_dir: Path, config: PipelineConfig, force: bool) -> dict[str, Any]:
    digest, relevant = config_fingerprint(config)
    path = out_dir / MANIFEST
    manifest: dict[str, Any] = {}
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            manifest = {}
        previous = manifest.get("fingerprint")
        if previous and previous != digest and not force:
            changes = _differences(manifest.get("settings", {}), relevant)
            raise RunError(
                f"{out_dir} holds records made with different settings; mixing them would "
                "give inconsistent outputs. Changed:\n  "
                + "\n  ".join(changes[:20])
                + "\nUse a new output folder, or --force to continue anyway (records made "
                "earlier are kept as they are)."
            )
    manifest.update(
        {
            "fingerprint": digest,
            "settings": relevant,
            "id2en": __version__,
            "config": config.model_dump(mode="json"),
        }
    )
    return manifest


def run_folder(
    config: PipelineConfig,
    input_dir: Path,
    out_dir: Path,
    *,
    force: bool = False,
    pipeline: Pipeline | None = None,
    on_batch: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Translate (and summarize) every article under input_dir into out_dir/records."""
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    report = RunReport()
    started = time.perf_counter()
    items = discover(input_dir)
    report.total = len(items)
    with run_lock(out_dir):
        manifest = _check_manifest(out_dir, config, force)
        manifest["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n")
        todo = [item for item in items if not _already_done(out_dir, item)]
        report.skipped = len(items) - len(todo)
        pipe = pipeline or Pipeline(config)
        with _StopFlag() as stop, _progress(config, len(todo)) as bar:
            for batch in _chunks(todo, config.run.batch_articles):
                _run_batch(pipe, batch, out_dir, report)
                report.elapsed = time.perf_counter() - started
                bar.update(len(batch))
                bar.set_postfix(sent_per_s=f"{report.sentences / max(report.elapsed, 1e-9):.1f}")
                if on_batch:
                    on_batch(report)
                if stop.requested:
                    report.interrupted = True
                    break
        report.elapsed = time.perf_counter() - started
        export_records(out_dir, config.run.formats)
        manifest["finished" if not report.interrupted else "interrupted"] = time.strftime(
            "%Y-%m-%dT%H:%M:%S%z"
        )
        manifest["last_report"] = report.line()
        atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return report


def _already_done(out_dir: Path, item: InputItem) -> bool:
    record = read_record(out_dir, item.id)
    return record is not None and record.get("error") is None


def _chunks(items: list[InputItem], size: int) -> Iterator[list[InputItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_batch(pipe: Pipeline, batch: list[InputItem], out_dir: Path, report: RunReport) -> None:
    articles: list[Article] = []
    for item in batch:
        try:
            articles.append(read_article(item))
        except InputError as exc:
            failed = Article(id=item.id, text="", source=str(item.path), error=f"read: {exc}")
            articles.append(failed)
    pipe.process(articles)
    for article in articles:
        write_record(out_dir, article_record(article))
        if article.error is None:
            report.done += 1
            report.sentences += len(article.sentences)
        else:
            report.failed += 1
            report.failures.append((article.id, article.error))


def article_record(article: Article) -> dict[str, Any]:
    record = article.to_dict()
    record["status"] = "failed" if article.error else "ok"
    record["id2en"] = __version__
    return record


def export_records(out_dir: Path, formats: list[str]) -> None:
    """Gather the per-article records into records.jsonl (and Parquet), atomically."""
    records = list(iter_records(out_dir))
    if "jsonl" in formats:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        atomic_write_text(out_dir / "records.jsonl", lines)
    if "parquet" in formats:
        from pipeline.dataset import write_parquet

        write_parquet(records, out_dir / "records.parquet")


@contextmanager
def _progress(config: PipelineConfig, total: int) -> Iterator[Any]:
    from tqdm.auto import tqdm

    mode = config.run.progress
    disable = mode == "never" or (mode == "auto" and not sys.stderr.isatty())
    bar = tqdm(total=total, unit="article", disable=disable, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
