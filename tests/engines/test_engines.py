"""Every input kind through both engines: `id2en run IN -o OUT --engine local|ray` writes the
same records from a folder of .txt/.md, a .jsonl file, a Parquet, CSV, TSV or JSON table,
and standard input."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli.main import EXIT_FAILED_ARTICLES, main
from tests.helpers import SENTENCES, import_ray, local_ray_cluster, run_records, tiny_config_dict

ray = import_ray()

pytestmark = pytest.mark.slow

ROWS = [
    {"id": "jembatan", "text": f"{SENTENCES[0]} {SENTENCES[1]}\n\n{SENTENCES[2]}", "url": "u1"},
    {"id": "pasar", "text": SENTENCES[3], "url": "u2"},
    {"id": "kosong", "text": "", "url": "u3"},  # fails alone, in every kind
    {"id": "banjir", "text": f"{SENTENCES[4]} {SENTENCES[5]}", "url": "u4"},
]
ROW_IDS = ["banjir", "jembatan", "kosong", "pasar"]


def _folder(root: Path) -> Path:
    for name, text in {
        "jembatan.txt": ROWS[0]["text"],
        "berita/pasar.md": ROWS[1]["text"],
        "kosong.txt": "",
        "berita/2024/banjir.txt": ROWS[3]["text"],
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(str(text), encoding="utf-8")
    return root


def _jsonl_text() -> str:
    return "".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in ROWS)


def _table(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(ROWS), path, row_group_size=2)
    elif path.suffix in (".csv", ".tsv"):
        import pandas as pd

        pd.DataFrame(ROWS).to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    elif path.suffix == ".jsonl":
        path.write_text(_jsonl_text(), encoding="utf-8")
    else:
        path.write_text(json.dumps(ROWS, ensure_ascii=False), encoding="utf-8")
    return path


# kind -> (make the input under a folder, the ids its records must have)
KINDS: dict[str, tuple[Callable[[Path], Path | str], list[str]]] = {
    "folder": (
        lambda root: _folder(root / "articles"),
        ["berita/2024/banjir", "berita/pasar", "jembatan", "kosong"],
    ),
    "jsonl": (lambda root: _table(root / "rows.jsonl"), ROW_IDS),
    "parquet": (lambda root: _table(root / "news.parquet"), ROW_IDS),
    "csv": (lambda root: _table(root / "news.csv"), ROW_IDS),
    "tsv": (lambda root: _table(root / "news.tsv"), ROW_IDS),
    "json": (lambda root: _table(root / "news.json"), ROW_IDS),
    "stdin": (lambda root: "-", ROW_IDS),
}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    with local_ray_cluster(ray) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def config_file(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tiny_config_dict(tiny_models, run={"batch_articles": 2})
    data["summarize"].update({"max_new_tokens": 12, "min_length": 0})
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _run(
    source: Path | str, out: Path, engine: str, config: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    if source == "-":
        stdin = io.TextIOWrapper(io.BytesIO(_jsonl_text().encode()), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", stdin)
    argv = ["run", str(source), "-o", str(out), "-c", str(config), "--engine", engine]
    return main([*argv, "--keep-columns", "url"] if _is_table(source) else argv)


def _is_table(source: Path | str) -> bool:
    return isinstance(source, Path) and source.suffix in (".parquet", ".csv", ".tsv", ".json")


def _comparable(out: Path) -> dict[str, dict[str, Any]]:
    """The records without what differs from run to run: timings, and where standard
    input's temporary copy was kept."""
    found = {}
    for article_id, record in run_records(out).items():
        meta = {k: v for k, v in record["meta"].items() if k != "timings"}
        source = str(record["source"]).replace(str(out), "OUT")
        found[article_id] = {**record, "meta": meta, "source": re.sub(r"\.stdin-\w+", "", source)}
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_input_kind_gives_the_same_records_on_both_engines(
    kind: str,
    tmp_path: Path,
    config_file: Path,
    ray_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, ids = KINDS[kind]
    source = make(tmp_path / "in")
    outs = {engine: tmp_path / engine for engine in ("local", "ray")}
    for engine, out in outs.items():
        assert _run(source, out, engine, config_file, monkeypatch) == EXIT_FAILED_ARTICLES
        assert capsys.readouterr().out.startswith("finished: 3 done, 1 failed")
        manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert manifest["engine"] == engine and "finished" in manifest
    local, distributed = _comparable(outs["local"]), _comparable(outs["ray"])
    assert sorted(local) == ids
    assert [r["status"] for r in local.values()].count("ok") == 3
    assert distributed == local
    if _is_table(source):
        done = [r for r in local.values() if r["status"] == "ok"]
        assert sorted(r["meta"]["columns"]["url"] for r in done) == ["u1", "u2", "u4"]

    again = _run(make(tmp_path / "in"), outs["ray"], "ray", config_file, monkeypatch)
    assert again == EXIT_FAILED_ARTICLES  # the empty article is retried, and fails again
    assert "0 done, 1 failed, 3 already done" in capsys.readouterr().out
