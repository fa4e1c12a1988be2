"""What each translation model costs on this machine, before downloading it: random
weights in the real architecture at the real size (no hub access), the translate stage on
both backends, sentences/s and peak resident memory side by side in one run.

    python benchmarks/model_cost.py                       # opus-mt and NLLB-600M, 32 sentences
    python benchmarks/model_cost.py --models opus-mt --sentences 64

Each (model, backend) row runs in its own process, so its peak RSS is that row's alone
(the model built and, for CTranslate2, converted beforehand in another process: the
conversion's memory is not the run's). Output lengths are forced equal (every sentence
decodes exactly --tokens tokens: min = max new tokens, no forced end token), 4 beams, guards
off, threads = physical cores; one warm-up call is not timed. Random weights say nothing
about quality: the README's model table quotes published scores for that.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name -> (builder in tests.support.tiny_models, what it stands for)
MODELS = {
    "opus-mt": ("build_random_marian", "Helsinki-NLP/opus-mt-id-en (Marian 6+6, d 512)"),
    "nllb-600m": ("build_random_nllb", "facebook/nllb-200-distilled-600M (12+12, d 1024)"),
}
BACKENDS = {"torch": "translate.seq2seq", "ctranslate2": "translate.ctranslate2"}


def sentences(count: int) -> list[str]:
    from tests.support.corpus import builtin_pairs

    texts = list(dict.fromkeys(indonesian for indonesian, _ in builtin_pairs()))
    return texts[:count]


def stage(model: Path, backend: str, work: Path, tokens: int) -> Any:
    from pipeline.config import load_config
    from pipeline.translate.stage import TranslateStage

    translate = {
        "model": str(model),
        "local_files_only": True,
        "num_beams": 4,
        "max_new_tokens": tokens,
        "extra": {"min_new_tokens": tokens, "forced_eos_token_id": None},
        "ct2_model_dir": str(work / "ct2"),
        "ct2_compute_type": "int8",
        "dedupe": False,
    }
    config = load_config(
        {
            "run": {"device": "cpu", "progress": "never"},
            "translate": translate,
            "guards": {"enabled": False},
        }
    )
    return TranslateStage(config, name=BACKENDS[backend], backend=backend)  # type: ignore[arg-type]


def prepare(name: str, work: Path, tokens: int) -> None:
    """Build the random model once, and convert it for CTranslate2 (not measured)."""
    import tests.support.tiny_models as builders

    folder = work / name
    if not (folder / "config.json").exists():
        getattr(builders, MODELS[name][0])(folder)
    stage(folder, "ctranslate2", work, tokens).load()


def measure(name: str, backend: str, work: Path, count: int, tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    translator = stage(work / name, backend, work, tokens)
    translator.load()
    loaded = time.perf_counter() - started
    texts = sentences(count + 2)
    translator.translate_texts(texts[:2])  # warm-up
    started = time.perf_counter()
    outputs = translator.translate_texts(texts[2:])
    elapsed = time.perf_counter() - started
    row = {
        "model": name,
        "backend": backend,
        "sentences_per_s": len(outputs) / elapsed,
        "tokens_per_sentence": sum(o.output_tokens for o in outputs.values()) / len(outputs),
        "load_s": loaded,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if backend == "torch":
        model = translator.backend.loaded.model
        row["parameters_m"] = sum(p.numel() for p in model.parameters()) / 1e6
    return row


def child(args: list[str]) -> list[str]:
    return [sys.executable, __file__, *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sentences", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=24, help="output tokens per sentence")
    parser.add_argument("--work", type=Path, help="keep built models here (default: temp)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, name, work = args.child[0], args.child[1], Path(args.child[2])
        if mode == "prepare":
            prepare(name, work, args.tokens)
        else:
            row = measure(name, args.child[3], work, args.sentences, args.tokens)
            print(json.dumps(row))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="id2en-model-cost-"))
    names = [n for n in args.models.split(",") if n]
    rows = []
    quiet = {"stderr": subprocess.DEVNULL}
    for name in names:
        common = ["--tokens", str(args.tokens), "--sentences", str(args.sentences)]
        subprocess.run(child([*common, "--child", "prepare", name, str(work)]), check=True, **quiet)
        for backend in BACKENDS:
            out = subprocess.run(
                child([*common, "--child", "measure", name, str(work), backend]),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
    cores = os.cpu_count()
    print(
        f"random weights, real architectures; {args.sentences} Indonesian sentences, "
        f"{args.tokens} output tokens each, 4 beams, CPU ({cores} CPUs, load "
        f"{os.getloadavg()[0]:.1f}); torch float32, CTranslate2 int8"
    )
    print("| model | parameters | backend | sentences/s | peak RSS MB | load s |")
    print("|---|---|---|---|---|---|")
    params = {r["model"]: r.get("parameters_m") for r in rows if "parameters_m" in r}
    for row in rows:
        print(
            f"| {MODELS[row['model']][1]} | {params.get(row['model'], 0):.0f}M | "
            f"{row['backend']} | {row['sentences_per_s']:.2f} | {row['peak_rss_mb']:.0f} | "
            f"{row['load_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
