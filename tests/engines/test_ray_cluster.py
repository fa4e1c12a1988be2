"""The Ray engine on a multi-node cluster on this machine (a head and worker nodes, each a
raylet of its own, all on 127.0.0.1): the same records as the local engine, through the
CLI's --ray-address; a worker node lost mid-run; the driver killed mid-run.

One cluster serves the module (starting one costs seconds); a test that removes a node
adds one back, so the next finds two worker nodes of one CPU each.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import PipelineConfig, load_config
from pipeline.engines.local import run_folder
from pipeline.engines.run_report import RunReport
from tests.helpers import (
    RAY_LOCAL_ENV,
    assert_same_records,
    extractive_config,
    import_ray,
    run_records,
    tiny_config_dict,
    without_meta,
    write_files,
)
from tests.support.ray_workers import UnhurriedArticleWorker

ray = import_ray()

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SENTENCES = [
    "Presiden meresmikan jembatan baru di Jakarta.",
    "Warga menyambut baik rencana itu.",
    "Hujan deras mengguyur Bandung sejak pagi.",
    "Petani di desa panen raya tahun ini.",
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head with no CPUs (it runs no worker) and two worker nodes of one CPU each."""
    from ray._common.utils import reset_ray_address
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    for _ in range(2):
        nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    # Cluster writes its address to /tmp/ray/ray_current_cluster, where any plain
    # ray.init() on this machine would join it (or, once it is gone, fail): unwrite it.
    reset_ray_address()
    ray.init(address=nodes.address, log_to_driver=False, runtime_env={"env_vars": RAY_LOCAL_ENV})
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


def _records(out: Path) -> dict[str, dict[str, Any]]:
    """Records without what differs from run to run (meta) or from code copy to copy."""
    return {
        i: {k: v for k, v in without_meta(r).items() if k != "id2en"}
        for i, r in run_records(out).items()
    }


def _record_files(out: Path) -> list[Path]:
    return sorted((out / "records").rglob("*.json"))


def _every_kind(root: Path) -> Path:
    """One input of each kind id2en reads, and one that fails."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_files(
        root,
        {
            "a.txt": " ".join(SENTENCES[:2]),
            "nested/b.md": SENTENCES[2],
            "rows.jsonl": "".join(
                json.dumps({"id": f"r{n}", "text": text}) + "\n"
                for n, text in enumerate(SENTENCES[:2])
            ),
            "t.csv": "id,text\nc1," + SENTENCES[3] + "\n",
            "t.tsv": "id\ttext\nt1\t" + SENTENCES[0] + "\n",
            "t.json": json.dumps([{"id": "j1", "text": SENTENCES[1]}]),
            "empty.txt": "",
        },
    )
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": SENTENCES[2:]}), root / "t.parquet")
    return root


def _articles(root: Path, count: int) -> Path:
    return write_files(
        root,
        {f"n{i:02d}.txt": f"{SENTENCES[i % 4]} {SENTENCES[(i + 1) % 4]}" for i in range(count)},
    )


def _local_run_and_config_file(
    tmp_path: Path, tiny_models: Path, count: int
) -> tuple[Path, PipelineConfig, Path]:
    """`count` articles, the local engine's records of them in tmp_path/local (what the Ray
    run must equal), and the config as a file for the CLI."""
    root = _articles(tmp_path / "in", count)
    config = extractive_config(tiny_models, run={"batch_articles": 1})
    run_folder(config, root, tmp_path / "local")
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return root, config, config_file


def _driver_env(code: Path | None = None) -> dict[str, str]:
    env = {**os.environ, **RAY_LOCAL_ENV, "PYTHONPATH": str(code or REPO)}
    env.pop("RAY_ADDRESS", None)
    return env


def _replace_a_node(cluster: Any) -> None:
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()


def test_the_cli_on_two_nodes_gives_the_local_engines_records_with_the_drivers_code(
    tmp_path: Path, tiny_models: Path, cluster: Any
) -> None:
    """The driver runs a copy of the package from PYTHONPATH, outside any checkout: the
    workers import that copy (shipped by the engine), not the node's installed id2en."""
    code = tmp_path / "code"
    shutil.copytree(
        REPO / "pipeline", code / "pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    init = code / "pipeline" / "__init__.py"
    source = init.read_text(encoding="utf-8")
    version = source.split('__version__ = "')[1].split('"')[0]
    init.write_text(
        source.replace(f'__version__ = "{version}"', f'__version__ = "{version}+shipped"'),
        encoding="utf-8",
    )

    root = _every_kind(tmp_path / "in")
    settings = tiny_config_dict(tiny_models, run={"batch_articles": 2})
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    local = run_folder(load_config(settings), root, tmp_path / "local")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [sys.executable, "-m", "pipeline.cli", "run", str(root), "-o", str(tmp_path / "ray")]
    command += ["-c", str(config_file), "--engine", "ray", "--ray-address", cluster.address]
    done = subprocess.run(
        [*command, "--workers", "2"],
        cwd=elsewhere,
        env=_driver_env(code),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-3000:]  # the empty file failed, as locally
    assert "failed empty" in done.stderr
    assert (local.done, local.failed) == (9, 1)
    assert_same_records(_records(tmp_path / "ray"), _records(tmp_path / "local"))
    assert {r["id2en"] for r in run_records(tmp_path / "ray").values()} == {f"{version}+shipped"}
    assert json.loads((tmp_path / "ray" / "run.json").read_text())["engine"] == "ray"


@pytest.fixture()
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that take long enough for a node to be lost while some are in flight."""
    from pipeline.engines import ray as ray_engine

    monkeypatch.setattr(ray_engine, "ArticleWorker", UnhurriedArticleWorker)


@pytest.mark.usefixtures("unhurried")
def test_a_worker_node_lost_mid_run_its_batches_run_again_on_the_node_left(
    tmp_path: Path, tiny_models: Path, cluster: Any
) -> None:
    from pipeline.engines.ray import run_folder_ray

    root = _articles(tmp_path / "in", 10)
    config = extractive_config(tiny_models, run={"batch_articles": 1})
    local = run_folder(config, root, tmp_path / "local")
    lost: list[int] = []

    def lose_a_node(report: RunReport) -> None:
        """After the second batch: both nodes hold a worker with batches in flight."""
        if report.done >= 2 and not lost:
            lost.append(report.done)
            cluster.remove_node(next(iter(cluster.worker_nodes)), allow_graceful=False)

    try:
        report = run_folder_ray(
            config, root, tmp_path / "ray", workers=2, cpus_per_worker=1, on_batch=lose_a_node
        )
    finally:
        _replace_a_node(cluster)
    assert lost, "the node was never removed"
    assert (report.done, report.failed, report.interrupted) == (10, 0, False)
    assert report.redone_batches >= 1
    assert f"{report.redone_batches} batches run again" in report.line()
    assert_same_records(_records(tmp_path / "ray"), _records(tmp_path / "local"))
    assert len(_record_files(tmp_path / "ray")) == local.done == 10
    print(f"lost a node after {lost[0]} records: {report.line()}")


@pytest.mark.usefixtures("unhurried")
def test_workers_lost_past_the_retries_stop_the_run_resumably(
    tmp_path: Path, tiny_models: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from pipeline.cli.main import main
    from pipeline.engines import ray as ray_engine

    root, _, config_file = _local_run_and_config_file(tmp_path, tiny_models, 8)
    monkeypatch.setattr(ray_engine, "MAX_ATTEMPTS", 1)  # a batch whose worker is lost is not rerun
    real = ray_engine.run_folder_ray

    def losing_a_node(*args: Any, **kwargs: Any) -> RunReport:
        def lose(report: RunReport) -> None:
            if report.done == 2:
                cluster.remove_node(next(iter(cluster.worker_nodes)), allow_graceful=False)

        return real(*args, **kwargs, on_batch=lose)

    monkeypatch.setattr(ray_engine, "run_folder_ray", losing_a_node)
    command = ["run", str(root), "-o", str(tmp_path / "ray"), "-c", str(config_file)]
    command += ["--engine", "ray", "--workers", "2"]
    try:
        code = main(command)
    finally:
        _replace_a_node(cluster)
    assert code == 5
    err = capsys.readouterr().err
    assert "the Ray cluster could not finish the run" in err and "run the same command" in err
    manifest = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert "interrupted" in manifest and "finished" not in manifest
    kept = len(_record_files(tmp_path / "ray"))
    assert 2 <= kept < 8

    monkeypatch.undo()
    assert main(command) == 0
    assert_same_records(_records(tmp_path / "ray"), _records(tmp_path / "local"))
    assert len(_record_files(tmp_path / "ray")) == 8


def test_the_driver_killed_mid_run_then_run_again_loses_and_repeats_nothing(
    tmp_path: Path, tiny_models: Path, cluster: Any
) -> None:
    from pipeline.engines.ray import run_folder_ray

    root, config, config_file = _local_run_and_config_file(tmp_path, tiny_models, 10)
    out = tmp_path / "ray"
    # The CLI with unhurried workers, so the driver is still running at the third record.
    command = [sys.executable, "-m", "tests.support.ray_workers", "run", str(root), "-o", str(out)]
    command += ["-c", str(config_file), "--engine", "ray", "--ray-address", cluster.address]
    driver = subprocess.Popen(
        [*command, "--workers", "2"],
        cwd=REPO,
        env=_driver_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while len(_record_files(out)) < 3 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert driver.poll() is None, "the run ended before it could be killed"
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
    killed_at = len(_record_files(out))
    assert 3 <= killed_at < 10
    assert not (out / "records.jsonl").exists()  # killed: nothing was exported

    again = run_folder_ray(config, root, out, workers=2, cpus_per_worker=1)
    assert again.already_done >= 3 and again.already_done + again.done == 10
    assert again.failed == 0 and again.redone_batches == 0
    assert_same_records(_records(out), _records(tmp_path / "local"))
    assert len(_record_files(out)) == 10
    assert not list(out.rglob("*.tmp*"))


@pytest.mark.usefixtures("unhurried")
def test_batches_are_read_from_the_plan_only_as_workers_free_up(
    tmp_path: Path, tiny_models: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backpressure: the driver reads a table's batches from the plan a few ahead of the
    workers (at most two per worker in flight, and one it peeked at), never the whole
    table at once, so neither the driver nor the object store holds it; and the
    records are the local engine's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.engines.plan import Plan
    from pipeline.engines.ray import run_folder_ray

    rows = 24
    root = tmp_path / "in"
    root.mkdir()
    texts = [f"{SENTENCES[n % 4]} {SENTENCES[(n + 1) % 4]}" for n in range(rows)]
    pq.write_table(
        pa.table({"id": [f"b{n:02d}" for n in range(rows)], "text": texts}), root / "t.parquet"
    )
    config = extractive_config(tiny_models, run={"batch_articles": 1})
    run_folder(config, root, tmp_path / "local")

    read_ahead: list[int] = []
    handed_out = 0
    groups = Plan.groups

    def counted(plan: Plan) -> Iterator[Any]:
        nonlocal handed_out
        for group in groups(plan):
            handed_out += 1
            yield group

    def check(report: RunReport) -> None:
        read_ahead.append(handed_out - report.processed)

    monkeypatch.setattr(Plan, "groups", counted)
    report = run_folder_ray(
        config, root, tmp_path / "ray", workers=2, cpus_per_worker=1, on_batch=check
    )
    assert (report.done, report.failed) == (rows, 0)
    assert handed_out == rows
    assert len(read_ahead) == rows
    assert max(read_ahead) <= 2 * 2 + 1, read_ahead
    assert_same_records(_records(tmp_path / "ray"), _records(tmp_path / "local"))
