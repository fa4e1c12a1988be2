"""The run's plan streams: every input in path order with unique ids, as `discover` lists
them, one batch in memory however many rows; a file that fails part way fails only the
rows it could not list; names that are not UTF-8 do not stop a run."""

from __future__ import annotations

import json
import os
import signal
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.engines.local import run_folder
from pipeline.engines.plan import discover_inputs, plan_run, records_of
from pipeline.inputs.reader import discover
from pipeline.output.records import record_name
from pipeline.storage import objects
from tests.helpers import run_records, write_files


def _config(**run: Any) -> PipelineConfig:
    settings = {"run": {"progress": "never", "batch_articles": 3, **run}}
    return load_config({**settings, "stages": {"translate": None, "summarize": None}})


def _planned(root: Any, out: Path, config: PipelineConfig) -> list[Any]:
    plan = plan_run(out, discover_inputs(config, root, out), config)
    try:
        return [item for group, _ in plan.groups() for item in group]
    finally:
        plan.close()


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


CLASHING = {
    "a.txt": "Satu.",
    "a.md": "Dua.",
    "A.txt": "Tiga.",
    "berita/feed.jsonl": _jsonl([{"id": "7", "text": "Empat."}, {"id": "7", "text": "Lima."}]),
    "berita/feed.csv": "id,text\n7,Enam.\n,Tujuh.\n",
    "z.txt": "Delapan.",
}


def test_the_plan_lists_what_discover_lists_in_the_same_order(tmp_path: Path) -> None:
    """Ids made unique as the inputs stream past (clashes by case, by suffix, by row id)
    are the ones discover gives, with the same notes on both sides of each clash."""
    root = write_files(tmp_path / "in", CLASHING)
    planned = _planned(root, tmp_path / "out", _config())
    listed = discover(root)
    assert planned == listed
    assert [item.id for item in planned] == [
        "A",
        "a.md",
        "a.txt",
        "berita/feed/7",
        "berita/feed/2",
        "berita/feed/7~line1",
        "berita/feed/7~line2",
        "z",
    ]
    # Both sides of a clash say so: "A" (first in path order) keeps the id.
    assert [n for n in planned[0].notes if "recorded as" in n] == [
        f"id 'A' is also the id of {root / 'a.md'}, recorded as 'a.md'",
        f"id 'A' is also the id of {root / 'a.txt'}, recorded as 'a.txt'",
    ]
    assert planned[1].notes == (f"id 'a' is also the id of {root / 'A.txt'}; recorded as 'a.md'",)


def test_only_groups_with_work_come_back_and_only_their_work_is_written(
    tmp_path: Path,
) -> None:
    root = write_files(tmp_path / "in", {f"a{n}.txt": f"Kalimat {n}." for n in range(7)})
    config, out = _config(), tmp_path / "out"
    run_folder(config, root, out)
    os.remove(out / "records" / "a4.json")
    plan = plan_run(out, discover_inputs(config, root, out), config)
    try:
        groups = [([i.id for i in group], write) for group, write in plan.groups()]
        assert (plan.total, plan.todo, plan.already_done) == (7, 1, 6)
        # The ids with a record (what the exports read), sorted: a4's is gone.
        assert list(plan.ids()) == [f"a{n}" for n in range(7) if n != 4]
        assert record_name("a4") in records_of(plan)
        assert record_name("gone") not in records_of(plan)
    finally:
        plan.close()
    # Groups are fixed by the input: a3..a5 is processed whole, only a4 written.
    assert groups == [(["a3", "a4", "a5"], ["a4"])]


def _plan_memory(root: Path, out: Path, config: PipelineConfig) -> int:
    """Peak Python allocations while a run plans its inputs and reads back its batches."""
    tracemalloc.start()
    try:
        plan = plan_run(out, discover_inputs(config, root, out), config)
        batches = sum(1 for _ in plan.groups())
        assert batches == -(-plan.total // config.run.batch_articles)
        plan.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_planning_a_big_input_holds_one_batch_in_memory(tmp_path: Path) -> None:
    """Four times the rows, the same peak: nothing is kept per row (before, the plan held
    every row's input, ~0.4 KB each: 2.4 MB more for the larger file here)."""
    config = _config(batch_articles=64)
    peaks = []
    for rows in (2000, 8000):
        root = tmp_path / f"in-{rows}"
        lines = [{"id": f"berita-{n:06d}", "text": f"Kalimat nomor {n}."} for n in range(rows)]
        write_files(root, {"feed.jsonl": _jsonl(lines)})
        peaks.append(_plan_memory(root, tmp_path / f"out-{rows}", config))
    assert peaks[1] - peaks[0] < 300_000, peaks


class _FailingRead:
    """The `nth` read of the object `name` fails once, as a connection lost part way
    through a big file does (the reads after it succeed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, nth: int) -> None:
        self.calls = 0
        original = objects._Reader.readinto

        def readinto(reader: Any, buffer: Any) -> int:
            if reader.path.name == name:
                self.calls += 1
                if self.calls == nth:
                    raise OSError(5, "connection reset by peer", str(reader.path))
            return original(reader, buffer)

        monkeypatch.setattr(objects._Reader, "readinto", readinto)


@pytest.fixture
def memory_input() -> Any:
    """An input folder in fsspec's memory file system (object storage without a server)."""
    pytest.importorskip("fsspec")
    root = objects.location("memory://id2en-tests/in")
    yield root
    objects.filesystem("memory").rm("/id2en-tests", recursive=True)


def _big_feed(rows: int) -> bytes:
    """Rows of ~4 KB: 500 are over 1 MB, more than one read of the file's buffer."""
    filler = "Hujan deras mengguyur kota itu sejak pagi. " * 90
    lines = [{"id": f"r{n}", "text": f"Berita {n}. {filler}"} for n in range(rows)]
    return _jsonl(lines).encode()


@pytest.mark.parametrize("name", ["feed.jsonl", "tabel.csv"])
def test_a_file_that_fails_part_way_fails_only_its_unread_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_input: Any, name: str
) -> None:
    """Before, the run stopped (exit 4) with nothing done; now the rows listed before the
    failure run, one failed record stands for the rest, and the next run finishes them
    and sets that record aside."""
    data = _big_feed(500)
    if name.endswith(".csv"):
        rows = [json.loads(line) for line in data.decode().splitlines()]
        data = ("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows)).encode()
    memory_input.joinpath(name).write_bytes(data)
    memory_input.joinpath("satu.txt").write_bytes(b"Presiden datang.")
    config, out = _config(batch_articles=100), tmp_path / "out"
    # A CSV is opened three times before its rows (its delimiter twice, its header), a
    # first 1 MB read each time; the second 1 MB of rows fails.
    failing = _FailingRead(monkeypatch, name, nth=2 if name.endswith(".jsonl") else 5)
    report = run_folder(config, memory_input, out)
    assert failing.calls > 2  # the file was read again after the failure, to run its rows
    records = run_records(out)
    stem = name.split(".")[0]
    [unread] = [r for r in records.values() if "-from-" in r["id"]]
    listed = len(records) - 2  # the rows before the failure, besides satu and the unread
    assert 0 < listed < 500
    kind = "lines" if name.endswith(".jsonl") else "rows"
    assert unread["id"] == f"{stem}/{kind}-from-{listed + 1}"
    assert unread["status"] == "failed"
    assert "connection reset by peer" in unread["error"]
    assert "run again to retry them" in unread["error"]
    assert (report.failed, report.done) == (1, listed + 1)
    assert records["satu"]["status"] == "ok"

    monkeypatch.undo()
    again = run_folder(config, memory_input, out)
    assert (again.already_done, again.done, again.failed) == (listed + 1, 500 - listed, 0)
    assert sorted(run_records(out)) == sorted([*(f"{stem}/r{n}" for n in range(500)), "satu"])
    assert (out / "records-of-inputs-gone" / f"{record_name(unread['id'])}").is_file()


def test_a_file_name_that_is_not_utf8_is_an_article_with_a_printable_id(
    tmp_path: Path,
) -> None:
    """Before, a Latin-1 file name (an old archive's) crashed the run with a traceback
    (UnicodeEncodeError writing its record)."""
    root = tmp_path / "in"
    root.mkdir()
    Path(os.fsdecode(os.fsencode(root) + b"/caf\xe9.txt")).write_bytes(b"Presiden datang ke kafe.")
    (root / "caf%E9x.txt").write_text("Warga senang.", encoding="utf-8")
    out = tmp_path / "out"
    report = run_folder(_config(), root, out)
    records = run_records(out)
    assert (report.done, report.failed) == (2, 0)
    record = records["caf%E9"]
    assert record["source"] == f"{root}/caf%E9.txt"
    assert record["text"] == "Presiden datang ke kafe."
    assert record["warnings"][0] == (
        "the file name is not UTF-8: its id and source write each byte that is not as %XX"
    )
    assert sorted(records) == ["caf%E9", "caf%E9x"]
    assert json.loads((out / "records.jsonl").read_text(encoding="utf-8").splitlines()[0])


def _stop_after_one_batch(report: Any) -> None:
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: the run stops after this batch


def test_resuming_on_object_storage_reads_each_batchs_records_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_input: Any
) -> None:
    """One concurrent fetch per batch of the plan (and per 256 records when exporting),
    not a request after another; a first run into an empty output reads no record."""
    from pipeline.output import records as records_module

    for n in range(7):
        memory_input.joinpath(f"a{n}.txt").write_bytes(f"Kalimat nomor {n}.".encode())
    out = objects.location("memory://id2en-tests/out")
    config = _config(formats=["jsonl"])
    fetched: list[int] = []

    def read_objects(paths: list[Any]) -> dict[Any, bytes]:
        fetched.append(len(paths))
        return objects.read_objects(paths)

    monkeypatch.setattr(records_module, "read_objects", read_objects)
    run_folder(config, memory_input, out)
    assert fetched == [7]  # the export alone: planning found no records/ to read
    fetched.clear()
    again = run_folder(config, memory_input, out)
    assert (again.already_done, again.done) == (7, 0)
    assert fetched == [3, 3, 1, 7]  # the plan's three batches, then the export
    fetched.clear()
    for name in ("a3", "a6"):
        objects.location(f"memory://id2en-tests/out/records/{name}.json").unlink()
    stopped = run_folder(config, memory_input, out, on_batch=_stop_after_one_batch)
    assert (stopped.done, stopped.interrupted) == (1, True)
    # Stopped before a6 was redone: the export reads the six records there, not seven.
    assert fetched == [3, 3, 1, 6]


def test_rows_of_a_jsonl_object_are_read_through_one_handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_input: Any
) -> None:
    """Before, each row opened the object again (on S3 a new request, each reading ahead
    by the backend's block): 200 rows, 201 opens. Now: one to list, one to read them all;
    a row asked for out of order still reads right."""
    memory_input.joinpath("feed.jsonl").write_bytes(_big_feed(200))
    opened: list[str] = []
    original = objects.ObjectPath.open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(path.name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(objects.ObjectPath, "open", counting_open)
    out = tmp_path / "out"
    report = run_folder(_config(batch_articles=50), memory_input, out)
    assert (report.done, report.failed) == (200, 0)
    assert opened == ["feed.jsonl", "feed.jsonl"]
    records = run_records(out)
    assert [records[f"feed/r{n}"]["text"].split(".")[0] for n in (0, 199)] == [
        "Berita 0",
        "Berita 199",
    ]

    from pipeline.inputs.reader import discover, read_article

    items = discover(memory_input)
    assert read_article(items[150]).text.startswith("Berita 150.")
    assert read_article(items[3]).text.startswith("Berita 3.")  # back: opened afresh


def test_an_id_shared_by_many_rows_names_the_first_few_on_the_record_keeping_it(
    tmp_path: Path,
) -> None:
    """A table whose id column repeats one value: before, the first row's record collected
    one warning per other row (20,000 rows took 157 s to plan, quadratic); now five, then
    one saying more, while each other row's record names the first."""
    rows = [{"id": "x", "text": f"Kalimat {n}."} for n in range(40)]
    root = write_files(tmp_path / "in", {"f.jsonl": _jsonl(rows)})
    planned = _planned(root, tmp_path / "out", _config())
    assert planned == discover(root)
    first = planned[0]
    assert [note.split(" is ")[0] for note in first.notes] == ["id 'f/x'"] * 6
    assert first.notes[5] == (
        "id 'f/x' is the id of more inputs too; each of their records names this one"
    )
    assert [item.id for item in planned[1:]] == [f"f/x~line{n}" for n in range(2, 41)]
    assert all(
        len(item.notes) == 1 and str(root / "f.jsonl:1") in item.notes[0] for item in planned[1:]
    )
