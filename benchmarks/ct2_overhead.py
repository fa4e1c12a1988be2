"""id2en's CTranslate2 backend vs the raw library, interleaved in one process.

pipeline_speed.py's raw-ct2 row runs in its own process, so its overhead line carries
process-to-process noise (on a shared 2-core machine, +-15% between identical runs). This
replays the same recorded calls (`pipeline_speed.py --work DIR` writes calls-<kind>.json
from its id2en-ct2 row) through id2en's backend (`Backend.generate`: tokens, batching,
options, decoding of the outputs, scores) and through `Translator.translate_batch` alone,
alternating, on the same loaded model, and compares the fastest of N rounds of each.

    python benchmarks/pipeline_speed.py --quick --work /tmp/ps --rows id2en-ct2
    python benchmarks/ct2_overhead.py --work /tmp/ps --kind over --rounds 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pipeline_speed

from pipeline.registry import build_stage


def replayers(stage: Any, calls: list[dict], budget: int) -> dict[str, Any]:
    backend = stage.backend

    def ours() -> None:
        for call in calls:
            backend.generate(call["ids"], call["settings"])

    # The raw side prepares tokens and options outside the timing, as the raw-ct2 row does.
    raw = pipeline_speed.raw_replay(backend.translator, backend.tokenizer, calls, budget)
    return {"id2en": ours, "raw": raw}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="pipeline_speed.py's --work")
    parser.add_argument("--kind", default="within", choices=["within", "over"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    extra = ["--threads", str(args.threads)] if args.threads else []
    ctx = pipeline_speed.parse_args(["--work", str(args.work), *extra])
    ctx.work = args.work
    config = pipeline_speed.id2en_config(ctx, "translate.ctranslate2", "summarize.ctranslate2")
    calls = json.loads((args.work / f"calls-{args.kind}.json").read_text())
    print(f"{args.kind}: fastest of {args.rounds} interleaved rounds, {ctx.threads} threads")
    for family, budget in pipeline_speed.RAW_BATCH_TOKENS.items():
        stage = build_stage(family, config)
        stage.load()
        runs = replayers(stage, calls[family], budget // ctx.beams)
        runs["id2en"]()  # warm-up, untimed
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - started)
        best = {name: min(values) for name, values in seconds.items()}
        spread = {name: f"{min(v):.2f}-{max(v):.2f} s" for name, v in seconds.items()}
        print(
            f"  {family}: id2en {spread['id2en']}, raw {spread['raw']}; "
            f"overhead {best['id2en'] / best['raw'] - 1:+.1%} (fastest vs fastest)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
