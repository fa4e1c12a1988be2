"""Helpers the tests share: configs for the tiny models, stages and articles to feed them,
the offset invariant every splitter result must hold, a run's records, a local Ray cluster
and headless Chromium."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.config import PipelineConfig, load_config
from pipeline.translate.stage import TranslateStage
from pipeline.types import Article, Sentence


def tiny_config_dict(models: Path, **sections: dict) -> dict:
    data: dict = {
        "run": {"device": "cpu", "progress": "never", "batch_articles": 4},
        "translate": {
            "model": str(models / "marian"),
            "local_files_only": True,
            "num_beams": 2,
            "max_new_tokens": 12,
        },
        "summarize": {"model": str(models / "bart"), "local_files_only": True, "num_beams": 2},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def extractive_config(models: Path, **sections: dict[str, Any]) -> PipelineConfig:
    """The tiny models' config with the extractive summarizer (no abstractive model runs)."""
    base = {"stages": {"summarize": "summarize.extractive"}, **sections}
    return load_config(tiny_config_dict(models, **base))


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative name -> text) under `root`, making folders; returns root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SENTENCES = [
    "Presiden membahas rencana anggaran baru di Jakarta kemarin.",
    "Saya membeli buku.",
    "Petani di desa menolak jembatan kecil pada hari Senin tahun lalu.",
    "Mereka menjual beras dan sayur di pasar.",
    "Wartawan muda melaporkan berita tentang banjir di Surabaya pagi ini.",
    "Guru itu membaca buku sejarah di sekolah.",
]


def make_article(article_id: str, texts: list[str]) -> Article:
    sentences, offset = [], 0
    for text in texts:
        sentences.append(Sentence(text=text, paragraph=0, start=offset, end=offset + len(text)))
        offset += len(text) + 1
    return Article(id=article_id, text=" ".join(texts), sentences=sentences)


def translate_article(models: Path, article_id: str, texts: list[str], **translate: Any) -> Article:
    """One article of `texts` through the tiny models' translate stage: torch, or
    CTranslate2 where the settings name a `ct2_model_dir`."""
    config = load_config(tiny_config_dict(models, translate=translate))
    backend = "ctranslate2" if "ct2_model_dir" in translate else "torch"
    name = "translate.ctranslate2" if backend == "ctranslate2" else "translate.seq2seq"
    article = make_article(article_id, texts)
    TranslateStage(config, name=name, backend=backend)([article])
    return article


def make_stage(models: Path, **translate: Any) -> TranslateStage:
    settings = {"num_beams": 1, "max_new_tokens": 16, **translate}
    config = load_config(tiny_config_dict(models, translate=settings, guards={"enabled": False}))
    return TranslateStage(config)


def make_ct2_stage(models: Path, ct2_dir: Path, **translate: Any) -> TranslateStage:
    settings = {
        "num_beams": 1,
        "max_new_tokens": 16,
        "ct2_model_dir": str(ct2_dir),
        "ct2_compute_type": "float32",
        **translate,
    }
    config = load_config(tiny_config_dict(models, translate=settings, guards={"enabled": False}))
    return TranslateStage(config, name="translate.ctranslate2", backend="ctranslate2")


def check_offsets(text: str, sentences: list[Sentence]) -> None:
    """Offsets index `text`, in order; every non-space character is in one sentence."""
    covered = []
    previous_end = 0
    for s in sentences:
        assert previous_end <= s.start < s.end <= len(text)
        assert " ".join(text[s.start : s.end].split()) == s.text
        covered.append(text[s.start : s.end])
        previous_end = s.end
    assert "".join("".join(covered).split()) == "".join(text.split())


# -- a run's output ------------------------------------------------------------------------


def run_records(out: Path) -> dict[str, dict[str, Any]]:
    """OUT/records.jsonl by id, in the file's order (sorted by id)."""
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


def without_meta(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its meta (timings, models, paths: what differs from run to run)."""
    return {k: v for k, v in record.items() if k != "meta"}


def assert_same_records(got: dict[str, Any], want: dict[str, Any], tolerance: float = 1e-5) -> None:
    """Records (by id) equal but for sentence scores, which must agree within `tolerance`:
    a sentence translated in another batch (another worker's, or none thanks to the
    translation cache) scores the same only up to float rounding (padding changes sums)."""

    def split(record: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        sentences = [{k: v for k, v in s.items() if k != "score"} for s in record["sentences"]]
        return {**record, "sentences": sentences}, [s.get("score") for s in record["sentences"]]

    assert sorted(got) == sorted(want)
    for article_id in want:
        (record, scores), (expected, expected_scores) = (
            split(got[article_id]),
            split(want[article_id]),
        )
        assert record == expected, article_id
        assert [s is None for s in scores] == [s is None for s in expected_scores], article_id
        pairs = [(a, b) for a, b in zip(scores, expected_scores, strict=True) if a is not None]
        assert all(abs(a - b) <= tolerance for a, b in pairs), (article_id, pairs)


def upload_folder(local: Path, url: str) -> None:
    """Every file under `local` as an object under the URL, at the same relative key."""
    from pipeline.storage.objects import location

    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        location(url).joinpath(path.relative_to(local).as_posix()).write_bytes(path.read_bytes())


def store_records(out: Any) -> dict[str, dict[str, Any]]:
    """OUT/records.jsonl by id, where OUT is a folder or a URL, without what names where the
    run read and wrote (meta, source): what a run into any store must give alike."""
    from pipeline.storage.objects import location

    lines = location(out).joinpath("records.jsonl").read_text().splitlines()
    return {r["id"]: {**without_meta(r), "source": None} for r in map(json.loads, lines)}


def fail_record_writes(monkeypatch: Any, code: int = errno.ENOSPC) -> None:
    """Every record file's final rename fails with `code`, as the OS reports a full disk;
    other files (run.json, the exports) are written as usual."""
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if f"{os.sep}records{os.sep}" in os.fspath(dst):
            raise OSError(code, os.strerror(code))
        real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


# -- a local Ray cluster ------------------------------------------------------------------

# Ray then gives its nodes the address 127.0.0.1, so a test cluster needs no network
# interface and is never reachable from outside. Ray reads it when imported.
RAY_LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def import_ray() -> Any:
    """Ray, kept on 127.0.0.1 (the driver's environment, which the cluster inherits);
    skips the calling test module where Ray is not installed."""
    import pytest

    os.environ.update(RAY_LOCAL_ENV)
    return pytest.importorskip("ray", reason='the ray engine is optional: pip install "id2en[ray]"')


@contextmanager
def local_ray_cluster(ray: Any) -> Iterator[Any]:
    """A two-CPU Ray cluster on this machine, which `id2en run --engine ray` joins."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": RAY_LOCAL_ENV},  # the workers too
    )
    try:
        yield ray
    finally:
        ray.shutdown()


# -- headless Chromium (the report's checks) ----------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--enable-logging=stderr",
    "--v=0",
]
# Chromium logs page console messages as `...:CONSOLE(12)] "message", source: URL (12)`.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\] \"?(.*?)\"?, source:")


def chromium() -> str:
    """The headless browser to check pages with; skips the test where there is none
    (fails it in CI, which must install one)."""
    import pytest

    found = os.environ.get("ID2EN_CHROMIUM") or next(
        filter(None, map(shutil.which, CHROMIUM_NAMES)), None
    )
    if found:
        return found
    reason = "headless Chromium not found (apt-get install chromium, or set ID2EN_CHROMIUM)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}: CI must install it")
    pytest.skip(reason)


def run_chromium(page: Path, profile: Path, *extra: str) -> tuple[str, list[str]]:
    """Load a local page; return stdout and the page's console messages."""
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra]
    done = subprocess.run(
        [*command, page.resolve().as_uri()], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    console = [m.group(1) for m in map(CONSOLE_LINE.search, done.stderr.splitlines()) if m]
    return done.stdout, console


# -- a local S3 (moto's server) -----------------------------------------------------------

S3_BUCKET = "id2en-test"


@contextmanager
def s3_server(fail: Any = None) -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 (moto's server mode, in a thread) with the
    bucket S3_BUCKET; yields its endpoint URL. The AWS_* variables that the usual
    credential chain reads point at it for the block. `fail(method, path)` true answers
    that request with 500 InternalError, as an overloaded S3 does."""
    import boto3
    import pytest

    pytest.importorskip("s3fs", reason='s3:// needs s3fs: pip install "id2en[s3]" (in ".[dev]")')
    moto_server = pytest.importorskip("moto.server", reason='needs moto and flask (".[dev]")')
    from pipeline.storage.objects import forget_filesystems

    class Server(moto_server.ThreadedMotoServer):  # type: ignore[misc]
        def _server_entry(self) -> None:
            from werkzeug.serving import make_server

            app = moto_server.DomainDispatcherApplication(moto_server.create_backend_app)
            self._server = make_server(self._ip_address, self._port, _failing(app, fail), True)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_MAX_ATTEMPTS": "3",  # botocore's retries, read from the environment
        "AWS_RETRY_MODE": "standard",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    forget_filesystems()
    try:
        # moto keeps its buckets per process, not per server: start each one empty.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        boto3.client("s3").create_bucket(Bucket=S3_BUCKET)
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        forget_filesystems()


def _failing(app: Any, fail: Any) -> Any:
    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if fail is not None and fail(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")):
            body = b"<Error><Code>InternalError</Code><Message>injected failure</Message></Error>"
            start_response("500 Internal Server Error", [("Content-Type", "application/xml")])
            return [body]
        return app(environ, start_response)

    return middleware


def s3_listing(prefix: str) -> list[str]:
    """Every object under s3://S3_BUCKET/prefix, as keys relative to it, sorted."""
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in pages.paginate(Bucket=S3_BUCKET, Prefix=f"{prefix}/")
        for item in page.get("Contents", [])
    ]
    return sorted(key[len(prefix) + 1 :] for key in keys)


GCS_BUCKET = "id2en-test"


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set for the block, then as it was."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def gcs_server() -> Iterator[str]:
    """A GCS-compatible server on 127.0.0.1 (gcp-storage-emulator's JSON API, in a thread,
    objects in memory) with the bucket GCS_BUCKET; yields its URL, which
    STORAGE_EMULATOR_HOST (read by gcsfs and Google's clients) names for the block.

    Two things the emulator lacks are made up for here:
    - gcsfs's bucket-layout lookup: since gcsfs 2026 its default class asks each bucket's
      layout over gRPC (GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT), which the emulator does not
      speak, and waits out a 60 s retry on every request; the plain GCSFileSystem serves
      gs:// for the block instead.
    - create-only-if-absent: the emulator ignores ifGenerationMatch=0; this server answers
      412 to it, as GCS does, so the lock's conditional create is exercised end to end.
    """
    import threading
    from functools import partial
    from http.server import HTTPServer

    import pytest

    pytest.importorskip("gcsfs", reason='gs:// needs gcsfs: pip install "id2en[gcs]"')
    emulator = pytest.importorskip(
        "gcp_storage_emulator.server", reason='needs gcp-storage-emulator (".[dev]")'
    )
    from pipeline.storage.objects import forget_filesystems

    storage, handler = _gcs_emulator(emulator)
    emulator.buckets.create_bucket(GCS_BUCKET, storage)
    server = HTTPServer(("127.0.0.1", 0), partial(handler, storage))
    thread = threading.Thread(target=server.serve_forever, name="gcs-emulator", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        with environment({"STORAGE_EMULATOR_HOST": endpoint}), _gcsfs_for_the_emulator():
            forget_filesystems()
            yield endpoint
    finally:
        forget_filesystems()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _gcs_emulator(emulator: Any) -> tuple[Any, Any]:
    """The emulator's storage (in memory) and request handler, answering 412 to a create
    with ifGenerationMatch=0 of an object that exists."""
    import threading
    from urllib.parse import parse_qs, urlsplit

    create_only = threading.local()

    class Exists(Exception):
        pass

    class Storage(emulator.Storage):  # type: ignore[misc]
        def create_file(self, bucket: str, name: str, *args: Any, **kwargs: Any) -> None:
            if getattr(create_only, "value", False) and name in self.objects.get(bucket, {}):
                raise Exists(name)
            super().create_file(bucket, name, *args, **kwargs)

    class Handler(emulator.RequestHandler):  # type: ignore[misc]
        def do_POST(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            create_only.value = query.get("ifGenerationMatch") == ["0"]
            try:
                super().do_POST()
            except Exists:
                body = json.dumps({"error": {"code": 412, "message": "Precondition Failed"}})
                self.send_response(412)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            finally:
                create_only.value = False

        def log_message(self, *args: Any) -> None:
            pass

    return Storage(use_memory_fs=True), Handler


@contextmanager
def _gcsfs_for_the_emulator() -> Iterator[None]:
    """For the block, gs:// and gcs:// are served by gcsfs's plain GCSFileSystem, with no
    credentials (token "anon", through fsspec's config: Google's credential chain would
    ask a metadata server); fsspec's registry and config as they were afterwards."""
    import fsspec
    import fsspec.config
    import gcsfs.core
    from fsspec.registry import _registry  # the backends fsspec has loaded, by protocol

    protocols = ("gs", "gcs")
    saved = {name: (_registry.get(name), fsspec.config.conf.get(name)) for name in protocols}
    for name in protocols:
        fsspec.register_implementation(name, gcsfs.core.GCSFileSystem, clobber=True)
        fsspec.config.conf[name] = {**(fsspec.config.conf.get(name) or {}), "token": "anon"}
    try:
        yield
    finally:
        for name, (cls, conf) in saved.items():
            if cls is None:
                _registry.pop(name, None)
            else:
                fsspec.register_implementation(name, cls, clobber=True)
            if conf is None:
                fsspec.config.conf.pop(name, None)
            else:
                fsspec.config.conf[name] = conf


def gcs_listing(endpoint: str, prefix: str) -> list[str]:
    """Every object under gs://GCS_BUCKET/prefix as the server lists it (its JSON API, not
    gcsfs), as keys relative to the prefix, sorted."""
    url = f"{endpoint}/storage/v1/b/{GCS_BUCKET}/o?prefix={prefix}/"
    with urllib.request.urlopen(url) as answer:
        items = json.load(answer).get("items", [])
    return sorted(item["name"][len(prefix) + 1 :] for item in items)


AZ_CONTAINER = "id2en-test"
# Azurite's well-known development account (its documentation's; no secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@contextmanager
def azurite_server() -> Iterator[str]:
    """Azure Blob Storage on 127.0.0.1 (Azurite, objects in memory) with the container
    AZ_CONTAINER; yields the connection string, which AZURE_STORAGE_CONNECTION_STRING
    (read by adlfs) holds for the block.

    Opt-in: Azurite is an npm package (`npm install azurite`; set ID2EN_AZURITE to its
    azurite-blob, or put it on PATH), which CI does not install, so the test skips there;
    az:// is otherwise untested (README: Object storage)."""
    import socket
    import time

    import pytest

    pytest.importorskip("adlfs", reason='az:// needs adlfs: pip install "id2en[azure]"')
    binary = os.environ.get("ID2EN_AZURITE") or shutil.which("azurite-blob")
    if not binary:
        pytest.skip("Azurite not found (npm install azurite; set ID2EN_AZURITE to azurite-blob)")
    from azure.storage.blob import BlobServiceClient

    from pipeline.storage.objects import forget_filesystems

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    command += ["--inMemoryPersistence", "--skipApiVersionCheck", "--silent"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Azurite did not start: {command}") from None
                time.sleep(0.1)
        BlobServiceClient.from_connection_string(connection).create_container(AZ_CONTAINER)
        with environment({"AZURE_STORAGE_CONNECTION_STRING": connection}):
            forget_filesystems()
            yield connection
    finally:
        forget_filesystems()
        server.kill()  # in memory, nothing to keep; it waits on open connections at SIGTERM
        server.wait(timeout=10)


def azure_listing(connection: str, prefix: str) -> list[str]:
    """Every blob under az://AZ_CONTAINER/prefix as Azure's own client lists it, as names
    relative to the prefix, sorted."""
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(connection, AZ_CONTAINER)
    names = container.list_blob_names(name_starts_with=f"{prefix}/")
    return sorted(name[len(prefix) + 1 :] for name in names)
