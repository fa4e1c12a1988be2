"""The stores besides S3 that go through the same code (pipeline/storage/objects.py):
gs:// against a local GCS emulator (tests/helpers.py gcs_server), az:// against Azurite
where it is installed (opt-in: an npm package, not in CI), and memory:// (fsspec's
in-memory file system, no server) and file:// URLs. Each run gives the records of a plain
local run; gs:// and az:// resume; and the lock is what README (Object storage) says it is
on each: a conditional create on GCS and Azure, a check then a write on fsspec's generic
backends.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli.main import main
from pipeline.config import PipelineConfig
from pipeline.engines.local import run_folder
from pipeline.errors import RunRefusedError
from pipeline.storage import objects
from pipeline.storage.lease import LEASE_ENV, object_lock
from pipeline.storage.objects import ObjectPath, location
from tests.helpers import (
    AZ_CONTAINER,
    GCS_BUCKET,
    azure_listing,
    azurite_server,
    gcs_listing,
    gcs_server,
    store_records,
    upload_folder,
)
from tests.storage.conftest import corpus_with_a_table

# Every kind of input, none that fails: a second run has nothing left to do.
CORPUS = {
    "a.txt": "Presiden meresmikan jembatan baru. Warga menyambut baik.",
    "berita/b.md": "Hujan deras mengguyur Bandung sejak pagi.",
    "rows.jsonl": json.dumps({"id": "r1", "text": "Petani panen raya."}) + "\n",
    "tabel.csv": 'id,text\nt1,"Harga beras naik di pasar."\n',
    ".hidden.txt": "Tidak dibaca.",
    "catatan.pdf": "not an article",
}
IDS = {"a", "berita/b", "rows/r1", "tabel/t1", "arsip/p1", "arsip/p2"}


def _corpus(root: Path) -> Path:
    return corpus_with_a_table(root, CORPUS)


@pytest.fixture
def config_file(config: PipelineConfig, tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


@pytest.fixture
def local_run(config: PipelineConfig, tmp_path: Path) -> Path:
    """The corpus run from a local folder into a local folder: the records to match."""
    report = run_folder(config, _corpus(tmp_path / "in"), tmp_path / "local-out")
    assert (report.done, report.failed) == (len(IDS), 0)
    return tmp_path / "local-out"


@dataclass
class Store:
    """A store the test started: its root URL and its own listing of a prefix."""

    root: str
    listing: Callable[[str], list[str]]


@pytest.fixture(params=["gs", "az"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """gs:// on the GCS emulator; az:// on Azurite (skips where Azurite is not installed)."""
    if request.param == "gs":
        with gcs_server() as endpoint:
            yield Store(f"gs://{GCS_BUCKET}", partial(gcs_listing, endpoint))
    else:
        with azurite_server() as connection:
            yield Store(f"az://{AZ_CONTAINER}", partial(azure_listing, connection))


@pytest.fixture
def memory() -> Iterator[str]:
    """A fresh root in fsspec's in-memory store (one per process, shared by its instances),
    removed afterwards."""
    root = f"memory://id2en-{uuid.uuid4().hex[:8]}"
    yield root
    fs = objects.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


# -- gs:// and az:// ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_from_a_store_into_it_gives_the_local_records_and_resumes(
    store: Store,
    config: PipelineConfig,
    config_file: Path,
    local_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, out = f"{store.root}/in", f"{store.root}/out"
    upload_folder(tmp_path / "in", source)
    assert main(["run", source + "/", "-o", out + "/", "-c", str(config_file)]) == 0
    assert store_records(out) == store_records(local_run)
    assert set(store_records(out)) == IDS
    listing = store.listing("out")
    first = capsys.readouterr().out
    with capsys.disabled():  # shown with -s: the listing and report lines
        print(first + "\n".join(f"{out}/{key}" for key in listing))
    assert listing == [
        "records.jsonl",
        "records/a.json",
        "records/arsip/p1.json",
        "records/arsip/p2.json",
        "records/berita/b.json",
        "records/rows/r1.json",
        "records/tabel/t1.json",
        "run.json",
    ]  # no lock left, no temporary object
    assert json.loads(location(out).joinpath("run.json").read_text())["input"] == source

    assert main(["run", source + "/", "-o", out + "/", "-c", str(config_file)]) == 0
    second = capsys.readouterr().out
    with capsys.disabled():
        print(second)
    assert f"0 done, 0 failed, {len(IDS)} already done" in second
    again = run_folder(config, source, out)
    assert (again.done, again.already_done, again.failed) == (0, len(IDS), 0)
    assert store_records(out) == store_records(local_run)


def test_the_lock_is_created_only_if_absent(store: Store) -> None:
    """gcsfs sends the create as ifGenerationMatch=0, adlfs as If-None-Match: *; each turns
    the store's refusal into FileExistsError: the second create is refused, the first
    object stays."""
    lock = location(f"{store.root}/out/.id2en.lock")
    assert isinstance(lock, ObjectPath)
    lock.write_bytes(b"one", exclusive=True)
    with pytest.raises(FileExistsError):
        lock.write_bytes(b"two", exclusive=True)
    assert lock.read_bytes() == b"one"


# -- memory:// and file:// ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source_kind", "out_kind"),
    [("memory", "memory"), ("file", "file"), ("memory", "file"), ("file", "memory")],
)
def test_a_run_through_fsspec_urls_gives_the_local_records(
    memory: str,
    config_file: Path,
    local_run: Path,
    tmp_path: Path,
    source_kind: str,
    out_kind: str,
) -> None:
    urls = {
        "memory": (f"{memory}/in", f"{memory}/out"),
        "file": ((tmp_path / "in").as_uri(), (tmp_path / "file-out").as_uri()),
    }
    source, out = urls[source_kind][0], urls[out_kind][1]
    if source_kind == "memory":
        upload_folder(tmp_path / "in", source)
    assert main(["run", source + "/", "-o", out + "/", "-c", str(config_file)]) == 0
    assert store_records(out) == store_records(local_run)
    assert json.loads(location(out).joinpath("run.json").read_text())["input"] in (
        source,
        str(tmp_path / "in"),  # a file:// URL is the local folder it names
    )
    if out_kind == "memory":
        written = sorted(str(path) for path in location(out).files())
        assert written == sorted(
            [f"{out}/records.jsonl", f"{out}/run.json"] + [f"{out}/records/{i}.json" for i in IDS]
        )  # no lock left, no temporary object


# -- the lock where there is no conditional create -----------------------------------------


def _two_runs_at_once(lock: ObjectPath) -> tuple[list[str], list[str]]:
    """Two runs take `lock` at the same moment; (those that held it, those refused). A
    holder keeps it until the other run's attempt is over."""
    held: list[str] = []
    refused: list[str] = []
    over = {"first": threading.Event(), "second": threading.Event()}

    def run(name: str, other: str) -> None:
        try:
            with object_lock(lock, name):
                held.append(name)
                over[name].set()
                over[other].wait(30)
        except RunRefusedError:
            refused.append(name)
            over[name].set()

    threads = [
        threading.Thread(target=run, args=("first", "second")),
        threading.Thread(target=run, args=("second", "first")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(held), sorted(refused)


def _first_two_calls_meet(owner: Any, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first two calls of owner.`method` (the two runs' writes of the lock) wait for
    each other, so both runs are past everything before it when either goes on."""
    original: Callable[..., Any] = getattr(owner, method)
    barrier = threading.Barrier(2, timeout=30)
    calls = iter(range(2))
    count = threading.Lock()

    def meet(*args: Any, **kwargs: Any) -> Any:
        with count:
            first_two = next(calls, None) is not None
        if first_two:
            barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, meet)


def test_without_a_conditional_create_two_runs_starting_together_both_take_the_lock(
    memory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What README says of backends without a conditional create: fsspec's checks that the
    object is absent, then writes it. A run after the holder is refused; two runs whose
    checks both come before either write both hold the lock."""
    monkeypatch.setenv(LEASE_ENV, "1.5")
    lock = location(f"{memory}/out/.id2en.lock")
    assert isinstance(lock, ObjectPath)

    with object_lock(lock, "holder"):  # one after the other: the check refuses
        with pytest.raises(FileExistsError):
            lock.write_bytes(b"{}", exclusive=True)
        refused = pytest.raises(RunRefusedError, match=r"another id2en run \(holder\)")
        with refused, object_lock(lock, "second run"):
            pass  # pragma: no cover
    assert not lock.exists()

    from fsspec.implementations.memory import MemoryFile

    _first_two_calls_meet(MemoryFile, "commit", monkeypatch)  # both check, then both write
    assert _two_runs_at_once(lock) == (["first", "second"], [])


def test_with_a_conditional_create_two_runs_starting_together_one_takes_the_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same two runs on GCS or Azure, their creates sent together: the store lets one
    in."""
    monkeypatch.setenv(LEASE_ENV, "1.5")
    lock = location(f"{store.root}/out/.id2en.lock")
    assert isinstance(lock, ObjectPath)
    _first_two_calls_meet(lock.fs, "pipe_file", monkeypatch)  # both creates sent together
    held, refused = _two_runs_at_once(lock)
    assert len(held) == 1 and len(refused) == 1
    assert not lock.exists()
