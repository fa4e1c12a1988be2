"""The record: its shape and status, the output folder's layout, and one record per
article written atomically.

Every file name of a run's output folder is defined here and only here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Collection, Container, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline import __version__
from pipeline.output.atomic import TMP_SUFFIX, atomic_write_text
from pipeline.report.warning_summary import summarize_repeats
from pipeline.storage.objects import ObjectPath, StoragePath, location, read_objects
from pipeline.types import Article, Status, status_of

logger = logging.getLogger(__name__)

RECORDS_DIR = "records"  # OUT/records/<id>.json, one per article
# Records whose input is no longer there (deleted, renamed, a fixed row's error record),
# moved out of records/ so that no output describes them, and kept in case they are wanted.
GONE_DIR = "records-of-inputs-gone"
RECORDS_JSONL = "records.jsonl"  # all records, one per line, sorted by id
RECORDS_PARQUET = "records.parquet"
MANIFEST = "run.json"  # the run's settings, input, times and last report line
LOCK = ".id2en.lock"
STDIN_COPY_PREFIX = ".stdin-"  # OUT/.stdin-XXXX/: standard input's copy while its run lasts
REPORT_HTML = "report.html"  # `id2en report`'s page, unless told another file

SOURCE_DIGEST = "source_sha256"  # record meta: the digest of the bytes it was made from

STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped")


# -- the record ---------------------------------------------------------------------------


def article_record(article: Article) -> dict[str, Any]:
    """The record written for an article: its fields, repeated warnings counted, its
    status and the id2en version that made it."""
    record = article.to_dict()
    record["warnings"] = summarize_repeats(record["warnings"])
    record["status"] = record_status(record)
    record["id2en"] = __version__
    return record


def record_status(record: Mapping[str, Any]) -> Status:
    """ok | failed | skipped (not Indonesian, run.non_indonesian: skip), for a record being
    made or one read back; records written before `status` existed have only `error`."""
    if record.get("status") == "failed":
        return "failed"
    meta = record.get("meta")
    status = status_of(record.get("error"), meta if isinstance(meta, dict) else {})
    return "skipped" if status == "ok" and record.get("status") == "skipped" else status


# -- where records are --------------------------------------------------------------------

# Names Windows refuses as files whatever the extension; encoded so outputs copy anywhere.
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)]
)
_MAX_PART_BYTES = 200  # file names over ~255 bytes fail on common filesystems


_MAX_RELATIVE_BYTES = 1000  # far below PATH_MAX (4096), leaving room for OUT_DIR itself
_LONG_DIR = "+long"  # "+" never survives quote(): no id's own folder has this name


def record_path(out_dir: StoragePath, article_id: str) -> StoragePath:
    """A safe, collision-free file for any id: each part percent-encoded.

    A folder part never ends in ".json", so the folder of id "a.json/b" cannot be the file
    of id "a"; an id whose path would be too long for the file system is hashed.
    """
    return location(out_dir).joinpath(RECORDS_DIR, *record_name(article_id).split("/"))


def record_name(article_id: str) -> str:
    """The record's path under records/, "/"-separated (record_path without pathlib, for
    a plan that names a million of them)."""
    parts = [_safe_part(part) for part in article_id.split("/")]
    folders = [_folder_part(part) for part in parts[:-1]]
    relative = "/".join([*folders, parts[-1] + ".json"])
    if len(relative.encode()) > _MAX_RELATIVE_BYTES:
        digest = hashlib.sha256(article_id.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{_LONG_DIR}/{parts[-1][:100]}+{digest[:32]}.json"
    return relative


def _folder_part(encoded: str) -> str:
    """Encode the dot of a trailing ".json", which only record files may have."""
    if encoded.lower().endswith(".json"):
        return f"{encoded[:-5]}%2E{encoded[-4:]}"
    return encoded


def _safe_part(part: str) -> str:
    """Percent-encoding is one-to-one; leading dots (hidden files, ".."), names Windows
    reserves and trailing dots/spaces get their edge character encoded too."""
    encoded = quote(part, safe="-_. ")
    if not encoded:
        return "%2F"  # an empty part ("a//b"); no part holds "/", so quote never yields it
    if encoded[0] == "." or encoded.split(".")[0].upper() in _RESERVED:
        encoded = f"%{ord(encoded[0]):02X}{encoded[1:]}"
    if encoded[-1] in ". ":
        encoded = f"{encoded[:-1]}%{ord(encoded[-1]):02X}"
    if len(encoded) > _MAX_PART_BYTES:
        # "+" never survives quote(), so a shortened name cannot equal a plain one.
        digest = hashlib.sha1(encoded.encode()).hexdigest()[:16]
        encoded = f"{encoded[:150]}+{digest}"
    return encoded


# -- reading and writing ------------------------------------------------------------------


def remove_temp_files(out_dir: StoragePath) -> int:
    """Delete temporary files a killed run left behind (never complete records). Object
    storage has none: an object is written in one request, never under a temporary name."""
    if isinstance(out_dir, ObjectPath):
        return 0
    pattern = f".*{TMP_SUFFIX}"
    paths = [*Path(out_dir).glob(pattern), *Path(out_dir, RECORDS_DIR).rglob(pattern)]
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)


def remove_stdin_copies(out_dir: StoragePath, in_use: Collection[StoragePath]) -> int:
    """Delete copies of standard input that killed runs left (not those in `in_use`).
    With OUT on object storage the copy is a local temporary folder, never in OUT."""
    if isinstance(out_dir, ObjectPath):
        return 0
    used = {folder.resolve() for folder in in_use}
    stale = [p for p in Path(out_dir).glob(f"{STDIN_COPY_PREFIX}*") if p.resolve() not in used]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


def set_aside_records(out_dir: StoragePath, keep: Container[str]) -> int:
    """Move every record whose name (record_name) is not in `keep` (the input's articles'
    records) from records/ to GONE_DIR, at the same relative path; returns how many were
    moved. Records are listed folder by folder, never all held at once."""
    if isinstance(out_dir, ObjectPath):
        return _set_aside_objects(out_dir, keep)
    records = Path(out_dir, RECORDS_DIR)
    gone = [p for p in _record_files(records) if p.relative_to(records).as_posix() not in keep]
    for path in sorted(gone):
        target = Path(out_dir, GONE_DIR, path.relative_to(records))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        for folder in path.parents:  # folders it leaves empty go too
            if folder == records or any(folder.iterdir()):
                break
            folder.rmdir()
    return len(gone)


def _record_files(folder: Path) -> Iterator[Path]:
    """The record files under `folder`, streamed (os.scandir: no list of a folder's
    million entries)."""
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _record_files(Path(entry.path))
            elif entry.name.endswith(".json"):
                yield Path(entry.path)


def _set_aside_objects(out_dir: ObjectPath, keep: Container[str]) -> int:
    """set_aside_records on object storage: each move is a copy, then a delete (no rename
    there); a run killed between the two leaves the record in both, which the next run
    moves again."""
    records = out_dir / RECORDS_DIR
    moved = 0
    for path in records.rglob("*.json"):
        if path.relative_to(records).as_posix() not in keep:
            out_dir.joinpath(GONE_DIR, path.relative_to(records).as_posix()).write_bytes(
                path.read_bytes()
            )
            path.unlink(missing_ok=True)
            moved += 1
    return moved


def write_record(out_dir: StoragePath, record: dict[str, Any]) -> StoragePath:
    path = record_path(out_dir, record["id"])
    atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return path


def read_record(out_dir: StoragePath, article_id: str) -> dict[str, Any] | None:
    """The finished record for an id, or None if absent or unreadable (then redo it)."""
    path = record_path(out_dir, article_id)
    try:
        return _parse(path.read_bytes(), article_id)
    except OSError:
        return None


def read_records(out_dir: StoragePath, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The records of `ids` that are there and readable (see read_record), by id; on
    object storage fetched together (concurrent requests), not one after another."""
    if not isinstance(out_dir, ObjectPath):
        found = {article_id: read_record(out_dir, article_id) for article_id in ids}
        return {article_id: record for article_id, record in found.items() if record}
    paths = {record_path(out_dir, article_id): article_id for article_id in ids}
    records = {}
    for path, data in read_objects(list(paths)).items():  # type: ignore[arg-type]
        record = _parse(data, paths[path])
        if record is not None:
            records[paths[path]] = record
    return records


def _parse(data: bytes, article_id: str) -> dict[str, Any] | None:
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None
    return record if isinstance(record, dict) and record.get("id") == article_id else None


READ_TOGETHER = 256  # records fetched at once when exporting


def iter_records(
    out_dir: StoragePath, ids: Iterable[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Records under OUT_DIR/records sorted by id, read a few at a time (flat memory).

    With `ids` (sorted, each once: a run's plan gives them so), only those articles'
    records, in that order (missing ones are left out).
    """
    if ids is not None:
        chunk: list[str] = []
        for article_id in ids:
            chunk.append(article_id)
            if len(chunk) == READ_TOGETHER:
                yield from _in_order(out_dir, chunk)
                chunk = []
        yield from _in_order(out_dir, chunk)
        return
    index: list[tuple[str, StoragePath]] = []
    for path in location(out_dir).joinpath(RECORDS_DIR).rglob("*.json"):
        record = _load(path)
        if record is not None:
            index.append((str(record.get("id", "")), path))
    for _, path in sorted(index):
        record = _load(path)
        if record is not None:
            yield record


def _in_order(out_dir: StoragePath, ids: list[str]) -> Iterator[dict[str, Any]]:
    records = read_records(out_dir, ids)
    return (records[article_id] for article_id in ids if article_id in records)


def _load(path: StoragePath) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("skipping unreadable record %s", path)
        return None
    return record if isinstance(record, dict) else None
