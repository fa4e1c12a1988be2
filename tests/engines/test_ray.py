"""The Ray engine gives the same records as the local engine, and resumes the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.engines.local import run_folder
from tests.helpers import (
    import_ray,
    local_ray_cluster,
    run_records,
    tiny_config_dict,
    without_meta,
    write_files,
)

ray = import_ray()

pytestmark = pytest.mark.slow


def _corpus(root: Path) -> Path:
    texts = {
        "a.txt": "Presiden meresmikan jembatan baru. Warga menyambut baik.",
        "b/c.txt": "Hujan deras mengguyur Bandung sejak pagi.",
        "rows.jsonl": json.dumps({"id": "r1", "text": "Petani panen raya."}) + "\n",
        "bad.txt": "",
    }
    return write_files(root, texts)


def _records(out: Path) -> dict[str, dict[str, Any]]:
    return {i: without_meta(r) for i, r in run_records(out).items()}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    with local_ray_cluster(ray) as cluster:
        yield cluster


def test_ray_engine_matches_the_local_engine(
    tmp_path: Path, tiny_models: Path, ray_cluster: object
) -> None:
    from pipeline.engines.ray import run_folder_ray

    root = _corpus(tmp_path / "in")
    config = load_config(tiny_config_dict(tiny_models, run={"batch_articles": 2}))
    local = run_folder(config, root, tmp_path / "local")
    distributed = run_folder_ray(config, root, tmp_path / "ray", workers=1, cpus_per_worker=1)
    assert (distributed.done, distributed.failed) == (local.done, local.failed) == (3, 1)
    assert _records(tmp_path / "ray") == _records(tmp_path / "local")
    manifest = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert manifest["engine"] == "ray" and "finished" in manifest

    again = run_folder_ray(config, root, tmp_path / "ray", workers=1, cpus_per_worker=1)
    assert again.already_done == 3 and again.done == 0  # finished records kept; the failure retried
    assert again.failed == 1


def test_ctrl_c_finishes_the_batch_and_marks_the_run_interrupted(
    tmp_path: Path, tiny_models: Path, ray_cluster: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    from pipeline.engines import ray as ray_engine

    def interrupt_after_the_first(report: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    root, out = _corpus(tmp_path / "in"), tmp_path / "out"
    config = load_config(tiny_config_dict(tiny_models, run={"batch_articles": 1}))
    report = ray_engine.run_folder_ray(
        config, root, out, workers=1, cpus_per_worker=1, on_batch=interrupt_after_the_first
    )
    assert report.interrupted and report.done + report.failed == 1
    manifest = json.loads((out / "run.json").read_text())
    assert "interrupted" in manifest and "finished" not in manifest
    assert (out / "records.jsonl").read_text(encoding="utf-8").strip()  # exported

    again = ray_engine.run_folder_ray(config, root, out, workers=1, cpus_per_worker=1)
    assert not again.interrupted
    assert again.done + again.failed + again.already_done == 4
    assert len(_records(out)) == 4
