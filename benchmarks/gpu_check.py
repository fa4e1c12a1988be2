"""The translation speed table on one CUDA GPU, plus a memory-pressure case (under 5 min).

    python benchmarks/gpu_check.py              # 256 sentences, beam 4
    python benchmarks/gpu_check.py --quick      # 128 sentences

Same model, workload and fairness rules as benchmarks/translate_speed.py (random weights,
real opus-mt-id-en architecture, output lengths forced equal, interleaved rounds), with the
GPU engines: naive generate() in fp16, id2en torch fp16 and bf16, id2en CTranslate2
float16 and int8_float16, and raw CTranslate2 float16 on the same token ids.

Memory pressure: most of the GPU's memory is taken by a blocker tensor, leaving a few GiB,
and id2en torch fp16 is given a token budget far larger than fits. With
adapt_batch_to_memory on (the default) the budget shrinks to what free memory holds; with
it off, out-of-memory errors halve the batch until it fits. Both must finish every sentence.

Then the whole pipeline (benchmarks/pipeline_speed.py --quick --device cuda): split,
translate and summarize end to end with the same rows as on CPU (notebook, transformers by
hand, id2en torch in half precision on both loops, id2en CTranslate2 int8_float16 for both
stages, raw CTranslate2 on the same token ids, extractive), each in a fresh process.
`--no-pipeline` skips it.

Without a CUDA GPU it stops at once with a clear message (exit status 2).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import translate_speed as bench

logger = logging.getLogger("gpu_check")


def require_cuda() -> tuple[str, bool]:
    """(device name, whether CTranslate2 sees the GPU too); exits 2 without CUDA."""
    import torch

    if not torch.cuda.is_available():
        print(
            f"gpu_check: no CUDA GPU visible to torch {torch.__version__} (CUDA build: "
            f"{torch.version.cuda or 'none'}); run it on a GPU machine with a CUDA build of "
            "torch. For CPU numbers use benchmarks/translate_speed.py.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    try:
        import ctranslate2

        ct2_gpu = ctranslate2.get_cuda_device_count() > 0
    except ImportError:
        ct2_gpu = False
    return torch.cuda.get_device_name(0), ct2_gpu


def gpu_engines(ctx: argparse.Namespace, workload: bench.Workload, ct2: bool) -> list[Any]:
    engines = [
        bench.naive_engine(ctx, workload),
        bench.sorted_batches_engine(ctx, workload),
        bench.stage_engine("id2en torch fp16", ctx, workload),
        bench.stage_engine("... transformers' loop", ctx, workload, search_loop="transformers"),
        bench.stage_engine("id2en torch bf16", ctx, workload, dtype="bfloat16"),
    ]
    if ct2:
        engines += [
            bench.stage_engine(
                "id2en ct2 float16", ctx, workload, ct2=True, ct2_compute_type="float16"
            ),
            bench.stage_engine(
                "id2en ct2 int8_float16", ctx, workload, ct2=True, ct2_compute_type="int8_float16"
            ),
            bench.raw_ct2_engine("raw ct2 float16", ctx, workload, "id2en ct2 float16", "float16"),
        ]
    return engines


def memory_pressure(ctx: argparse.Namespace, workload: bench.Workload, leave_gib: float) -> str:
    """Huge budget, little free memory: adaptive budget vs out-of-memory halving."""
    import torch

    from pipeline.translate.stage import TranslateStage

    rows = [
        "| memory pressure | sentences | seconds | OOM retries | budgets used |",
        "|---|---|---|---|---|",
    ]
    texts = [f"{t} ({n})" for n in range(4) for t in workload.texts]  # 4x the workload, distinct
    for adapt in (True, False):
        stage = TranslateStage(
            bench.id2en_config(
                ctx,
                workload,
                max_batch_tokens=400_000,
                max_batch_sentences=4096,
                adapt_batch_to_memory=adapt,
                dedupe_memory=0,
            )
        )
        stage.translate_texts(bench.WARM_UP)
        torch.cuda.empty_cache()
        free, _ = torch.cuda.mem_get_info()
        blocker = torch.empty(
            max(0, free - int(leave_gib * 2**30)), dtype=torch.uint8, device="cuda"
        )
        try:
            started = time.perf_counter()
            out = stage.translate_texts(texts)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - started
        finally:
            del blocker
            torch.cuda.empty_cache()
        generator = stage.backend  # type: ignore[attr-defined]
        budgets = generator.memory_budget.history if generator.memory_budget else []
        shown = (
            f"{min(budgets)}-{max(budgets)}"
            if budgets
            else f"halved to {generator.max_batch_tokens}"
        )
        rows.append(
            f"| adapt_batch_to_memory={adapt} | {len(out)}/{len(texts)} | {seconds:.1f} "
            f"| {generator.oom_retries} | {shown} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--leave-gib", type=float, default=3.0, help="free memory left (pressure)")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--no-pipeline", dest="pipeline", action="store_false")
    own = parser.parse_known_args(argv)[0]
    name, ct2 = require_cuda()
    ctx = bench.parse_args(["--sentences", "128" if own.quick else "256", "--naive-every", "8"])
    ctx.device, ctx.dtype, ctx.work, ctx.shortlist = "cuda", "float16", own.work, False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("transformers", "pipeline", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        workload = bench.prepare(ctx, stack)
        ctx.max_batch_tokens, ctx.max_batch_sentences = 48_000, 256  # configs/gpu.yaml
        engines = gpu_engines(ctx, workload, ct2)
        bench.measure(engines, workload, ctx)
        reference = "raw ct2 float16" if ct2 else "id2en torch fp16"
        print(f"\nGPU: {name}" + ("" if ct2 else " (ctranslate2 sees no GPU: its rows skipped)"))
        bench.print_report(engines, workload, ctx, reference, started, 0.0)
        print()
        print(memory_pressure(ctx, workload, own.leave_gib))
    if own.pipeline:
        import pipeline_speed

        print("\nWhole pipeline on CUDA (benchmarks/pipeline_speed.py --quick --device cuda):")
        sys.stdout.flush()
        pipeline_speed.main(["--quick", "--device", "cuda"])
    print(f"\ntotal wall time {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
