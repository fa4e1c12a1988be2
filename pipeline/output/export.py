"""The combined outputs gathered from the per-article records: records.jsonl and Parquet."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable

from pipeline.output.atomic import atomic_open
from pipeline.output.records import RECORDS_JSONL, RECORDS_PARQUET, iter_records
from pipeline.storage.objects import StoragePath


def export_records(
    out_dir: StoragePath,
    formats: Collection[str],
    ids: Callable[[], Iterable[str]] | None = None,
) -> None:
    """Gather the per-article records into records.jsonl (and Parquet), atomically.

    Records are streamed a few at a time, so memory stays flat however long the run.
    With `ids` (called once per format: the ids sorted, each once), only those articles'
    records go in (the current input's).
    """
    if "jsonl" in formats:
        with atomic_open(out_dir / RECORDS_JSONL) as handle:
            for record in iter_records(out_dir, ids() if ids else None):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if "parquet" in formats:
        from pipeline.output.dataset import write_parquet  # pyarrow, only when asked for

        write_parquet(iter_records(out_dir, ids() if ids else None), out_dir / RECORDS_PARQUET)
