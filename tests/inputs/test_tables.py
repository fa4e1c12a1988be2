"""Tables as input: Parquet, CSV, TSV and JSON lists, one article per row, streamed."""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.api import Pipeline
from pipeline.cli.main import main
from pipeline.config import PipelineConfig, load_config
from pipeline.engines.local import run_folder
from pipeline.errors import InputError
from pipeline.inputs import tables
from pipeline.inputs.reader import discover, read_article
from pipeline.inputs.tables import TableOptions
from pipeline.output.records import iter_records, read_record, record_path
from tests.helpers import SENTENCES, tiny_config_dict

ARTICLES = {
    "jembatan": f"{SENTENCES[0]} {SENTENCES[1]}\n\n{SENTENCES[2]}",
    "pasar": f"{SENTENCES[3]}",
    "banjir": f"{SENTENCES[4]} {SENTENCES[5]}",
}


def _rows() -> list[dict[str, Any]]:
    return [
        {"id": key, "text": text, "url": f"https://x.id/{key}"} for key, text in ARTICLES.items()
    ]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The same rows in the format the suffix names."""
    suffix = path.suffix
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=2)
    elif suffix in (".csv", ".tsv"):
        import pandas as pd

        pd.DataFrame(rows).to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    else:
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _articles(items: list[Any]) -> dict[str, Any]:
    out = {}
    for item in items:
        try:
            out[item.id] = read_article(item)
        except InputError as exc:
            out[item.id] = exc
    return out


# -- reading, no models -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv", ".json"])
def test_each_row_is_an_article_with_its_id(tmp_path: Path, suffix: str) -> None:
    table = _write(tmp_path / f"news{suffix}", _rows())
    items = discover(table)
    assert [item.id for item in items] == list(ARTICLES)
    for item, (key, text) in zip(items, ARTICLES.items(), strict=True):
        article = read_article(item)
        assert (article.id, article.text) == (key, text)
        assert article.source == f"{table} row {item.line}"
        assert "columns" not in article.meta


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv", ".json"])
def test_tables_inside_a_folder_are_named_under_the_file(tmp_path: Path, suffix: str) -> None:
    (tmp_path / "in" / "feeds").mkdir(parents=True)
    _write(tmp_path / "in" / "feeds" / f"news{suffix}", _rows())
    (tmp_path / "in" / "lain.txt").write_text(SENTENCES[0], encoding="utf-8")
    ids = [item.id for item in discover(tmp_path / "in")]
    assert ids == [f"feeds/news/{key}" for key in ARTICLES] + ["lain"]


def test_other_columns_and_defaults(tmp_path: Path) -> None:
    published = datetime.datetime(2024, 5, 1, 8, 30)
    rows = [
        {"kode": 7, "isi": "Harga beras naik.", "url": "u", "at": published},
        {"kode": None, "isi": "Warga senang.", "url": None, "at": published},
    ]
    table = _write(tmp_path / "t.parquet", rows)
    options = TableOptions(text_column="isi", id_column="kode", keep_columns=("url", "at"))
    first, second = discover(table, options)
    assert (first.id, second.id) == ("7", "2")  # a null id falls back to the row number
    article = read_article(first)
    assert article.text == "Harga beras naik."
    assert article.meta["columns"] == {"url": "u", "at": "2024-05-01T08:30:00"}
    json.dumps(article.meta)  # kept values must be writable as JSON
    # Without an `id` column the row number names the row.
    no_ids = discover(table, TableOptions(text_column="isi"))
    assert [item.id for item in no_ids] == ["1", "2"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json"])
def test_a_missing_column_lists_the_columns_there_are(tmp_path: Path, suffix: str) -> None:
    table = _write(tmp_path / f"t{suffix}", _rows())
    for options in (
        TableOptions(text_column="body"),
        TableOptions(id_column="key"),
        TableOptions(keep_columns=("url", "published_at")),
    ):
        with pytest.raises(InputError) as info:
            discover(table, options)
        message = str(info.value)
        assert "no column" in message and "'id', 'text', 'url'" in message
        assert "--text-column" in message


def test_a_table_with_a_missing_column_fails_alone_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "ok.csv", _rows())
    _write(tmp_path / "in" / "wrong.csv", [{"id": "x", "body": "Harga naik."}])
    found = _articles(discover(tmp_path / "in"))
    assert [key for key, value in found.items() if not isinstance(value, InputError)] == [
        f"ok/{key}" for key in ARTICLES
    ]
    assert "no column 'text'" in str(found["wrong"])


def test_null_and_empty_texts_fail_their_row_alone(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "Harga beras naik."},
        {"id": "b", "text": None},
        {"id": "c", "text": ""},
        {"id": "d", "text": "   "},
        {"id": "e", "text": "Warga senang."},
    ]
    for suffix in (".parquet", ".json"):
        found = _articles(discover(_write(tmp_path / f"t{suffix}", rows)))
        assert found["a"].text == "Harga beras naik." and found["e"].text == "Warga senang."
        assert "null" in str(found["b"])
        assert "empty" in str(found["c"])
        assert "only whitespace" in str(found["d"])


def test_a_truncated_parquet_file_fails_as_a_file(tmp_path: Path) -> None:
    whole = _write(tmp_path / "whole.parquet", _rows()).read_bytes()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cut.parquet").write_bytes(whole[: len(whole) // 2])
    (folder / "lain.txt").write_text(SENTENCES[0], encoding="utf-8")
    found = _articles(discover(folder))
    assert found["lain"].text == SENTENCES[0]
    assert "not a readable Parquet file" in str(found["cut"])
    assert "copy or export it again" in str(found["cut"])
    with pytest.raises(InputError, match="not a readable Parquet file"):
        discover(folder / "cut.parquet")  # given on its own: a clear error before any work


def test_a_csv_with_a_broken_quote_fails_from_that_row_on(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(
        'id,text\na,"Harga beras naik."\nb,"Warga "senang" sekali."\nc,Presiden datang.\n',
        encoding="utf-8",
    )
    found = _articles(discover(table))
    assert list(found) == ["a", "rows-from-2"]
    assert found["a"].text == "Harga beras naik."
    message = str(found["rows-from-2"])
    assert "broken CSV quoting" in message and "line 3" in message and '("")' in message


def test_a_csv_row_with_too_many_fields_fails_alone(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text("id\ttext\na\tHarga naik.\nb\tWarga\tsenang.\nc\tPresiden datang.\n")
    found = _articles(discover(table))
    assert found["a"].text == "Harga naik." and found["c"].text == "Presiden datang."
    assert "3 fields but the header has 2" in str(found["b"])


@pytest.mark.parametrize(
    ("header", "broken", "fixed"),
    [
        ("id,text", "b,Warga, senang.", 'b,"Warga, senang."'),  # the id before the text
        ("text,id", "Warga, senang.,b", '"Warga, senang.",b'),  # the id after the text
    ],
)
def test_a_row_with_too_many_fields_keeps_its_id_once_fixed(
    tmp_path: Path, header: str, broken: str, fixed: str
) -> None:
    """It used to be recorded under its row number, and under its id once fixed: two
    records for one row."""
    table = tmp_path / "t.csv"
    first = "a,Harga naik." if header == "id,text" else "Harga naik.,a"
    table.write_text(f"{header}\n{first}\n{broken}\n", encoding="utf-8")
    item = next(i for i in discover(table) if i.line == 2)
    assert item.id == "b"
    assert any("its id 'b' was read from column 'id' by position" in n for n in item.notes)
    with pytest.raises(InputError, match="3 fields but the header has 2"):
        read_article(item)
    table.write_text(f"{header}\n{first}\n{fixed}\n", encoding="utf-8")
    assert [i.id for i in discover(table)] == ["a", "b"]


def test_empty_and_nan_id_cells_are_named_not_silently_numbered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    csv_table = tmp_path / "t.csv"
    csv_table.write_text("id,text\na,Harga naik.\n,Warga senang.\n  ,Hujan turun.\n")
    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1.0, float("nan")], "text": ["Satu.", "Dua."]}), parquet)
    for table, expected in ((csv_table, ["a", "2", "3"]), (parquet, ["1.0", "2"])):
        caplog.clear()
        items = discover(table)
        assert [i.id for i in items] == expected
        numbered = [i for i in items if i.notes]
        assert [i.line for i in numbered] == [int(n) for n in expected[1:]]
        assert all(
            "no id in column 'id'; recorded under its row number" in i.notes[0] for i in numbered
        )
        assert f"{len(numbered)} rows have no id in column 'id'" in caplog.text
        assert "no id in column 'id'" in read_article(numbered[0]).warnings[0]


def test_a_table_rewritten_between_two_reads_is_read_anew(tmp_path: Path) -> None:
    """The row cursor used to read on through its old handle: a second run in one process
    over a rewritten file read garbage ("broken CSV quoting") from the new bytes."""
    table = tmp_path / "t.csv"
    table.write_text("id,text\na,Harga naik.\nb,Warga senang.\n", encoding="utf-8")
    assert read_article(discover(table)[0]).text == "Harga naik."
    table.write_text("id,text\na,Harga turun lagi.\nb,Presiden datang.\n", encoding="utf-8")
    assert [read_article(i).text for i in discover(table)[1:]] == ["Presiden datang."]


def test_every_row_carries_a_digest_of_what_its_record_is_made_from(tmp_path: Path) -> None:
    """Rows used to carry none (meta.source_sha256: null), so an edited row was never redone."""
    table = _write(tmp_path / "t.csv", _rows())
    options = TableOptions(keep_columns=("url",))
    before = {i.id: i.digest for i in discover(table, options)}
    assert all(isinstance(d, str) and len(d) == 64 for d in before.values())
    assert len(set(before.values())) == len(before)
    rows = _rows()
    rows[1]["text"] += " Baru."  # pasar's text
    rows[2]["url"] = "https://x.id/lain"  # banjir's kept column
    _write(table, rows)
    after = {i.id: i.digest for i in discover(table, options)}
    assert [k for k in before if before[k] != after[k]] == ["pasar", "banjir"]
    # A column that is not kept is not part of the record, so it is not part of the digest.
    assert {i.id: i.digest for i in discover(table)}["banjir"] == {
        i.id: i.digest for i in discover(_write(table, _rows()))
    }["banjir"]


def test_invalid_json_fails_from_that_object_on(tmp_path: Path) -> None:
    table = tmp_path / "t.json"
    table.write_text('[{"id": "a", "text": "Harga naik."}, {"id": "b", "text": oops}]')
    found = _articles(discover(table))
    assert found["a"].text == "Harga naik."
    assert "invalid JSON in object 2" in str(found["rows-from-2"])
    (tmp_path / "o.json").write_text('{\n "id": "a",\n "text": "Harga naik."\n}\n')
    with pytest.raises(InputError, match=r"expected a JSON list of objects .*, or JSON lines"):
        discover(tmp_path / "o.json")


def test_a_json_file_holding_json_lines_is_read_as_json_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"id": key, "text": text}) for key, text in ARTICLES.items()]
    path = tmp_path / "t.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = discover(path)
    assert [(i.id, i.line) for i in items] == [(key, n) for n, key in enumerate(ARTICLES, 1)]
    assert {key: a.text for key, a in _articles(items).items()} == ARTICLES
    (tmp_path / "in").mkdir()
    path.rename(tmp_path / "in" / "t.json")
    assert [i.id for i in discover(tmp_path / "in")] == [f"t/{key}" for key in ARTICLES]


def test_a_table_that_fails_in_a_folder_does_not_repeat_its_path(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "bad.json"
    path.write_text('"just a string"', encoding="utf-8")
    [item] = discover(tmp_path / "in")
    assert item.where == str(path)
    assert item.error is not None and str(path) not in item.error
    assert item.error.startswith("expected a JSON list of objects")


def test_json_objects_split_across_read_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "JSON_CHUNK_CHARS", 5)  # every object spans many chunks
    rows = [{"id": f"r{n}", "text": f"Berita nomor {n} é.", "n": 123456789} for n in range(7)]
    found = _articles(discover(_write(tmp_path / "t.json", rows), TableOptions()))
    assert [a.text for a in found.values()] == [row["text"] for row in rows]


def test_rows_stream_batch_by_batch_forward_and_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "BATCH_ROWS", 3)
    rows = [{"id": f"r{n}", "text": f"Berita nomor {n}."} for n in range(20)]
    table = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(rows), table, row_group_size=4)
    items = discover(table)
    order = [5, 6, 7, 19, 0, 13, 13, 2]  # forward, a jump, back to the start, a repeat
    assert [read_article(items[n]).text for n in order] == [rows[n]["text"] for n in order]
    # Starting past whole row groups decodes none of them (pyarrow is asked for the rest).
    asked: list[list[int]] = []
    real = pq.ParquetFile.iter_batches

    def iter_batches(self: Any, *args: Any, row_groups: Any = None, **kwargs: Any) -> Any:
        asked.append(list(row_groups))
        return real(self, *args, row_groups=row_groups, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", iter_batches)
    assert read_article(items[13]).text == rows[13]["text"]  # forward from row 2: no new pass
    assert read_article(items[9]).text == rows[9]["text"]  # back: a new pass from row 9
    assert asked == [[2, 3, 4]]  # row groups of 4: rows 0-7 never decoded


# -- runs with the tiny models ------------------------------------------------------------


@pytest.fixture()
def translate_config(tiny_models: Path) -> PipelineConfig:
    return load_config(tiny_config_dict(tiny_models, stages={"summarize": None}))


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on where an article came from: the source digest does (a file's
    bytes vs a row's), and scores move in the 6th digit with the batch's padding."""
    skip = ("timings", "columns", "source_sha256")
    meta = {k: v for k, v in record["meta"].items() if k not in skip}
    keep = ("text", "english", "summary", "warnings", "error", "status")
    sentences = [
        {**s, "score": round(s["score"], 4) if s.get("score") is not None else None}
        for s in record["sentences"]
    ]
    return {**{k: record[k] for k in keep}, "sentences": sentences, "meta": meta}


@pytest.mark.slow
def test_tables_give_the_same_records_as_text_files(
    translate_config: PipelineConfig, tmp_path: Path
) -> None:
    pipe = Pipeline(translate_config)
    folder = tmp_path / "txt"
    folder.mkdir()
    for key, text in ARTICLES.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    run_folder(translate_config, folder, tmp_path / "out-txt", pipeline=pipe)
    expected = {r["id"]: _comparable(r) for r in iter_records(tmp_path / "out-txt")}
    assert len(expected) == len(ARTICLES)
    for suffix in (".parquet", ".csv", ".tsv", ".json"):
        table = _write(tmp_path / f"news{suffix}", _rows())
        out = tmp_path / f"out{suffix}"
        report = run_folder(translate_config, table, out, pipeline=pipe)
        assert (report.done, report.failed) == (len(ARTICLES), 0), suffix
        got = {r["id"]: _comparable(r) for r in iter_records(out)}
        assert got == expected, suffix


@pytest.mark.slow
def test_a_run_over_a_table_resumes_and_keeps_columns(
    translate_config: PipelineConfig, tmp_path: Path
) -> None:
    rows = [*_rows(), {"id": "kosong", "text": None, "url": "u"}]
    table = _write(tmp_path / "news.parquet", rows)
    out = tmp_path / "out"
    config = translate_config.model_copy(
        update={"run": translate_config.run.model_copy(update={"keep_columns": ["url"]})}
    )
    pipe = Pipeline(config)
    first = run_folder(config, table, out, pipeline=pipe)
    assert (first.done, first.failed, first.total) == (3, 1, 4)
    assert read_record(out, "kosong")["error"].startswith("read: no text")
    assert read_record(out, "pasar")["meta"]["columns"] == {"url": "https://x.id/pasar"}

    record_path(out, "banjir").unlink()  # as if the run had been killed before it
    again = run_folder(config, table, out, pipeline=pipe)
    # Finished rows are kept; the missing one runs; the failed one is retried (and fails).
    assert (again.already_done, again.done, again.failed) == (2, 1, 1)
    assert sorted(r["id"] for r in iter_records(out)) == ["banjir", "jembatan", "kosong", "pasar"]


@pytest.mark.slow
def test_cli_run_on_a_table_with_column_options(tiny_models: Path, tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        json.dumps(tiny_config_dict(tiny_models, stages={"summarize": None})), encoding="utf-8"
    )
    rows = [{"no": n, "isi": text, "yes": "x"} for n, text in enumerate(ARTICLES.values())]
    table = _write(tmp_path / "t.csv", rows)
    out = tmp_path / "out"
    common = ["run", str(table), "-o", str(out), "-c", str(config)]
    assert main([*common, "--text-column", "body"]) == 2  # missing: a usage error
    code = main([*common, "--text-column", "isi", "--id-column", "no", "--keep-columns", "yes"])
    assert code == 0
    records = list(iter_records(out))
    assert [r["id"] for r in records] == ["0", "1", "2"]
    assert all(r["meta"]["columns"] == {"yes": "x"} for r in records)


def test_reading_a_table_keeps_one_batch_in_memory(tmp_path: Path) -> None:
    """Arrow memory stays at about one batch however many row groups are read (pyarrow's
    pre-buffering would keep every row group read so far until the pass ends)."""
    table = tmp_path / "big.parquet"
    words = " ".join(SENTENCES).split()
    pick = random.Random(0).choice
    texts = [" ".join(pick(words) for _ in range(150)) for _ in range(20_000)]  # ~1 kB each
    rows = {"id": [f"r{n}" for n in range(20_000)], "text": texts}
    pq.write_table(pa.table(rows), table, row_group_size=2_000)  # 10 row groups
    items = discover(table)
    base = pa.total_allocated_bytes()
    most = 0
    for item in items:
        read_article(item)
        most = max(most, pa.total_allocated_bytes() - base)
    assert most < 6_000_000, f"{most / 1e6:.1f} MB held while reading {len(items)} rows"


# -- CSV delimiters ------------------------------------------------------------------------

SEMICOLON_CSV = (
    "id;text;url\n"
    'jembatan;"Harga naik 1,5 persen; kata warga.";https://x.id/a\n'
    "pasar;Harga beras naik 2,5 persen, kata pedagang.;https://x.id/b\n"
)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        (SEMICOLON_CSV, ";"),
        (SEMICOLON_CSV.replace(";", "|"), "|"),
        (SEMICOLON_CSV.replace(";", "\t"), "\t"),
        ("id,text\njembatan,Harga naik; kata warga.\n", ","),
        ("text\nHarga naik; kata warga.\n", ","),  # one column: no delimiter at all
    ],
)
def test_the_csv_delimiter_is_sniffed_from_the_header(
    tmp_path: Path, text: str, delimiter: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert tables.csv_delimiter(path, None) == delimiter
    found = _articles(discover(path, TableOptions()))
    assert all(not isinstance(a, Exception) for a in found.values()), found
    assert all(";" not in key and "," not in key for key in found)


def test_a_semicolon_csv_reads_its_rows_and_quoted_delimiters(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(SEMICOLON_CSV, encoding="utf-8")
    found = _articles(discover(path, TableOptions(keep_columns=("url",))))
    assert found["jembatan"].text == "Harga naik 1,5 persen; kata warga."
    assert found["jembatan"].meta["columns"] == {"url": "https://x.id/a"}
    assert found["pasar"].text == "Harga beras naik 2,5 persen, kata pedagang."


def test_a_given_delimiter_overrides_the_sniffed_one(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id;text\na;Satu, dua.\n", encoding="utf-8")
    assert tables.csv_delimiter(path, ",") == ","
    with pytest.raises(InputError, match=r"no column 'text'; its columns are: 'id;text'"):
        discover(path, TableOptions(delimiter=","))


@pytest.mark.parametrize(("given", "expected"), [(";", ";"), ("tab", "\t"), ("\\t", "\t")])
def test_run_delimiter_setting_and_cli_flag(given: str, expected: str) -> None:
    assert load_config(None, [f"run.delimiter={json.dumps(given)}"]).run.delimiter == expected
    with pytest.raises(Exception, match="must be one character"):
        load_config(None, ['run.delimiter=";;"'])


def test_cli_run_on_a_semicolon_csv_with_delimiter(tiny_models: Path, tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        json.dumps(tiny_config_dict(tiny_models, stages={"summarize": None})), encoding="utf-8"
    )
    table = tmp_path / "t.csv"
    table.write_text("id;text\na;Satu, dua.\nb;Tiga.\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(table), "-o", str(out), "-c", str(config), "--delimiter", ";"]) == 0
    records = {r["id"]: r for r in iter_records(out)}
    assert sorted(records) == ["a", "b"] and records["a"]["text"] == "Satu, dua."
