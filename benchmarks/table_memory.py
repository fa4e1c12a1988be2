"""Peak memory of reading a big Parquet table the way `id2en run` does, beside reading it whole.

Writes a Parquet file of Indonesian sentences from the shared data (rows of several
sentences each, row groups as pyarrow writes them), then, each in a fresh process:
  stream: discover (ids only) + read_article for every row in order, as a run's read path
  whole:  pyarrow.parquet.read_table + to_pylist, what "reading it whole" would cost
and prints each one's peak RSS (VmHWM) and the ratio. No models: memory of the input path.

    python benchmarks/table_memory.py --quick        # ~100 MB file
    python benchmarks/table_memory.py --gb 2         # a bigger one
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import shared_data

CHILD = """
import sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
start = time.perf_counter()
chars = rows = 0
if mode == "stream":
    from pipeline.inputs.reader import discover, read_article
    items = discover(path)
    for item in items:
        chars += len(read_article(item).text)
        rows += 1
else:
    import pyarrow.parquet as pq
    for row in pq.read_table(path).to_pylist():
        chars += len(row["text"])
        rows += 1
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(rows, chars, int(peak) // 1024, round(time.perf_counter() - start, 1))
"""


def _sentences() -> list[str]:
    with shared_data.SHARED_SENTENCES.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def write_table(path: Path, target_bytes: int, seed: int = 0) -> int:
    """Rows of 8-30 random shared sentences until the file is about target_bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    pool = _sentences()
    rows = 0
    with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("text", pa.string())])) as out:
        while not path.exists() or path.stat().st_size < target_bytes:
            texts = [" ".join(rng.choices(pool, k=rng.randint(8, 30))) for _ in range(20_000)]
            ids = [f"a{rows + n}" for n in range(len(texts))]
            out.write_table(pa.table({"id": ids, "text": texts}))
            rows += len(texts)
    return rows


def measure(mode: str, path: Path) -> tuple[int, int, int, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True, check=True
    )
    rows, chars, peak_mb, seconds = done.stdout.split()
    return int(rows), int(chars), int(peak_mb), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="file size to write (GB)")
    parser.add_argument("--quick", action="store_true", help="a ~100 MB file")
    parser.add_argument("--keep", type=Path, default=None, help="write the file here, keep it")
    parser.add_argument(
        "--stream-only", action="store_true", help="skip reading it whole (needs ~5x its size)"
    )
    args = parser.parse_args()
    target = int((0.1 if args.quick else args.gb) * 1e9)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big.parquet"
        started = time.perf_counter()
        rows = write_table(path, target)
        size = path.stat().st_size
        seconds = time.perf_counter() - started
        print(f"wrote {path.name}: {size / 1e9:.2f} GB, {rows} rows, in {seconds:.0f} s")
        modes = ("stream",) if args.stream_only else ("stream", "whole")
        results = {mode: measure(mode, path) for mode in modes}
    for mode, (n, chars, peak, seconds) in results.items():
        print(f"{mode:>6}: {n} rows, {chars / 1e9:.2f} G chars, peak RSS {peak} MB, {seconds} s")
    if "whole" in results:
        print(f"peak RSS stream/whole: {results['stream'][2] / results['whole'][2]:.2f}")


if __name__ == "__main__":
    main()
