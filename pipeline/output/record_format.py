"""Does a record read back (records/*.json, records.jsonl) fit the format id2en writes?

A record edited by hand or made by another tool may not. `record_problems` names each
field that does not fit and what was expected; `locate_record` names the file (and line)
it came from, so the report can list such a record instead of failing on it. Fields this
module does not know are allowed: newer versions add some.

>>> record_problems({"id": "a", "sentences": [{"text": "Satu.", "score": "high"}]})
["sentences[0].score: expected a number or null, got 'high'"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import excerpt
from pipeline.output.records import RECORDS_DIR, RECORDS_JSONL, STATUSES, record_path

_NUMBER = "a number"
_TEXT = "a string"
_INTEGER = "an integer"
_OBJECT = "an object"
_LIST = "a list"
# field -> (what it must be, whether null is allowed)
_RECORD_FIELDS = {
    "source": (_TEXT, True),
    "text": (_TEXT, True),
    "english": (_TEXT, True),
    "summary": (_TEXT, True),
    "error": (_TEXT, True),
    "warnings": (_LIST, True),
    "sentences": (_LIST, True),
    "meta": (_OBJECT, True),
}
_SENTENCE_FIELDS = {
    "text": (_TEXT, True),
    "paragraph": (_INTEGER, True),
    "start": (_INTEGER, True),
    "end": (_INTEGER, True),
    "en": (_TEXT, True),
    "cut": (_TEXT, True),
    "lang": (_TEXT, True),
    "score": (_NUMBER, True),
}
_META_FIELDS = {"models": (_OBJECT, True), "timings": (_OBJECT, True), "summary": (_OBJECT, True)}
_SUMMARY_FIELDS = {"score": (_NUMBER, True)}


def record_problems(record: Any) -> list[str]:
    """Each way `record` does not fit the record format, as "FIELD: expected ..., got ..."
    (empty when it fits)."""
    if not isinstance(record, dict):
        return [f"(the record): expected {_OBJECT}, got {_shown(record)}"]
    problems = []
    if not isinstance(record.get("id"), str) or not record["id"]:
        problems.append(f"id: expected a non-empty string, got {_shown(record.get('id'))}")
    status = record.get("status")
    if status is not None and status not in STATUSES:
        problems.append(f"status: expected one of {', '.join(STATUSES)}, got {_shown(status)}")
    problems += _fields(record, _RECORD_FIELDS, "")
    for n, warning in enumerate(_list(record.get("warnings"))):
        if not isinstance(warning, str):
            problems.append(f"warnings[{n}]: expected {_TEXT}, got {_shown(warning)}")
    for n, sentence in enumerate(_list(record.get("sentences"))):
        if isinstance(sentence, dict):
            problems += _fields(sentence, _SENTENCE_FIELDS, f"sentences[{n}].")
        else:
            problems.append(f"sentences[{n}]: expected {_OBJECT}, got {_shown(sentence)}")
    meta = record.get("meta")
    if isinstance(meta, dict):
        problems += _fields(meta, _META_FIELDS, "meta.")
        if isinstance(meta.get("summary"), dict):
            problems += _fields(meta["summary"], _SUMMARY_FIELDS, "meta.summary.")
    return problems


def locate_record(out_dir: str | os.PathLike[str], record: Any) -> str:
    """Where a record read from `out_dir` (a run folder or a records file) is: "FILE" or
    "FILE:LINE"; the folder and the record's id when no file holds it as read."""
    path = Path(out_dir)
    for file in _candidates(path, record):
        if file.suffix == ".jsonl":
            for number, held in _json_lines(file):
                if held == record:
                    return f"{file}:{number}"
        elif _read_json(file) == record:
            return str(file)
    article_id = record.get("id") if isinstance(record, dict) else None
    return f"{path} (record {_shown(article_id)})"


def _candidates(path: Path, record: Any) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    article_id = record.get("id") if isinstance(record, dict) else None
    if isinstance(article_id, str) and article_id:
        found = record_path(path, article_id)
        if isinstance(found, Path):  # always, as `path` is local
            yield found
    yield path / RECORDS_JSONL
    if not isinstance(article_id, str):  # no file name to look for: every record file
        yield from sorted(Path(path, RECORDS_DIR).rglob("*.json"))


def _json_lines(file: Path) -> Iterator[tuple[int, Any]]:
    try:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield number, json.loads(line)
                except ValueError:
                    continue
    except OSError:
        return


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _fields(data: dict[str, Any], fields: dict[str, tuple[str, bool]], prefix: str) -> list[str]:
    problems = []
    for name, (kind, nullable) in fields.items():
        if name not in data:
            continue
        value = data[name]
        if value is None and nullable:
            continue
        if not _is(value, kind):
            null = " or null" if nullable else ""
            problems.append(f"{prefix}{name}: expected {kind}{null}, got {_shown(value)}")
    return problems


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool):  # JSON true/false is no number
        return False
    checks: dict[str, type | tuple[type, ...]] = {
        _NUMBER: (int, float),
        _INTEGER: int,
        _TEXT: str,
        _OBJECT: dict,
        _LIST: list,
    }
    return isinstance(value, checks[kind])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _shown(value: Any) -> str:
    return excerpt(repr(value), 80)
