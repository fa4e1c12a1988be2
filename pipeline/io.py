"""Reading article folders and writing one record per article, atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.textio import DecodeError, decode_bytes
from pipeline.types import Article

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
ROW_SUFFIXES = (".jsonl",)
RECORDS_DIR = "records"


@dataclass(frozen=True)
class InputItem:
    """One article to read: a whole text file, or one row of a .jsonl file."""

    id: str
    path: Path
    line: int | None = None  # 1-based line number for .jsonl rows
    offset: int | None = None  # byte offset of that row, so reading it needs no rescan


class InputError(ValueError):
    """An input could not be read as an article; the message says why and what to do."""


def discover(root: Path) -> list[InputItem]:
    """All articles under `root`, recursing, in a stable order; hidden entries skipped."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"input folder {str(root)!r} does not exist or is not a folder")
    items: list[InputItem] = []
    for path in sorted(_walk(root)):
        relative = path.relative_to(root).with_suffix("").as_posix()
        if path.suffix.lower() in ROW_SUFFIXES:
            items.extend(_jsonl_items(path, relative))
        else:
            items.append(InputItem(relative, path))
    return items


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(TEXT_SUFFIXES + ROW_SUFFIXES):
                yield Path(dirpath) / name


def _jsonl_items(path: Path, file_id: str) -> Iterator[InputItem]:
    """One item per non-blank line; a row's own `id` names it under the file's id."""
    offset = 0
    try:
        handle = path.open("rb")
    except OSError:
        yield InputItem(file_id, path, line=0, offset=0)  # the read error is reported later
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                row_id = _row_id(raw) or str(number)
                yield InputItem(f"{file_id}/{row_id}", path, line=number, offset=offset)
            offset += len(raw)


def _row_id(raw: bytes) -> str | None:
    try:
        row = json.loads(raw)
    except ValueError:
        return None
    value = row.get("id") if isinstance(row, dict) else None
    return str(value) if value not in (None, "") else None


def read_article(item: InputItem) -> Article:
    """Read one input; raises InputError with a message fit for the record."""
    if item.line is not None:
        return _read_row(item)
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {item.path}: {exc.strerror or exc}") from None
    try:
        text, notes = decode_bytes(data)
    except DecodeError as exc:
        raise InputError(f"{item.path}: {exc}") from None
    article = Article(id=item.id, text=text, source=str(item.path))
    article.warnings.extend(notes)
    return article


def _read_row(item: InputItem) -> Article:
    where = f"{item.path}:{item.line}"
    try:
        with item.path.open("rb") as handle:
            handle.seek(item.offset or 0)
            raw = handle.readline()
    except OSError as exc:
        raise InputError(f"cannot read {item.path}: {exc.strerror or exc}") from None
    try:
        row = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{where}: not a valid JSON line ({exc})") from None
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise InputError(f'{where}: expected an object like {{"id": "...", "text": "..."}}')
    return Article(id=item.id, text=row["text"], source=where)


# -- writing ----------------------------------------------------------------------


def record_path(out_dir: Path, article_id: str) -> Path:
    """A safe, collision-free file for any id: each part percent-encoded, dots kept."""
    parts = [quote(part, safe="-_. ") or "%00" for part in article_id.split("/")]
    parts = [p if p not in {".", ".."} else p.replace(".", "%2E") for p in parts]
    parts = [_shorten(p) for p in parts]
    return Path(out_dir, RECORDS_DIR, *parts[:-1], parts[-1] + ".json")


def _shorten(part: str) -> str:
    """File names over ~200 bytes fail on common filesystems; keep them unique by hash."""
    if len(part.encode()) <= 200:
        return part
    import hashlib

    digest = hashlib.sha1(part.encode()).hexdigest()[:12]
    return f"{part[:150]}~{digest}"


def atomic_write_text(path: Path, text: str) -> None:
    """Write then rename, so a reader or a killed run never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_record(out_dir: Path, record: dict[str, Any]) -> Path:
    path = record_path(out_dir, record["id"])
    atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return path


def read_record(out_dir: Path, article_id: str) -> dict[str, Any] | None:
    """The finished record for an id, or None if absent or unreadable (then redo it)."""
    path = record_path(out_dir, article_id)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("id") == article_id else None


def iter_records(out_dir: Path) -> Iterator[dict[str, Any]]:
    """Every record under OUT_DIR/records, sorted by id."""
    records = []
    for path in Path(out_dir, RECORDS_DIR).rglob("*.json"):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            logger.warning("skipping unreadable record %s", path)
    yield from sorted(records, key=lambda r: r.get("id", ""))
