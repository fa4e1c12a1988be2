"""A run's records as tables: a `datasets.Dataset`, Parquet, or plain dicts for analysis.

One row per article; `sentences` is a nested column (a list of structs). `meta` is free-form
(models, timings, partial summaries, tracebacks), so it travels as a JSON string column
(`meta_json`) and every row keeps the same Arrow schema.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from pipeline.errors import InputError
from pipeline.output.atomic import atomic_path
from pipeline.output.records import (
    RECORDS_DIR,
    RECORDS_JSONL,
    RECORDS_PARQUET,
    iter_records,
    record_status,
)
from pipeline.storage.objects import StoragePath, location

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)

Source = Literal["auto", "jsonl", "records", "parquet"]

SENTENCE_TYPE = pa.struct(
    [
        ("text", pa.string()),
        ("paragraph", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("en", pa.string()),
        ("cut", pa.string()),
        ("lang", pa.string()),  # "id", "en" or "zxx" (copied unchanged)
        ("score", pa.float64()),  # mean log-probability per output token
        # What the English must keep (offsets into `text`) and the QA checks' findings.
        (
            "spans",
            pa.list_(
                pa.struct([("start", pa.int64()), ("end", pa.int64()), ("kind", pa.string())])
            ),
        ),
        ("flags", pa.list_(pa.struct([("check", pa.string()), ("message", pa.string())]))),
    ]
)
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("status", pa.string()),
        ("source", pa.string()),
        ("text", pa.string()),
        ("sentences", pa.list_(SENTENCE_TYPE)),
        ("english", pa.string()),
        ("summary", pa.string()),
        ("summary_score", pa.float64()),  # meta.summary.score, as a column to sort by
        ("warnings", pa.list_(pa.string())),
        ("error", pa.string()),
        ("id2en", pa.string()),
        ("meta_json", pa.string()),
        # Top-level keys this schema does not know (a newer writer's), kept rather than dropped.
        ("extra_json", pa.string()),
    ]
)
_DERIVED = {"meta_json", "extra_json", "summary_score"}  # built from `meta`, not record keys
_PLAIN_COLUMNS = [name for name in SCHEMA.names if name not in _DERIVED]
_SENTENCE_FIELDS = [field.name for field in SENTENCE_TYPE]
_LATER_FIELDS = frozenset({"spans", "flags"})  # sentence fields older records lack
_BATCH_ROWS = 1000  # rows converted to Arrow at a time, so big runs need no list of all dicts


# -- record <-> row ---------------------------------------------------------------------


def record_to_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record (as written by the engine) as a row matching SCHEMA."""
    row = {name: record.get(name) for name in _PLAIN_COLUMNS}
    row["sentences"] = [
        {
            name: sentence.get(name)
            for name in _SENTENCE_FIELDS
            if name in sentence or name not in _LATER_FIELDS
        }
        for sentence in record.get("sentences") or []
    ]
    row["warnings"] = [str(w) for w in record.get("warnings") or []]
    row["status"] = record_status(record)  # also for records written before `status` existed
    row["meta_json"] = _dumps(record.get("meta") or {})
    summary_meta = (record.get("meta") or {}).get("summary")
    row["summary_score"] = summary_meta.get("score") if isinstance(summary_meta, dict) else None
    extra = {k: v for k, v in record.items() if k not in SCHEMA.names and k != "meta"}
    row["extra_json"] = _dumps(extra) if extra else None
    return row


def row_to_record(row: dict[str, Any]) -> dict[str, Any]:
    """Undo record_to_row: the record dict again, `meta` parsed back from JSON."""
    record = {name: row.get(name) for name in _PLAIN_COLUMNS}
    record["sentences"] = [_sentence(s) for s in row.get("sentences") or []]
    record["warnings"] = list(row.get("warnings") or [])
    record["meta"] = json.loads(row["meta_json"]) if row.get("meta_json") else {}
    if row.get("extra_json"):
        record.update(json.loads(row["extra_json"]))
    return record


def _sentence(row: dict[str, Any]) -> dict[str, Any]:
    """A sentence struct as its record wrote it: fields added later (None in rows of
    records written before them) left out, so old records round-trip unchanged."""
    return {k: v for k, v in row.items() if not (k in _LATER_FIELDS and v is None)}


def to_records(dataset: datasets.Dataset | pa.Table) -> list[dict[str, Any]]:
    """A loaded Dataset (or Arrow table) back as record dicts, as the engine wrote them."""
    rows = dataset.to_pylist() if isinstance(dataset, pa.Table) else dataset.to_list()
    return [row_to_record(row) for row in rows]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- Arrow / Parquet ----------------------------------------------------------------------


def records_to_table(records: Iterable[dict[str, Any]]) -> pa.Table:
    """Records as one Arrow table with SCHEMA, converted in batches."""
    batches: list[pa.RecordBatch] = []
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record_to_row(record))
        if len(chunk) >= _BATCH_ROWS:
            batches.append(pa.RecordBatch.from_pylist(chunk, schema=SCHEMA))
            chunk = []
    if chunk or not batches:
        batches.append(pa.RecordBatch.from_pylist(chunk, schema=SCHEMA))
    return pa.Table.from_batches(batches, schema=SCHEMA)


def write_parquet(
    records: Iterable[dict[str, Any]], path: str | os.PathLike[str] | StoragePath
) -> StoragePath:
    """Write records to a Parquet file atomically (a reader never sees half a file)."""
    import pyarrow.parquet as pq

    path = location(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = records_to_table(records)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    logger.info("wrote %d records to %s", table.num_rows, path)
    return path


def read_parquet(path: str | os.PathLike[str]) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path, schema=SCHEMA)


# -- which file holds the records ---------------------------------------------------------


def iter_run_records(
    out_dir: str | os.PathLike[str], source: Source = "auto"
) -> Iterator[dict[str, Any]]:
    """The records of a run folder (or of one records .jsonl/.parquet file), sorted by id.

    source="auto" reads OUT_DIR/records.jsonl when it is up to date with OUT_DIR/records/
    (same count, not older than any record), else the per-article files, which are the
    truth while a run is in progress or after it was killed.
    """
    path = Path(out_dir)
    if path.is_file():
        yield from _records_in_file(path)
        return
    chosen = _choose_source(path) if source == "auto" else source
    logger.debug("reading records of %s from %s", path, chosen)
    if chosen == "records":
        yield from iter_records(path)
    elif chosen == "jsonl":
        yield from _read_jsonl(path / RECORDS_JSONL)
    elif chosen == "parquet":
        yield from to_records(read_parquet(path / RECORDS_PARQUET))
    else:
        raise ValueError(f"unknown source {source!r}: use auto, jsonl, records or parquet")


def _records_in_file(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".parquet":
        yield from to_records(read_parquet(path))
    else:
        yield from _read_jsonl(path)


def _choose_source(out_dir: Path) -> Source:
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} does not exist or is not a folder")
    record_files = list(Path(out_dir, RECORDS_DIR).rglob("*.json"))
    jsonl = out_dir / RECORDS_JSONL
    if not record_files:
        if jsonl.is_file():
            return "jsonl"  # e.g. only records.jsonl was copied somewhere
        if (out_dir / RECORDS_PARQUET).is_file():
            return "parquet"
        raise InputError(
            f"{out_dir} holds no records: expected {RECORDS_DIR}/*.json or {RECORDS_JSONL} "
            "(written by `id2en run INPUT_DIR -o OUT_DIR`)"
        )
    if jsonl.is_file() and _jsonl_is_current(jsonl, record_files):
        return "jsonl"
    return "records"


def _jsonl_is_current(jsonl: Path, record_files: list[Path]) -> bool:
    newest = max(p.stat().st_mtime_ns for p in record_files)
    if jsonl.stat().st_mtime_ns < newest:
        return False
    with jsonl.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines == len(record_files)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise InputError(f"{path}:{number}: not a valid JSON line ({exc})") from None


# -- public loaders -----------------------------------------------------------------------


def load_records(out_dir: str | os.PathLike[str], source: Source = "auto") -> datasets.Dataset:
    """A run's output folder as a `datasets.Dataset`: one row per article.

    Columns: id, status, source, text, sentences (list of {text, paragraph, start, end, en,
    cut, lang, score}), english, summary, summary_score, warnings, error, id2en, meta_json
    (JSON string; parse with `json.loads`), extra_json. `to_records(dataset)` turns rows
    back into record dicts.

    >>> ds = load_records("out/")          # doctest: +SKIP
    >>> df = ds.to_pandas()                # doctest: +SKIP
    """
    import datasets
    from datasets.table import InMemoryTable

    table = records_to_table(iter_run_records(out_dir, source))
    return datasets.Dataset(InMemoryTable(table))


def sentence_rows(
    records: Iterable[dict[str, Any]] | datasets.Dataset,
) -> list[dict[str, Any]]:
    """One flat row per sentence (article id, index, paragraph, text, en, cut, ...).

    Handy for `pandas.DataFrame(sentence_rows(ds))` when looking for bad translations.
    """
    rows = []
    for record in records:
        for index, sentence in enumerate(record.get("sentences") or []):
            rows.append({"id": record["id"], "sentence": index, **_sentence(dict(sentence))})
    return rows
