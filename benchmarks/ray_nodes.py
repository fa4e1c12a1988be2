"""The Ray engine on 1 vs 2 local nodes, its overhead per batch, and its memory on a Parquet table.

Each part starts a Ray cluster on this machine (ray.cluster_utils.Cluster: a head with no
CPUs and worker nodes of one CPU each, on 127.0.0.1) and runs `run_folder_ray` on the tiny
random-weight models (tests/support/tiny_models.py), in this one run:

  nodes:    articles/s on 1 node (1 worker) and on 2 nodes (2 workers), steady state (first
            batch to last, so the actors' start is left out) and wall (with it). On a
            2-core machine expect no speed-up: both nodes share the same cores.
  overhead: seconds per batch of batches that need no model (empty files: each fails at
            read and writes its record), i.e. what the engine adds per batch (hand-out,
            pickling, the result's round trip, the record write).
  memory:   a Parquet table of --mb MB (translation off, extractive summaries: the input
            path, not the models) on 2 nodes: the driver's peak RSS, the object store's
            peak use and what was spilled (polled every 0.2 s), and the driver's growth
            per row between a quarter of the table and all of it (0 when nothing is kept
            per row).
  big:      with --big-mb, a table that size (1000: the 1 GB table) planned whole, then
            --stop-after batches run before the run is stopped as Ctrl-C stops it: the
            driver's peak with every row planned, the object store and spill meanwhile.
            (Running all of it takes hours on 2 cores; the plan is the part that grows.)

    python benchmarks/ray_nodes.py --quick           # a few minutes on 2 busy cores
    python benchmarks/ray_nodes.py --memory-only --big-mb 1000 --stop-after 20
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1

from pipeline.config import PipelineConfig, load_config
from pipeline.engines.ray import run_folder_ray
from pipeline.engines.run_report import RunReport
from tests.helpers import tiny_config_dict
from tests.support.tiny_models import build_tiny_bart, build_tiny_marian

SENTENCES = [
    "Presiden meresmikan jembatan baru di Jakarta kemarin pagi.",
    "Warga menyambut baik rencana pemerintah daerah itu.",
    "Hujan deras mengguyur Bandung sejak pagi hingga sore.",
    "Petani di desa itu panen raya pada tahun ini.",
    "Harga beras di pasar naik menjelang hari raya.",
    "Wartawan melaporkan banjir di Surabaya pada hari Senin.",
]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def _reset_peak_rss() -> None:
    """Start VmHWM afresh (Linux: writing 5 to clear_refs), so a run's peak is its own."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


@contextmanager
def cluster(ray: Any, nodes: int) -> Iterator[Any]:
    from ray._common.utils import reset_ray_address
    from ray.cluster_utils import Cluster

    local = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    for _ in range(nodes):
        local.add_node(num_cpus=1)
    local.wait_for_nodes()
    # Cluster writes its address to /tmp/ray/ray_current_cluster, where any plain
    # ray.init() on this machine would join it (or, once it is gone, fail): unwrite it.
    reset_ray_address()
    ray.init(address=local.address, log_to_driver=False)
    try:
        yield local
    finally:
        ray.shutdown()
        local.shutdown()


class BatchClock:
    """Times of each batch's outcomes reaching the driver (run_folder_ray's on_batch)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.articles: list[int] = []

    def __call__(self, report: RunReport) -> None:
        self.times.append(time.perf_counter())
        self.articles.append(report.processed)

    def steady(self) -> tuple[float, int]:
        """Seconds and articles from the first batch's outcome to the last's."""
        return self.times[-1] - self.times[0], self.articles[-1] - self.articles[0]


def timed_run(
    ray: Any, config: PipelineConfig, root: Path, out: Path, nodes: int
) -> tuple[RunReport, BatchClock, float]:
    clock = BatchClock()
    with cluster(ray, nodes):
        started = time.perf_counter()
        report = run_folder_ray(config, root, out, workers=nodes, cpus_per_worker=1, on_batch=clock)
        wall = time.perf_counter() - started
    return report, clock, wall


def write_articles(root: Path, count: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    for n in range(count):
        text = " ".join(rng.choices(SENTENCES, k=rng.randint(3, 6)))
        (root / f"a{n:04d}.txt").write_text(text, encoding="utf-8")
    return root


def _words(rng: random.Random, count: int) -> list[str]:
    """Made-up Indonesian-looking words: text that compresses about as news text does
    (a few sentences repeated would compress 50x and put 10x the rows in a GB)."""
    syllables = [c + v for c in "bcdghjklmnprstw" for v in "aiueo"] + ["ng", "ny", "an", "er"]
    return ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(count)]


def _article(rng: random.Random, words: list[str]) -> str:
    sentences = []
    for _ in range(rng.randint(6, 14)):
        sentence = " ".join(rng.choices(words, k=rng.randint(6, 18)))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(sentences)


def write_table(path: Path, target_bytes: int, seed: int = 0) -> int:
    """Rows of 6-14 sentences (about 0.5-1.5 KB) until the file is about target_bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    words = _words(rng, 20_000)
    rows = 0
    with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("text", pa.string())])) as out:
        while not path.exists() or path.stat().st_size < target_bytes:
            texts = [_article(rng, words) for _ in range(2000)]
            ids = [f"a{rows + n}" for n in range(len(texts))]
            out.write_table(pa.table({"id": ids, "text": texts}))
            rows += len(texts)
    return rows


class StorePoller:
    """The object store's peak use, polled: Ray's plasma store on Linux lives in /dev/shm,
    so the bytes in use there over the run's baseline are all the nodes' object stores
    together (Ray's own memory summary needs grpc, not always installed)."""

    def __init__(self) -> None:
        self.baseline = shutil.disk_usage("/dev/shm").used
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            used = shutil.disk_usage("/dev/shm").used - self.baseline
            self.peak_mib = max(self.peak_mib, used / 2**20)

    def __enter__(self) -> StorePoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def spilled_mib(session_dir: Path) -> float:
    """What Ray spilled to disk under the cluster's session folder (its default place)."""
    spilled = [p for p in session_dir.rglob("*") if "spill" in p.name.lower()]
    files = [f for p in spilled for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_size for f in files) / 2**20


def table_run(
    ray: Any,
    config: PipelineConfig,
    table: Path,
    out: Path,
    calibrate: bool = False,
    on_batch: Any = None,
) -> tuple[RunReport, float, float, float, float]:
    """(report, seconds, object store peak MiB, spilled MiB, driver peak RSS MB) of one
    run on 2 nodes."""
    _reset_peak_rss()
    with cluster(ray, 2) as local, StorePoller() as store:
        started = time.perf_counter()
        report = run_folder_ray(config, table, out, workers=2, cpus_per_worker=1, on_batch=on_batch)
        seconds = time.perf_counter() - started
        spilled = spilled_mib(Path(local.head_node.get_session_dir_path()))
        run_peak, driver_peak = store.peak_mib, _peak_rss_mb()  # before the calibration's array
        if calibrate:  # the poller sees the object store: 64 MiB put shows as about 64
            import numpy as np

            block = ray.put(np.ones(64 * 2**20, dtype=np.uint8))
            time.sleep(1)
            print(f"  (calibration: a 64 MiB ray.put shows as {store.peak_mib:.0f} MiB)")
            del block
    return report, seconds, run_peak, spilled, driver_peak


def memory_part(ray: Any, models: Path, work: Path, megabytes: float) -> None:
    """A table of a quarter of the size, then the full size: the driver's peak RSS grows
    by the difference in rows times its cost per row (the input list), the slope the
    extrapolation to 1 GB uses; fixed costs (imports, Ray) are in both."""
    config = load_config(_memory_settings(models))
    print("\nmemory: Parquet tables on 2 nodes (translation off, extractive summaries)")
    before = _rss_mb()
    print(f"  driver RSS before any run: {before:.0f} MB")
    peaks, sizes = [], []
    for share in (0.25, 1.0):
        table = work / f"table-{share}" / "big.parquet"
        table.parent.mkdir()
        rows = write_table(table, int(megabytes * share * 1e6))
        size = table.stat().st_size
        report, seconds, store_mib, spilled, driver_peak = table_run(
            ray, config, table, work / f"out-{share}", calibrate=share == 1.0
        )
        peaks.append((rows, driver_peak))
        sizes.append(size)
        print(
            f"  {size / 1e6:5.1f} MB, {rows} rows: {report.processed} records in {seconds:.0f}s; "
            f"driver peak RSS {peaks[-1][1]:.0f} MB; object store peak {store_mib:.0f} MiB; "
            f"spilled {spilled:.0f} MiB"
        )
    (rows_a, peak_a), (rows_b, peak_b) = peaks
    per_row_kb = (peak_b - peak_a) * 1024 / (rows_b - rows_a)
    print(
        f"  driver: {per_row_kb:+.3f} KB per row between the two tables "
        f"({peak_a:.0f} -> {peak_b:.0f} MB for {rows_a} -> {rows_b} rows)"
    )


class StopAfter:
    """Stops a run after `batches` batches, as Ctrl-C does (the engine's stop flag)."""

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.first: float | None = None

    def __call__(self, report: RunReport) -> None:
        self.first = self.first or time.perf_counter()
        self.batches -= 1
        if self.batches == 0:
            os.kill(os.getpid(), signal.SIGINT)


def big_part(ray: Any, models: Path, work: Path, megabytes: float, batches: int) -> None:
    """The whole table planned (every row listed, digested, checked for a record), then
    `batches` batches of 64 run, then stopped: the driver's peak with the full plan."""
    config = load_config(_memory_settings(models))
    table = work / "big" / "big.parquet"
    table.parent.mkdir()
    started = time.perf_counter()
    rows = write_table(table, int(megabytes * 1e6))
    print(
        f"\nbig: a {table.stat().st_size / 1e6:.0f} MB Parquet table, {rows:,} rows "
        f"(written in {time.perf_counter() - started:.0f}s), on 2 nodes; stopped after "
        f"{batches} batches"
    )
    stop = StopAfter(batches)
    started = time.perf_counter()
    report, _, store_mib, spilled, driver_peak = table_run(
        ray, config, table, work / "out-big", on_batch=stop
    )
    first = (stop.first or started) - started
    print(
        f"  {report.line()}\n  first batch's result after {first:.0f}s (the cluster's start and "
        f"the whole plan); driver peak RSS {driver_peak:.0f} MB; object store peak "
        f"{store_mib:.0f} MiB; spilled {spilled:.0f} MiB"
    )


def _memory_settings(models: Path) -> dict[str, Any]:
    settings = tiny_config_dict(models, run={"batch_articles": 64})
    settings["stages"] = {"translate": None, "summarize": "summarize.extractive"}
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=48, help="articles for 1 vs 2 nodes")
    parser.add_argument("--batches", type=int, default=60, help="model-free batches (overhead)")
    parser.add_argument("--mb", type=float, default=20.0, help="Parquet size for memory (MB)")
    parser.add_argument("--quick", action="store_true", help="16 articles, 30 batches, 8 MB")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the Parquet parts")
    parser.add_argument("--big-mb", type=float, help="also plan a table this big (MB), whole")
    parser.add_argument("--stop-after", type=int, default=20, help="batches of the big table")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.batches, args.mb = 16, 30, 8.0
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = work / "models"
        build_tiny_marian(models / "marian")
        build_tiny_bart(models / "bart")
        if args.big_mb:
            big_part(ray, models, work, args.big_mb, args.stop_after)  # first: its own peak
        if not args.skip_memory:
            memory_part(ray, models, work, args.mb)
        if args.memory_only:
            return

        root = write_articles(work / "articles", args.articles)
        config = load_config(tiny_config_dict(models, run={"batch_articles": 2}))
        print(
            f"\nnodes: {args.articles} articles, batches of 2, tiny models, {os.cpu_count()} cores"
        )
        print(f"{'nodes':>5} {'steady articles/s':>18} {'wall articles/s':>16} {'wall s':>7}")
        rates = {}
        for nodes in (1, 2):
            report, clock, wall = timed_run(ray, config, root, work / f"out-{nodes}", nodes)
            seconds, articles = clock.steady()
            rates[nodes] = articles / seconds
            wall_rate = report.processed / wall
            print(f"{nodes:>5} {rates[nodes]:>18.2f} {wall_rate:>16.2f} {wall:>7.1f}")
        print(f"2 nodes / 1 node (steady): {rates[2] / rates[1]:.2f}x")

        empty = work / "empty"
        empty.mkdir()
        for n in range(args.batches):
            (empty / f"e{n:04d}.txt").write_text("", encoding="utf-8")
        config = load_config(tiny_config_dict(models, run={"batch_articles": 1}))
        print(f"\noverhead: {args.batches} batches that need no model (an empty file each)")
        for nodes in (1, 2):
            _, clock, _ = timed_run(ray, config, empty, work / f"out-empty-{nodes}", nodes)
            seconds, _ = clock.steady()
            per_batch = seconds / (len(clock.times) - 1)
            print(f"  {nodes} node(s): {per_batch * 1000:.1f} ms per batch (driver-side, steady)")


if __name__ == "__main__":
    main()
