"""Dataset/Parquet rows carry each sentence's spans and QA flags, typed, and give them back."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipeline.output.dataset import records_to_table, row_to_record, write_parquet

SENTENCE = {
    "text": "Dana Rp1,5 triliun.",
    "paragraph": 0,
    "start": 0,
    "end": 19,
    "en": "[en]",
    "cut": None,
    "lang": "id",
    "score": -0.2,
    "spans": [{"start": 5, "end": 18, "kind": "number"}],
    "flags": [{"check": "numbers", "message": "number missing or changed: 'Rp1,5 triliun'"}],
}
RECORD = {"id": "a", "text": SENTENCE["text"], "sentences": [SENTENCE], "meta": {}}


def test_spans_and_flags_are_columns(tmp_path: Path) -> None:
    table = pq.read_table(write_parquet([RECORD], tmp_path / "r.parquet"))
    sentence_type = table.schema.field("sentences").type.value_type
    spans = sentence_type.field("spans").type.value_type
    assert [(f.name, str(f.type)) for f in spans] == [
        ("start", "int64"),
        ("end", "int64"),
        ("kind", "string"),
    ]
    (row,) = table.to_pylist()
    assert row["sentences"][0]["spans"] == SENTENCE["spans"]
    assert row["sentences"][0]["flags"] == SENTENCE["flags"]
    assert row_to_record(row)["sentences"][0] == SENTENCE


def test_records_without_them_still_convert() -> None:
    old = {**SENTENCE}
    del old["spans"], old["flags"]
    (row,) = records_to_table([{**RECORD, "sentences": [old]}]).to_pylist()
    assert row["sentences"][0]["spans"] is None
