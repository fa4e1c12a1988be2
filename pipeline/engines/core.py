"""The run core both engines share: the output folder's lock and manifest, the to-do list
(resume), one batch read -> processed -> written, the export of records.jsonl, progress and
the report line. The local engine (local.py) and the Ray engine (ray.py) drive it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.api import Pipeline
from pipeline.atomic import atomic_open, atomic_write_text
from pipeline.config import PipelineConfig
from pipeline.errors import InputError, RunRefusedError
from pipeline.inputs.language import SKIPPED, check_language
from pipeline.inputs.reader import InputItem, discover, read_article
from pipeline.inputs.tables import TableOptions
from pipeline.model_identity import LOCAL_IDENTITY, model_identity
from pipeline.records import (
    LOCK,
    MANIFEST,
    RECORDS_JSONL,
    RECORDS_PARQUET,
    iter_records,
    read_record,
    remove_temp_files,
    write_record,
)
from pipeline.registry import canonical_name, holds_model
from pipeline.types import Article
from pipeline.warning_summary import summarize_repeats

logger = logging.getLogger(__name__)

SOURCE_DIGEST = "source_sha256"  # record meta: the digest of the bytes it was made from
# Settings that change what a record contains; device, threads and progress do not.
FINGERPRINT_SECTIONS = ("stages", "split", "translate", "summarize", "guards")
FINGERPRINT_RUN_KEYS = ("non_indonesian",)
# Keys that only change speed, memory or where files are found: lowering a batch size
# after an out-of-memory error must not need --force.
OPERATIONAL_KEYS = frozenset(
    {
        "max_batch_tokens",
        "max_batch_sentences",
        "adapt_batch_to_memory",
        "dedupe",
        "dedupe_memory",
        "cache_path",
        "cache_dir",
        "local_files_only",
        "ct2_model_dir",
    }
)


@dataclass
class RunReport:
    total: int = 0
    done: int = 0
    failed: int = 0
    already_done: int = 0  # finished by an earlier run into the same folder (resume)
    changed: int = 0  # finished earlier, redone now: their source changed since
    sentences: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    not_indonesian: int = 0  # recorded with status "skipped" (run.non_indonesian: skip)
    failures: list[tuple[str, str]] = field(default_factory=list)
    guards: dict[str, int] = field(default_factory=dict)  # guard findings by kind, this run

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
            self.failures.append((outcome.id, outcome.error or ""))
        elif outcome.status == "skipped":
            self.not_indonesian += 1
        else:
            self.done += 1
            self.sentences += outcome.sentences
        for kind, count in outcome.guards.items():
            self.guards[kind] = self.guards.get(kind, 0) + count

    def line(self) -> str:
        state = "interrupted" if self.interrupted else "finished"
        excluded = f", {self.not_indonesian} not Indonesian" if self.not_indonesian else ""
        changed = f" ({self.changed} redone: source changed)" if self.changed else ""
        flagged = ", ".join(f"{kind} {n}" for kind, n in sorted(self.guards.items()))
        guards = f"; output guards fired: {flagged}" if flagged else ""
        return (
            f"{state}: {self.done} done{changed}, {self.failed} failed, {self.already_done} "
            f"already done{excluded} of {self.total} articles; {self.sentences} sentences "
            f"in {self.elapsed:.1f}s{guards}"
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one article in a batch: all the report needs, small enough to ship."""

    id: str
    status: str  # ok | failed | skipped
    error: str | None = None
    sentences: int = 0
    guards: dict[str, int] = field(default_factory=dict)


def config_fingerprint(config: PipelineConfig) -> tuple[str, dict[str, Any]]:
    """A digest of everything that decides a record's content, and those settings."""
    data = config.model_dump(mode="json")
    relevant = {k: v for k, v in data.items() if k in FINGERPRINT_SECTIONS}
    relevant["run"] = {k: data["run"][k] for k in FINGERPRINT_RUN_KEYS}
    for family in ("translate", "summarize"):
        stage = getattr(config.stages, family)
        settings = relevant[family]
        if stage is None:
            relevant[family] = {}  # a stage that is off cannot change records
        elif not holds_model(stage):
            relevant[family] = {"extractive_sentences": settings["extractive_sentences"]}
        else:
            relevant[family] = {k: v for k, v in settings.items() if k not in OPERATIONAL_KEYS}
            resolved = model_identity(getattr(config, family))
            relevant[family]["resolved"] = resolved
            if resolved is not None and resolved.startswith(LOCAL_IDENTITY):
                del relevant[family]["model"]  # a moved or copied folder is the same model
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
    return digest, relevant


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Settings that changed, by dotted name; an empty section equals a missing one."""
    before, after = _flatten(old), _flatten(new)
    return [
        f"{key}: {before.get(key)!r} -> {after.get(key)!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif value is not None:
            out[f"{prefix}{key}"] = value
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
        raise RunRefusedError(
            f"another id2en run ({holder}) is writing to {out_dir}; wait for it to "
            "finish or choose another output folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {_now()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class StopFlag:
    """SIGINT/SIGTERM ask the run to stop after the current batch, not mid-write."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C means now
            raise KeyboardInterrupt
        self.requested = True
        logger.warning(
            "%s: stopping after the current batch; finished records are kept. To resume, "
            "run the same command again with -o %s (a second signal stops at once)",
            signal.Signals(signum).name,
            self.out_dir,
        )

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class Manifest:
    """run.json as read, and what this run will write into it."""

    data: dict[str, Any]
    fingerprint: str
    settings: dict[str, Any]
    forced: bool = False

    def adopt_settings(self) -> None:
        """This run's settings become the folder's: only once records were made with them,
        so a --force run that processed nothing changes nothing."""
        self.data.update({"fingerprint": self.fingerprint, "settings": self.settings})


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_manifest(
    out_dir: Path, config: PipelineConfig, input_root: str, force: bool
) -> Manifest:
    """Refuse (unless forced) an OUT_DIR made with other settings or from another input."""
    digest, relevant = config_fingerprint(config)
    manifest = Manifest(_read_manifest(out_dir / MANIFEST), digest, relevant)
    data = manifest.data
    changes = []
    if data.get("fingerprint"):
        changes = _differences(_known(data.get("settings", {}), relevant), relevant)
    if data.get("input") not in (None, input_root):
        changes.append(f"input folder: {data['input']!r} -> {input_root!r}")
    if changes:
        if not force:
            raise RunRefusedError(
                f"{out_dir} holds records made with different settings, models or input; "
                "mixing them would give inconsistent outputs. Changed:\n  "
                + "\n  ".join(changes[:20])
                + "\nUse a new output folder, or --force to continue anyway (records "
                "made earlier are kept as they are)."
            )
        logger.warning("--force: continuing in %s although %s", out_dir, "; ".join(changes))
        data.setdefault("forced", []).append({"at": _now(), "changes": changes})
        manifest.forced = True
    else:
        manifest.adopt_settings()
    data.update(
        {"input": input_root, "id2en": __version__, "config": config.model_dump(mode="json")}
    )
    return manifest


def _known(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A model the last run had not downloaded yet resolves now: that is not a change.
    Nor is the path of a local model folder, which its content digest stands for, a stage
    recorded under its old name, or a setting newer than the folder left at its default."""
    old = json.loads(json.dumps(old))
    stages = old.get("stages")
    if isinstance(stages, dict):
        old["stages"] = {family: canonical_name(name) for family, name in stages.items()}
    defaults = PipelineConfig().model_dump(mode="json")
    for family, section in new.items():
        before = old.get(family)
        if isinstance(section, dict) and isinstance(before, dict) and before:
            for key, value in section.items():
                if key not in before and defaults.get(family, {}).get(key, _ABSENT) == value:
                    before[key] = value
    for family in ("translate", "summarize"):
        section = old.get(family)
        if not isinstance(section, dict):
            continue
        if section.get("resolved", "") is None:
            section["resolved"] = new.get(family, {}).get("resolved")
        if str(section.get("resolved")).startswith(LOCAL_IDENTITY):
            section.pop("model", None)
    return old


_ABSENT = object()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class PreparedRun:
    """A run's to-do list and bookkeeping, shared by the local and Ray engines.

    `groups` are the batches: fixed groups of `run.batch_articles` consecutive inputs, so
    which articles share a batch depends on the input alone, never on what an earlier,
    killed run finished. A group with anything left to do is processed whole; only its
    articles in `todo` are written.
    """

    items: list[InputItem]
    todo: list[InputItem]
    groups: list[list[InputItem]]
    report: RunReport
    started: float

    @property
    def todo_ids(self) -> set[str]:
        return {item.id for item in self.todo}

    def tick(self) -> None:
        self.report.elapsed = time.perf_counter() - self.started


@contextmanager
def prepared_run(
    config: PipelineConfig,
    input_dir: Path,
    out_dir: Path,
    *,
    force: bool,
    engine: str,
    setup: Callable[[], None] | None = None,
    input_name: str | None = None,
) -> Iterator[PreparedRun]:
    """Lock OUT, check the manifest, list what is left to do, check the setup (`setup`,
    before any article is touched), write the manifest; afterwards export the records and
    close the manifest, also when the run was interrupted. `input_name` is what run.json
    binds the folder to when the path read is a stand-in (standard input's copy)."""
    started = time.perf_counter()
    input_root = Path(input_dir).resolve()
    items = discover(
        Path(input_dir),
        TableOptions.from_run(config.run),
        exclude=out_dir,
        follow_links=config.run.follow_links,
    )
    with run_lock(out_dir):
        manifest = _check_manifest(out_dir, config, input_name or str(input_root), force)
        report = RunReport(total=len(items))
        todo = _todo(out_dir, items, config, report)
        if todo and setup is not None:
            setup()
        data = manifest.data
        data.update({"started": _now(), "engine": engine})
        for key in ("finished", "interrupted"):
            data.pop(key, None)
        atomic_write_text(out_dir / MANIFEST, json.dumps(data, indent=1) + "\n")
        if removed := remove_temp_files(out_dir):
            logger.info("removed %d temporary files left by an earlier, killed run", removed)
        ids = {item.id for item in todo}
        groups = [g for g in chunks(items, config.run.batch_articles) if ids & {i.id for i in g}]
        run = PreparedRun(items, todo, groups, report, started)
        yield run
        run.tick()
        export_records(out_dir, config.run.formats, [item.id for item in items])
        if report.done + report.failed + report.not_indonesian:
            manifest.adopt_settings()
        data["interrupted" if report.interrupted else "finished"] = _now()
        data["last_report"] = report.line()
        data["elapsed_s"] = round(report.elapsed, 3)
        atomic_write_text(out_dir / MANIFEST, json.dumps(data, indent=1) + "\n")


def _todo(
    out_dir: Path, items: list[InputItem], config: PipelineConfig, report: RunReport
) -> list[InputItem]:
    todo = []
    for item in items:
        state = _done_state(out_dir, item, config)
        if state == "done":
            report.already_done += 1
            continue
        if state == "changed":
            report.changed += 1
            logger.info("%s changed since its record was made; translating it again", item.where)
        todo.append(item)
    return todo


def _done_state(out_dir: Path, item: InputItem, config: PipelineConfig) -> str:
    """done, changed (its source is not what the record was made from) or todo.
    Finished records are kept; failed ones are retried; skipped ones while still skipped."""
    record = read_record(out_dir, item.id)
    if record is None:
        return "todo"
    made_from = (record.get("meta") or {}).get(SOURCE_DIGEST)
    if None not in (made_from, item.digest) and made_from != item.digest:
        return "changed"
    if record.get("status") == "skipped":
        return "done" if config.run.non_indonesian == "skip" else "todo"
    return "done" if record.get("error") is None else "todo"


def chunks(items: list[InputItem], size: int) -> Iterator[list[InputItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Write errors that no other article could escape: the run stops (exit 4), resumable.
_FATAL_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def process_batch(
    pipe: Pipeline,
    batch: list[InputItem],
    out_dir: Path,
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
    outcomes = []
    for article in articles:
        if write is not None and article.id not in write:
            continue
        record = article_record(article)
        try:
            write_record(out_dir, record)
        except OSError as exc:
            if exc.errno in _FATAL_WRITE_ERRORS:
                raise
            logger.error("%s: could not write its record: %s", article.id, exc)
            record.update(status="failed")
            article.error = f"write: {exc.strerror or exc} ({exc.filename or out_dir})"
        outcomes.append(
            Outcome(
                id=article.id,
                status=record["status"],
                error=article.error,
                sentences=len(article.sentences),
                guards=dict(article.meta.get("guards", {})),
            )
        )
    return outcomes


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


def article_record(article: Article) -> dict[str, Any]:
    record = article.to_dict()
    record["warnings"] = summarize_repeats(record["warnings"])
    record["status"] = "failed" if article.error else "skipped" if SKIPPED in article.meta else "ok"
    record["id2en"] = __version__
    return record


def export_records(out_dir: Path, formats: list[str], ids: list[str] | None = None) -> None:
    """Gather the per-article records into records.jsonl (and Parquet), atomically.

    Records are streamed one at a time, so memory stays flat however long the run.
    With `ids`, only those articles' records go in (the current input folder's).
    """
    if "jsonl" in formats:
        with atomic_open(out_dir / RECORDS_JSONL) as handle:
            for record in iter_records(out_dir, ids):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if "parquet" in formats:
        from pipeline.dataset import write_parquet

        write_parquet(iter_records(out_dir, ids), out_dir / RECORDS_PARQUET)


@contextmanager
def progress(config: PipelineConfig, total: int) -> Iterator[Any]:
    """A bar in terminals and notebooks alike; silent in logs unless asked for."""
    from pipeline.progress import progress_bar

    bar = progress_bar(total, config.run.progress, unit="article", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
