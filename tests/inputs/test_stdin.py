"""Standard input: `id2en translate -`, `id2en summarize -` and `id2en run - -o OUT`."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.output.records import iter_records
from tests.helpers import SENTENCES, tiny_config_dict


@pytest.fixture()
def config_file(tiny_models: Path, tmp_path: Path) -> Path:
    summarize = {"max_new_tokens": 12, "min_length": 0}
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(tiny_config_dict(tiny_models, summarize=summarize)), "utf-8")
    return path


def _id2en(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_translate_and_summarize_read_stdin(config_file: Path) -> None:
    text = f"{SENTENCES[0]} {SENTENCES[3]}".encode()
    done = _id2en("translate", "-", "--json", "-c", str(config_file), stdin=text)
    assert done.returncode == 0, done.stderr.decode()
    record = json.loads(done.stdout)
    assert [s["text"] for s in record["sentences"]] == [SENTENCES[0], SENTENCES[3]]
    done = _id2en("summarize", "-", "-c", str(config_file), stdin=text)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.strip()  # the summary line


@pytest.mark.slow
def test_run_reads_json_lines_from_stdin_and_resumes(config_file: Path, tmp_path: Path) -> None:
    rows = [
        {"id": "jembatan", "text": SENTENCES[0]},
        {"text": SENTENCES[1]},  # no id: named by its line number
        {"id": "kosong", "text": ""},
        {"id": "pasar", "text": SENTENCES[3]},
    ]
    dump = tmp_path / "dump.jsonl.gz"
    dump.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    out = tmp_path / "out"
    command = ["run", "-", "-o", str(out), "-c", str(config_file), "--set", "stages.summarize=null"]
    done = _id2en(*command, stdin=gzip.decompress(dump.read_bytes()))  # zcat dump | id2en run -
    assert done.returncode == 1, done.stderr.decode()  # one row failed, the others done
    assert "3 done, 1 failed" in done.stdout.decode()
    records = {r["id"]: r for r in iter_records(out)}
    assert sorted(records) == ["2", "jembatan", "kosong", "pasar"]
    assert records["kosong"]["status"] == "failed" and records["pasar"]["status"] == "ok"
    assert [p.name for p in out.iterdir() if p.name.startswith(".stdin")] == []  # cleaned up

    again = _id2en(*command, stdin=gzip.decompress(dump.read_bytes()))
    assert "0 done, 1 failed, 3 already done" in again.stdout.decode()


def test_a_killed_runs_copy_of_stdin_is_removed_by_the_next_run(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill -9 leaves OUT/.stdin-*/stdin.jsonl (a whole copy of the input); it used to
    stay for good, and records named it as their source although it is deleted."""
    config = tmp_path / "tiny.yaml"
    data = tiny_config_dict(tiny_models, stages={"summarize": "summarize.extractive"})
    config.write_text(json.dumps(data), "utf-8")
    out = tmp_path / "out"
    left = out / ".stdin-k1ll3d" / "stdin.jsonl"  # what a killed run leaves
    left.parent.mkdir(parents=True)
    left.write_text(json.dumps({"id": "a", "text": SENTENCES[0]}) + "\n", "utf-8")
    rows = "".join(
        json.dumps({"id": k, "text": t}) + "\n" for k, t in zip("ab", SENTENCES[:2], strict=True)
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(rows.encode())))
    assert main(["run", "-", "-o", str(out), "-c", str(config)]) == 0
    assert [p.name for p in out.iterdir() if p.name.startswith(".stdin")] == []
    sources = [r["source"] for r in iter_records(out)]
    assert sources == ["stdin:1", "stdin:2"]
