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

Then the whole pipeline (benchmarks/pipeline_speed.py's rows, --quick, on cuda): split,
translate and summarize end to end with the same rows as on CPU (notebook, transformers by
hand, id2en torch in half precision on both loops, id2en CTranslate2 int8_float16 for both
stages, raw CTranslate2 on the same token ids, extractive), each in a fresh process, with
each row's peak GPU memory (device memory in use while its process ran, above what was in
use before it started). `--no-pipeline` skips it.

An engine or row that fails (CTranslate2 wheels built for another CUDA, say) is reported
and left out; the rest still run. The CTranslate2 rows run only where CTranslate2 sees the
GPU and a first translation on it works. Without ../shared the pipeline rows read the
built-in sentences (tests/support/corpus.py).

Without a CUDA GPU it stops at once with a clear message (exit status 2); `--device cpu`
runs the same steps on the CPU (small settings, no memory pressure) to try the script.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import logging
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import translate_speed as bench

logger = logging.getLogger("gpu_check")


def require_cuda() -> str:
    """The device name; exits 2 without CUDA."""
    import torch

    if not torch.cuda.is_available():
        print(
            f"gpu_check: no CUDA GPU visible to torch {torch.__version__} (CUDA build: "
            f"{torch.version.cuda or 'none'}); run it on a GPU machine with a CUDA build of "
            "torch. For CPU numbers use benchmarks/translate_speed.py.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return torch.cuda.get_device_name(0)


def ct2_facts() -> dict[str, Any]:
    """What CTranslate2 says about the GPU. A count > 0 does not prove that its CUDA
    libraries load (a wheel built for CUDA 12 opens libcublas.so.12 at the first
    translation): ct2_probe() translates once to find out."""
    try:
        import ctranslate2
    except ImportError as exc:
        return {"installed": False, "error": str(exc), "cuda_device_count": 0}
    facts: dict[str, Any] = {"installed": True, "version": ctranslate2.__version__}
    try:
        facts["cuda_device_count"] = int(ctranslate2.get_cuda_device_count())
        if facts["cuda_device_count"]:
            facts["cuda_compute_types"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
    except Exception as exc:  # a broken CUDA install shows here
        facts["cuda_device_count"] = 0
        facts["error"] = f"{type(exc).__name__}: {exc}"
    for library in ("libcublas.so.12", "libcublas.so.13"):
        try:
            ctypes.CDLL(library)
            facts[library] = "loads"
        except OSError:
            facts[library] = "not found"
    return facts


PROBE = """
import sys
import ctranslate2
from pipeline.generation.ctranslate2_models import converter_class
model, out, device, compute = sys.argv[1:5]
converter_class()(model).convert(out, quantization="int8", force=True)
translator = ctranslate2.Translator(out, device=device, compute_type=compute)
result = translator.translate_batch([["\u2581Saya", "\u2581makan", "</s>"]], beam_size=2,
                                    max_decoding_length=4)
print("ok", result[0].hypotheses[0])
"""


def ct2_probe(work: Path, device: str) -> str:
    """One translation by CTranslate2 on `device`, in a child process (a library that cannot
    load would take this one down): 'ok ...', or why not."""
    from tests.support.tiny_models import build_tiny_marian

    model = work / "probe-marian"
    if not (model / "config.json").exists():
        build_tiny_marian(model)
    compute = "int8_float16" if device == "cuda" else "int8"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", PROBE, str(model), str(work / "probe-ct2"), device, compute]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    except subprocess.TimeoutExpired:
        return "timed out after 180 s"
    if done.returncode == 0 and done.stdout.startswith("ok"):
        return done.stdout.strip().splitlines()[-1]
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return f"exit {done.returncode}: " + " | ".join(tail)


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


def usable_engines(engines: list[Any], failures: list[str]) -> list[Any]:
    """Load each engine once (its warm-up translates: CUDA libraries load then); one that
    fails is reported in `failures` and left out, with the engines that replay its model."""
    kept: list[Any] = []
    for engine in engines:
        started = time.perf_counter()
        try:
            runner = engine.load()
        except Exception as exc:
            logger.warning("engine %s failed to load: %s", engine.name, exc)
            failures.append(f"{engine.name}: {type(exc).__name__}: {_first_line(exc)}")
            continue
        engine.load = lambda runner=runner: runner  # measure() calls load() again
        logger.info("loaded %s in %.1fs", engine.name, time.perf_counter() - started)
        kept.append(engine)
    return kept


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


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


# ------------------------------------------------------------------ the whole pipeline

# pipeline_speed's rows the docstring names (id2en -c cpu-fast's select row is a CPU config)
PIPELINE_ROWS = [
    "notebook",
    "by-hand",
    "id2en-fp32",
    "id2en-fp32-hf-loop",
    "id2en-ct2",
    "raw-ct2",
    "ct2-extractive",
]
CT2_ROWS = {"id2en-ct2", "raw-ct2", "id2en-ct2-select", "ct2-extractive"}


def ensure_sentences(work: Path) -> str:
    """pipeline_speed reads its articles from the shared sentence file; without ../shared,
    point ID2EN_SENTENCE_DATA (inherited by its row processes) at the built-in sentences."""
    import shared_data

    if shared_data.SHARED_SENTENCES.is_file():
        return str(shared_data.SHARED_SENTENCES)
    from tests.support.corpus import builtin_pairs

    folder = work / "builtin-sentences"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "sentences.jsonl"
    with target.open("w", encoding="utf-8") as fh:
        for text, english in builtin_pairs():
            fh.write(json.dumps({"text": text, "text_en": english}, ensure_ascii=False) + "\n")
    os.environ["ID2EN_SENTENCE_DATA"] = str(folder)
    shared_data.SHARED_SENTENCES = target
    return f"{target} (built-in sentences: no ../shared)"


class DeviceMemory:
    """Peak device memory in use (all processes: mem_get_info), sampled every 20 ms."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def used() -> int:
        import torch

        free, total = torch.cuda.mem_get_info()
        return int(total - free)

    def __enter__(self) -> DeviceMemory:
        if self.cuda:
            self.base = self.peak = self.used()
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.used())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def above_base_mb(self) -> float | None:
        return (self.peak - self.base) / 2**20 if self.cuda else None


def pipeline_rows(
    work: Path, device: str, rows: list[str], kinds: list[str], deadline: float
) -> list[str]:
    """pipeline_speed's rows, each in a fresh process, as its main() runs them, but a row
    that fails is reported and skipped, and each row's peak GPU memory is kept. Rows not
    started by `deadline` (time.monotonic()) are skipped. Returns the failures."""
    import pipeline_speed

    failures: list[str] = []
    ctx = pipeline_speed.parse_args(["--quick", "--device", device, "--work", str(work)])
    ctx.work = work.resolve()
    ctx.work.mkdir(parents=True, exist_ok=True)
    print(f"  sentences: {ensure_sentences(ctx.work)}")
    started = time.perf_counter()
    pipeline_speed.build_models(ctx.work)
    print(f"  models ready in {time.perf_counter() - started:.0f}s ({ctx.work})", flush=True)
    ctx.passthrough = pipeline_speed.passthrough(ctx)
    print(f"  {pipeline_speed.describe_workload(ctx)}")
    for kind in kinds:
        results: dict[str, dict] = {}
        for row in rows:
            if row == "notebook" and kind == "over":
                continue  # as pipeline_speed: the notebook truncates, over the window too
            if row == "raw-ct2" and "id2en-ct2" not in results:
                failures.append(f"{kind} raw-ct2: skipped (replays id2en-ct2's calls, not run)")
                continue
            if time.monotonic() > deadline:
                failures.append(f"{kind} {row}: skipped (gpu_check's --deadline-s reached)")
                continue
            try:
                with DeviceMemory(device == "cuda") as memory:
                    result = pipeline_speed.child(ctx, row, kind)
            except Exception as exc:
                failures.append(f"{kind} {row}: {_first_line(exc)}")
                print(f"  {kind} {row}: FAILED\n{exc}", flush=True)
                continue
            result["peak_gpu_mb"] = memory.above_base_mb
            results[row] = result
            print(f"  {kind} {row}: {sum(result['seconds'].values()):.1f} s", flush=True)
        if not results:
            continue
        print()
        print(pipeline_speed.table(kind, results, ctx.articles))
        line = pipeline_speed.overheads(results)
        if line:
            print(line)
        print()
        print(gpu_table(kind, results, ctx.articles))
        print()
    return failures


def gpu_table(kind: str, results: dict[str, dict], count: int) -> str:
    """articles/s, x the transformers-by-hand row, and each row's peak GPU memory."""
    by_hand = results.get("by-hand")
    base = count / sum(by_hand["seconds"].values()) if by_hand else None
    lines = [
        f"| {kind}: row | articles/s | x by hand | wall s | peak GPU MB (above the parent's) "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for row, result in results.items():
        wall = sum(result["seconds"].values())
        rate = count / wall
        gpu = result.get("peak_gpu_mb")
        lines.append(
            f"| {row} | {rate:.3f} | {f'{rate / base:.2f}x' if base else '-'} | {wall:.1f} "
            f"| {f'{gpu:.0f}' if gpu is not None else '-'} | {result['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:  # noqa: C901  (one step after another)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--leave-gib", type=float, default=3.0, help="free memory left (pressure)")
    parser.add_argument("--work", type=Path, default=None, help="keep models here (reused)")
    parser.add_argument("--no-pipeline", dest="pipeline", action="store_false")
    parser.add_argument("--no-translation", dest="translation", action="store_false")
    parser.add_argument("--no-pressure", dest="pressure", action="store_false")
    parser.add_argument("--sentences", type=int, default=None, help="default 256 (quick: 128)")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--pipeline-rows", default=",".join(PIPELINE_ROWS))
    parser.add_argument("--pipeline-kinds", default="within,over")
    parser.add_argument(
        "--deadline-s", type=float, default=None, help="start no pipeline row after N s"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="also write the facts and failures here"
    )
    parser.add_argument(
        "--device",
        choices=["cuda", "cpu"],
        default="cuda",
        help="cpu: try the script without a GPU (no memory pressure; float32)",
    )
    own = parser.parse_args(argv)
    cuda = own.device == "cuda"
    name = require_cuda() if cuda else "none (--device cpu)"
    ct2 = ct2_facts()
    sentences = own.sentences or (128 if own.quick else 256)
    ctx = bench.parse_args(
        ["--sentences", str(sentences), "--naive-every", "8", "--beams", str(own.beams)]
    )
    ctx.device, ctx.dtype, ctx.shortlist = own.device, "float16" if cuda else "float32", False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("transformers", "pipeline", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.perf_counter()
    deadline = time.monotonic() + (own.deadline_s if own.deadline_s else 10**9)
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        if own.work is None:
            import tempfile

            own.work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="id2en-gpu-")))
        own.work.mkdir(parents=True, exist_ok=True)
        ctx.work = own.work
        if ct2["installed"] and (ct2["cuda_device_count"] > 0 or not cuda):
            ct2["probe"] = ct2_probe(own.work, own.device)
        ct2_gpu = ct2.get("probe", "").startswith("ok")
        print(f"GPU: {name}; CTranslate2: {json.dumps(ct2)}", flush=True)
        if not ct2_gpu:
            failures.append(f"CTranslate2 on {own.device}: {ct2.get('probe') or ct2}")
        if own.translation:
            workload = bench.prepare(ctx, stack)
            ctx.max_batch_tokens, ctx.max_batch_sentences = 48_000, 256  # configs/gpu.yaml
            engines = usable_engines(gpu_engines(ctx, workload, ct2_gpu), failures)
            if cuda:  # on the CPU (a try-out) float16 is not a CPU type: rows kept
                ct2_gpu = ct2_gpu and any("ct2" in e.name for e in engines)
            by_hand = "transformers sorted, 32/batch"
            if not ct2_gpu:
                print("CTranslate2 rows left out: " + "; ".join(failures))
            try:
                bench.measure(engines, workload, ctx)
                print(f"\nGPU: {name}")
                bench.print_report(engines, workload, ctx, by_hand, started, 0.0)
                reference = "raw ct2 float16"
                if any(e.name == reference for e in engines):
                    print("\nthe same rows against raw CTranslate2 float16:\n")
                    print(bench.table(engines, reference))
            except Exception:
                failures.append(f"translation table: {traceback.format_exc(limit=3)}")
                traceback.print_exc()
            del engines
            gc.collect()
            if own.pressure and cuda:
                try:
                    print()
                    print(memory_pressure(ctx, workload, own.leave_gib), flush=True)
                except Exception:
                    failures.append(f"memory pressure: {traceback.format_exc(limit=3)}")
                    traceback.print_exc()
            if cuda:
                import torch

                gc.collect()
                torch.cuda.empty_cache()
        if own.pipeline:
            rows = [r for r in own.pipeline_rows.split(",") if r]
            if not ct2_gpu:
                rows = [r for r in rows if r not in CT2_ROWS]
            print(f"\nWhole pipeline on {own.device} (benchmarks/pipeline_speed.py --quick rows):")
            sys.stdout.flush()
            failures += pipeline_rows(
                own.work / "pipeline", own.device, rows, own.pipeline_kinds.split(","), deadline
            )
    print(f"\ngpu_check wall time {time.perf_counter() - started:.0f}s")
    if failures:
        print("\nfailed or left out:\n" + "\n".join(f"- {f}" for f in failures))
    if own.json:
        facts = {"gpu": name, "ctranslate2": ct2, "ct2_rows": ct2_gpu, "failures": failures}
        own.json.write_text(json.dumps(facts, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
