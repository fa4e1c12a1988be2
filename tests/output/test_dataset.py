"""Run records as tables: load as a datasets.Dataset, Parquet and JSONL agree, round trips."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.output.dataset import (
    iter_run_records,
    load_records,
    records_to_table,
    sentence_rows,
    to_records,
    write_parquet,
)
from pipeline.output.records import RECORDS_JSONL, RECORDS_PARQUET, iter_records, write_record
from tests.helpers import tiny_config_dict


def _record(article_id: str, sentences: int = 2, **extra: Any) -> dict[str, Any]:
    sents = [
        {
            "text": f"Kalimat {n}.",
            "paragraph": n // 2,
            "start": 11 * n,
            "end": 11 * n + 10,
            "en": f"[out {n}]",
            "cut": None,
            "lang": "id",
            "score": -0.25 * (n + 1),
        }
        for n in range(sentences)
    ]
    record = {
        "id": article_id,
        "source": f"in/{article_id}.txt",
        "text": " ".join(s["text"] for s in sents),
        "sentences": sents,
        "english": " ".join(s["en"] for s in sents) or None,
        "summary": "[summary]" if sentences else None,
        "warnings": [],
        "error": None,
        "meta": {"models": {"translate": {"model": "m", "device": "cpu"}}},
        "status": "ok",
        "id2en": "0.1.0",
    }
    record.update(extra)
    return record


def _write_run(out_dir: Path, records: list[dict[str, Any]]) -> None:
    for record in records:
        write_record(out_dir, record)


def _write_jsonl(out_dir: Path, records: list[dict[str, Any]]) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out_dir / RECORDS_JSONL).write_text(lines, encoding="utf-8")


@pytest.fixture()
def varied_records() -> list[dict[str, Any]]:
    """Rows whose free-form parts differ, as real runs' do: the schema must not."""
    return [
        _record("a/one", 3, warnings=["sentence 1: cut at clause boundary: 500 chars > 400"]),
        _record(
            "a/two",
            1,
            meta={"summary": {"strategy": "chunk", "partial_summaries": [["x", "y"]]}},
        ),
        _record(
            "failed",
            0,
            error="split: ValueError: boom",
            status="failed",
            meta={"traceback": "Traceback..."},
        ),
        _record("odd <b>&", 2, future_field={"kept": True}),  # a key this schema doesn't know
    ]


def test_one_row_per_article_with_nested_sentences(tmp_path: Path, varied_records: list) -> None:
    _write_run(tmp_path, varied_records)
    ds = load_records(tmp_path)
    assert len(ds) == len(varied_records)
    assert list(ds["id"]) == sorted(r["id"] for r in varied_records)
    assert set(ds.features["sentences"].feature) == {
        "text",
        "paragraph",
        "start",
        "end",
        "en",
        "cut",
        "lang",
        "score",
        "spans",
        "flags",
    }
    by_id = {row["id"]: row for row in ds}
    assert len(by_id["a/one"]["sentences"]) == 3
    assert by_id["a/one"]["sentences"][2]["paragraph"] == 1
    assert by_id["failed"]["status"] == "failed"
    assert json.loads(by_id["a/two"]["meta_json"])["summary"]["strategy"] == "chunk"


def test_dataset_round_trips_to_the_same_records(tmp_path: Path, varied_records: list) -> None:
    _write_run(tmp_path, varied_records)
    assert to_records(load_records(tmp_path)) == list(iter_records(tmp_path))


def test_parquet_and_jsonl_hold_the_same_rows(tmp_path: Path, varied_records: list) -> None:
    _write_run(tmp_path, varied_records)
    records = list(iter_records(tmp_path))
    _write_jsonl(tmp_path, records)
    write_parquet(records, tmp_path / RECORDS_PARQUET)
    from_jsonl = load_records(tmp_path, source="jsonl")
    from_parquet = load_records(tmp_path / RECORDS_PARQUET)
    assert from_parquet.features == from_jsonl.features
    assert from_parquet.to_list() == from_jsonl.to_list()
    assert to_records(from_parquet) == records


def test_write_parquet_leaves_no_temp_file(tmp_path: Path, varied_records: list) -> None:
    write_parquet(varied_records, tmp_path / RECORDS_PARQUET)
    assert [p.name for p in tmp_path.iterdir()] == [RECORDS_PARQUET]


def test_empty_run_still_has_the_schema(tmp_path: Path) -> None:
    table = records_to_table([])
    assert table.num_rows == 0
    assert "sentences" in table.column_names
    write_parquet([], tmp_path / RECORDS_PARQUET)
    assert len(load_records(tmp_path / RECORDS_PARQUET)) == 0


def test_current_jsonl_is_used(tmp_path: Path) -> None:
    records = [_record("x"), _record("y")]
    _write_run(tmp_path, records)
    marked = [dict(r, summary="from jsonl") for r in records]
    _write_jsonl(tmp_path, marked)  # written last, same count: up to date
    assert {r["summary"] for r in iter_run_records(tmp_path)} == {"from jsonl"}


def test_stale_jsonl_falls_back_to_record_files(tmp_path: Path) -> None:
    _write_run(tmp_path, [_record("x")])
    _write_jsonl(tmp_path, [_record("x")])
    newer = write_record(tmp_path, _record("y"))  # e.g. a run killed before the export
    stamp = (tmp_path / RECORDS_JSONL).stat().st_mtime_ns + 1_000_000_000
    os.utime(newer, ns=(stamp, stamp))
    assert list(load_records(tmp_path)["id"]) == ["x", "y"]


def test_jsonl_with_other_count_is_not_trusted(tmp_path: Path) -> None:
    _write_run(tmp_path, [_record("x"), _record("y")])
    _write_jsonl(tmp_path, [_record("x")])  # newer but incomplete
    assert list(load_records(tmp_path)["id"]) == ["x", "y"]


def test_jsonl_alone_is_enough(tmp_path: Path) -> None:
    _write_jsonl(tmp_path, [_record("x"), _record("y", 0)])
    assert len(load_records(tmp_path)) == 2
    assert len(load_records(tmp_path / RECORDS_JSONL)) == 2


def test_folder_without_records_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no records"):
        load_records(tmp_path)


def test_bad_jsonl_line_names_the_line(tmp_path: Path) -> None:
    (tmp_path / RECORDS_JSONL).write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"records.jsonl:2"):
        load_records(tmp_path)


def test_sentence_rows_flatten_every_sentence(tmp_path: Path, varied_records: list) -> None:
    _write_run(tmp_path, varied_records)
    ds = load_records(tmp_path)
    rows = sentence_rows(ds)
    assert len(rows) == sum(len(r["sentences"]) for r in varied_records)
    assert rows[0]["id"] == "a/one" and rows[0]["sentence"] == 0
    assert rows == sentence_rows(varied_records[:2] + varied_records[3:])


def test_pipeline_exports_load_records_lazily() -> None:
    import pipeline

    assert pipeline.load_records is load_records


@pytest.mark.slow
def test_run_then_load_round_trip(tiny_models: Path, tmp_path: Path) -> None:
    """A real run (tiny models) -> Dataset: same articles and sentences as the records."""
    from pipeline.engines.local import run_folder

    articles = tmp_path / "in"
    (articles / "sub").mkdir(parents=True)
    (articles / "a.txt").write_text(
        "Presiden meresmikan jembatan baru. Warga senang.\n\nHarga beras naik lagi.",
        encoding="utf-8",
    )
    (articles / "sub" / "b.md").write_text("Hujan deras melanda Bandung.", encoding="utf-8")
    (articles / "rows.jsonl").write_text(
        '{"id": "r1", "text": "Pasar ramai sekali."}\n', encoding="utf-8"
    )
    config = load_config(
        tiny_config_dict(
            tiny_models,
            run={"formats": ["jsonl", "parquet"]},
            stages={"summarize": None},
        )
    )
    out = tmp_path / "out"
    report = run_folder(config, articles, out)

    records = list(iter_records(out))
    ds = load_records(out)
    assert len(ds) == len(records) == report.total == 3
    assert sum(len(s) for s in ds["sentences"]) == sum(len(r["sentences"]) for r in records)
    assert sum(len(s) for s in ds["sentences"]) >= 4
    assert to_records(ds) == records
    from_parquet = load_records(out / RECORDS_PARQUET)
    from_jsonl = load_records(out, source="jsonl")
    assert from_parquet.to_list() == from_jsonl.to_list() == ds.to_list()
    frame = ds.to_pandas()
    assert list(frame["id"]) == ["a", "rows/r1", "sub/b"]
