"""Inputs and outputs on object storage: a run from s3:// into s3:// gives the local run's
records, resumes, holds its lock there, and survives a server that fails requests.

The server is moto's S3 on 127.0.0.1, started by each test (tests/helpers.py s3_server).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli.main import main
from pipeline.engines.local import run_folder
from pipeline.errors import RunRefusedError
from pipeline.storage import objects
from pipeline.storage.lease import LEASE_ENV, object_lock
from pipeline.storage.objects import ObjectPath, location
from tests.helpers import (
    S3_BUCKET,
    import_ray,
    s3_listing,
    s3_server,
    store_records,
    upload_folder,
)
from tests.storage.conftest import corpus_with_a_table

CORPUS = {
    "a.txt": "Presiden meresmikan jembatan baru. Warga menyambut baik.",
    "berita/b.txt": "Hujan deras mengguyur Bandung sejak pagi.",
    "rows.jsonl": json.dumps({"id": "r1", "text": "Petani panen raya."}) + "\n",
    "tabel.csv": 'id,text\nt1,"Harga beras naik di pasar."\nt2,\n',
    "empty.txt": "",
    ".hidden.txt": "Tidak dibaca.",
    "catatan.pdf": "not an article",
}
IN, OUT = f"s3://{S3_BUCKET}/in", f"s3://{S3_BUCKET}/out"


def _corpus(root: Path) -> Path:
    return corpus_with_a_table(root, CORPUS)


@pytest.fixture
def s3() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


# -- names and errors, no server ----------------------------------------------------------


def test_urls_are_object_paths_and_everything_else_stays_local() -> None:
    path = location("s3://bucket/news/2024/")
    assert isinstance(path, ObjectPath) and str(path) == "s3://bucket/news/2024"
    assert (path / "a.txt").suffix == ".txt" and (path / "a.txt").parent == path
    assert (path / "x" / "a.txt").relative_to(path).as_posix() == "x/a.txt"
    assert location("file:///data/in") == Path("/data/in")
    assert location("in/") == Path("in")


@pytest.mark.parametrize(
    ("protocol", "backend", "extra"),
    [
        ("s3", "s3fs", "s3"),
        ("s3a", "s3fs", "s3"),
        ("gs", "gcsfs", "gcs"),
        ("gcs", "gcsfs", "gcs"),
        ("az", "adlfs", "azure"),
        ("abfs", "adlfs", "azure"),
        ("abfss", "adlfs", "azure"),
    ],
)
@pytest.mark.parametrize("known", [True, False], ids=["known-to-fsspec", "registered-by-backend"])
def test_a_missing_backend_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, protocol: str, backend: str, extra: str, known: bool
) -> None:
    """The backend made unimportable, as where it is not installed: fsspec's own reason,
    then the install line for the store. Some protocols (abfss) only the installed backend
    registers: without it fsspec says "Protocol not known", which must not read as a store
    id2en cannot reach (a fresh machine without adlfs said so)."""
    from fsspec.registry import _registry, known_implementations

    monkeypatch.setitem(sys.modules, backend, None)  # `import backend` raises ImportError
    monkeypatch.delitem(_registry, protocol, raising=False)  # as if not loaded yet
    if not known:
        monkeypatch.delitem(known_implementations, protocol, raising=False)
    objects.forget_filesystems()
    try:
        with pytest.raises(RunRefusedError) as refused:
            location(f"{protocol}://bucket/in").exists()
    finally:
        objects.forget_filesystems()
    message = str(refused.value)
    assert message.startswith(f"{protocol}:// URLs need a package that is not installed (")
    assert backend in message  # fsspec's reason: "Install gcsfs to access Google Storage"
    assert message.endswith(f'pip install "id2en[{extra}]"')


def test_a_backend_that_cannot_start_says_why_not_that_the_store_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend that is installed but refuses to start (adlfs without an account: "Must
    provide either a connection_string or account_name with credentials") is a settings
    error naming its reason, not "not a storage id2en can reach"."""
    import fsspec
    from fsspec.registry import _registry

    class NoAccount(fsspec.AbstractFileSystem):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            raise ValueError("Must provide either a connection_string or account_name")

    monkeypatch.setitem(_registry, "az", NoAccount)  # az:// served by it
    objects.forget_filesystems()
    try:
        with pytest.raises(RunRefusedError) as refused:
            location("az://container/in").exists()
    finally:
        objects.forget_filesystems()
    message = str(refused.value)
    assert message.startswith("az:// storage could not be opened (ValueError: Must provide")
    assert "credentials" in message and "not a storage" not in message


def test_an_unknown_protocol_is_one_clear_error() -> None:
    with pytest.raises(RunRefusedError, match="nosuch:// is not a storage"):
        location("nosuch://bucket/in").exists()


# -- the lock -----------------------------------------------------------------------------


def test_a_live_lock_refuses_a_second_run_and_a_stopped_one_is_taken_over(
    s3: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LEASE_ENV, "1.5")
    lock = location(f"{OUT}/.id2en.lock")
    assert isinstance(lock, ObjectPath)
    with object_lock(lock, "first run"):
        refused = pytest.raises(RunRefusedError, match=r"another id2en run \(first run\)")
        with refused, object_lock(lock, "second run"):
            pass  # pragma: no cover
        assert json.loads(lock.read_bytes())["holder"] == "first run"
    assert not lock.exists()  # released when the run ends
    # A killed run's lock: no heartbeat since; the next run waits out the lease, takes it.
    dead = {"holder": "killed run", "token": "t", "heartbeat": time.time(), "lease_s": 1.5}
    lock.write_bytes(json.dumps(dead).encode())
    started = time.monotonic()
    with object_lock(lock, "resumed run"):
        assert json.loads(lock.read_bytes())["holder"] == "resumed run"
    assert 1.0 < time.monotonic() - started < 10


def test_the_lock_is_created_only_if_absent(s3: str) -> None:
    """The conditional create (If-None-Match: *) the lock rests on: a second create of the
    same object is refused by the server, whoever asks."""
    lock = location(f"{OUT}/.id2en.lock")
    assert isinstance(lock, ObjectPath)
    lock.write_bytes(b"one", exclusive=True)
    with pytest.raises(FileExistsError):
        lock.write_bytes(b"two", exclusive=True)
    assert lock.read_bytes() == b"one"


# -- runs ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_from_s3_into_s3_gives_the_local_records_and_resumes(
    s3: str, config: Any, tmp_path: Path, tiny_models: Path
) -> None:
    local_in = _corpus(tmp_path / "in")
    upload_folder(local_in, IN)
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    assert main(["run", IN + "/", "-o", OUT + "/", "-c", str(config_file)]) == 1  # empty.txt
    local = run_folder(config, local_in, tmp_path / "out")
    assert store_records(OUT) == store_records(tmp_path / "out")
    assert len(store_records(OUT)) == local.total == 8
    listing = s3_listing("out")
    print("\n".join(f"s3://{S3_BUCKET}/out/{key}" for key in listing))  # the listing
    assert listing == [
        "records.jsonl",
        "records/a.json",
        "records/arsip/p1.json",
        "records/arsip/p2.json",
        "records/berita/b.json",
        "records/empty.json",
        "records/rows/r1.json",
        "records/tabel/t1.json",
        "records/tabel/t2.json",
        "run.json",
    ]  # no lock left, no temporary object
    manifest = json.loads(location(OUT).joinpath("run.json").read_text())
    assert manifest["input"] == IN and "finished" in manifest
    assert "testing" not in json.dumps(manifest)  # credentials are never written

    again = run_folder(config, IN, OUT)
    assert (again.already_done, again.processed) == (6, 2)  # the two failed ones retried
    location(f"{OUT}/records/berita/b.json").unlink()
    redo = run_folder(config, IN, OUT)
    assert redo.done == 1 and "berita/b" in store_records(OUT)
    assert store_records(OUT) == store_records(tmp_path / "out")


@pytest.mark.slow
def test_a_failing_server_fails_only_the_articles_it_fails(config: Any, tmp_path: Path) -> None:
    """Requests are retried (botocore, as AWS_MAX_ATTEMPTS says); one that keeps failing
    fails its article alone, with the reason, and every other article completes."""
    flaky = {"count": 0}

    def fail(method: str, path: str) -> bool:
        if method == "PUT" and path.endswith("/out/records/berita/b.json"):
            return True  # always: retries run out
        if method == "GET" and path.endswith("/in/a.txt"):
            return True  # reading the article fails
        if method == "PUT" and path.endswith("/out/records/rows/r1.json"):
            flaky["count"] += 1
            return flaky["count"] == 1  # once: the retry succeeds
        return False

    with s3_server(fail):
        upload_folder(_corpus(tmp_path / "in"), IN)
        report = run_folder(config, IN, OUT)
        failures = dict(report.failures)
        assert set(failures) == {"a", "berita/b", "empty", "tabel/t2"}
        assert (
            failures["berita/b"].startswith("write: ")
            and "injected failure" in failures["berita/b"]
        )
        assert failures["a"].startswith("read: cannot read the file")
        assert flaky["count"] == 2  # r1: failed once, written on the retry
        records = store_records(OUT)
        assert {records[i]["status"] for i in ("rows/r1", "tabel/t1", "arsip/p2")} == {"ok"}
        assert "berita/b" not in records  # its record could not be written: retried next run


@pytest.mark.slow
def test_the_ray_engine_reads_and_writes_s3(s3: str, config: Any, tmp_path: Path) -> None:
    from tests.helpers import local_ray_cluster

    ray = import_ray()
    from pipeline.engines.ray import run_folder_ray

    local_in = _corpus(tmp_path / "in")
    upload_folder(local_in, IN)
    run_folder(config, local_in, tmp_path / "out")
    with local_ray_cluster(ray):
        report = run_folder_ray(config, IN, OUT, workers=1, cpus_per_worker=1)
    assert (report.done, report.failed) == (6, 2)
    assert store_records(OUT) == store_records(tmp_path / "out")
    assert ".id2en.lock" not in s3_listing("out")


def test_a_store_that_cannot_be_reached_is_an_oserror_naming_the_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's own exceptions come out as OSError: one article fails (or the run stops
    with exit 4), never a traceback."""
    pytest.importorskip("s3fs", reason='s3:// needs s3fs: pip install "id2en[s3]"')
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    objects.forget_filesystems()
    path = location(f"s3://{S3_BUCKET}/in/a.txt")
    try:
        with pytest.raises(OSError, match="EndpointConnectionError") as caught:
            path.read_bytes()
        assert caught.value.filename == str(path)
        with pytest.raises(OSError, match="EndpointConnectionError"):
            path.open("rb").read()
    finally:
        objects.forget_filesystems()
