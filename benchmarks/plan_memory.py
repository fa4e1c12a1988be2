"""A run's plan on a big table: the memory and time of listing every row and reading the
batches back, for this checkout and (with --before) an older one, side by side in one run.

Each measurement runs in its own process, its peak RSS (Linux's VmHWM, reset once the
imports are done) its own: discover the input,
plan the run into an empty output folder, read every batch back, as an engine's driver
does before and during a run. The table is one Parquet file of short rows (id, text); the
driver's cost per row is the growth between two sizes.

    python benchmarks/plan_memory.py                        # 100,000 and 400,000 rows
    git worktree add /tmp/before eefa974
    python benchmarks/plan_memory.py --before /tmp/before   # the plan that held every row
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh process with the tree to measure first on sys.path.
_MEASURE = """
import inspect, json, sys, time
sys.path.insert(0, sys.argv[1])
from pipeline.config import load_config
from pipeline.engines import plan as planning
from pipeline.storage.objects import location

table, out = sys.argv[2], location(sys.argv[3])
config = load_config({"stages": {"translate": None, "summarize": None},
                      "run": {"batch_articles": 64, "progress": "never"}})
def status(field):
    with open("/proc/self/status") as lines:
        return int(next(l for l in lines if l.startswith(field)).split()[1]) / 1024
with open("/proc/self/clear_refs", "w") as refs:  # the peak (VmHWM) from here on
    refs.write("5")
before = status("VmRSS")
started = time.perf_counter()
inputs = planning.discover_inputs(config, table, out)
if "items" in inspect.signature(planning.plan_run).parameters:  # the plan of a list
    plan = planning.plan_run(out, inputs.items, config)
    batches = sum(1 for _ in plan.groups)
else:
    plan = planning.plan_run(out, inputs, config)
    batches = sum(1 for _ in plan.groups())
seconds = time.perf_counter() - started
peak = status("VmHWM")
print(json.dumps({"batches": batches, "seconds": seconds, "grown_mb": peak - before,
                  "peak_mb": peak}))
"""


def write_table(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"berita-{n:07d}" for n in range(rows)]
    texts = [f"Kalimat nomor {n} di sini. Harga beras naik lagi." for n in range(rows)]
    pq.write_table(pa.table({"id": ids, "text": texts}), path)


def measure(tree: Path, table: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tree), str(table), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="the smaller table's rows")
    parser.add_argument("--before", type=Path, help="an older checkout to measure beside")
    args = parser.parse_args()
    trees = {"this checkout": ROOT, **({"before": args.before} if args.before else {})}
    sizes = (args.rows, 4 * args.rows)
    print(f"planning a Parquet table of short rows, batches of 64; {sizes[0]:,} and {sizes[1]:,}")
    print(f"{'tree':<14} {'rows':>9} {'seconds':>8} {'peak RSS MB':>12} {'grown MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tables = {}
        for rows in sizes:
            tables[rows] = work / f"t{rows}" / "table.parquet"
            tables[rows].parent.mkdir()
            write_table(tables[rows], rows)
        slopes = {}
        for name, tree in trees.items():
            grown = []
            for rows in sizes:
                result = measure(tree, tables[rows], work / f"out-{name}-{rows}")
                grown.append(result["grown_mb"])
                print(
                    f"{name:<14} {rows:>9,} {result['seconds']:>8.1f} {result['peak_mb']:>12.0f} "
                    f"{result['grown_mb']:>9.0f}"
                )
            slopes[name] = (grown[1] - grown[0]) * 1024 / (sizes[1] - sizes[0])
        for name, slope in slopes.items():
            print(f"{name}: {slope:.3f} KB per row ({slope * 1.7e6 / 1024:,.0f} MB for 1.7M rows)")


if __name__ == "__main__":
    main()
