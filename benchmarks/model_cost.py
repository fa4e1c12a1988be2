"""What each model costs on this machine, before downloading it: random weights in the real
architecture at the real size (no hub access), each stage on both backends, throughput and
peak resident memory side by side in one run.

    python benchmarks/model_cost.py                          # every model below
    python benchmarks/model_cost.py --models opus-mt,nllb-600m --sentences 64

Translators (sentences/s): opus-mt-id-en, NLLB-200-distilled-600M, M2M-100 418M (torch and
CTranslate2), quickmt-id-en and MADLAD-400-3B (CTranslate2 only: quickmt ships no torch
model; MADLAD's float32 torch model, about 11 GB, does not fit this benchmark's memory, so
it is written directly as a CTranslate2 int8 model, see random_ct2.py). Summarizers
(articles/s, each article about --input-tokens tokens of English, within every model's
window so each is one pass): distilbart-cnn-12-6, pegasus-cnn_dailymail, flan-t5-base.

Each (model, backend) row runs in its own process, so its peak RSS is that row's alone (the
model built and, for CTranslate2, converted beforehand in another process: the
conversion's memory is not the run's). Output lengths are forced equal (every output
decodes exactly --tokens tokens: min = max new tokens, no forced end token), 4 beams,
guards off, threads = physical cores; one warm-up call is not timed. torch runs float32,
CTranslate2 int8. Random weights say nothing about quality: the README's model table
quotes published scores for that.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


@dataclass(frozen=True)
class Model:
    stands_for: str
    builder: str  # a tests.support.tiny_models function, or "ct2:NAME" in random_ct2
    stage: str = "translate"  # or "summarize"
    backends: tuple[str, ...] = ("torch", "ctranslate2")
    settings: dict[str, Any] = field(default_factory=dict)


MODELS = {
    "opus-mt": Model("Helsinki-NLP/opus-mt-id-en (Marian 6+6, d 512)", "build_random_marian"),
    "nllb-600m": Model("facebook/nllb-200-distilled-600M (12+12, d 1024)", "build_random_nllb"),
    "m2m100-418m": Model("facebook/m2m100_418M (12+12, d 1024)", "build_random_m2m100"),
    "quickmt-id-en": Model(
        "quickmt/quickmt-id-en (8+2, d 1024)", "ct2:QUICKMT_ID_EN", backends=("ctranslate2",)
    ),
    # The "<2en> " prefix MADLAD needs; a native folder's tokenizer splits it into pieces.
    "madlad-3b": Model(
        "google/madlad400-3b-mt (T5 32+32, d 1024)",
        "ct2:MADLAD400_3B",
        backends=("ctranslate2",),
        settings={"source_prefix": "<2en> "},
    ),
    "distilbart": Model(
        "sshleifer/distilbart-cnn-12-6 (12+6, d 1024)", "build_random_distilbart", "summarize"
    ),
    "pegasus-cnn": Model(
        "google/pegasus-cnn_dailymail (16+16, d 1024)", "build_random_pegasus", "summarize"
    ),
    "flan-t5-base": Model(
        "google/flan-t5-base (T5 12+12, d 768)", "build_random_flan_t5_base", "summarize"
    ),
}
STAGES = {
    ("translate", "torch"): "translate.seq2seq",
    ("translate", "ctranslate2"): "translate.ctranslate2",
    ("summarize", "torch"): "summarize.seq2seq",
    ("summarize", "ctranslate2"): "summarize.ctranslate2",
}


def sentences(count: int) -> list[str]:
    from tests.support.corpus import builtin_pairs

    texts = list(dict.fromkeys(indonesian for indonesian, _ in builtin_pairs()))
    return texts[:count]


def stage(name: str, backend: str, work: Path, tokens: int) -> Any:
    from pipeline.config import load_config
    from pipeline.summarize.stage import SummarizeStage
    from pipeline.translate.stage import TranslateStage

    model = MODELS[name]
    settings = {
        "model": str(work / name),
        "local_files_only": True,
        "num_beams": 4,
        "max_new_tokens": tokens,
        "min_length": 0,
        "extra": {"min_new_tokens": tokens, "forced_eos_token_id": None},
        "ct2_model_dir": str(work / "ct2"),
        "ct2_compute_type": "int8",
        **model.settings,
    }
    if model.stage == "translate":
        settings["dedupe"] = False
    config = load_config(
        {
            "run": {"device": "cpu", "progress": "never"},
            model.stage: settings,
            "guards": {"enabled": False},
        }
    )
    cls = TranslateStage if model.stage == "translate" else SummarizeStage
    return cls(config, name=STAGES[model.stage, backend], backend=backend)  # type: ignore[arg-type]


def prepare(name: str, work: Path, tokens: int) -> None:
    """Build the random model once, and convert it for CTranslate2 (not measured)."""
    import random_ct2

    import tests.support.tiny_models as builders

    model, folder = MODELS[name], work / name
    if model.builder.startswith("ct2:"):
        if not (folder / "model.bin").exists():
            dims = getattr(random_ct2, model.builder.removeprefix("ct2:"))
            count = random_ct2.write_random_ct2(folder, dims)
            (folder / "parameters.json").write_text(json.dumps(count))
        return
    if not (folder / "config.json").exists():
        getattr(builders, model.builder)(folder)
    stage(name, "ctranslate2", work, tokens).load()


def articles(summarizer: Any, count: int, input_tokens: int) -> list[Any]:
    """`count` English articles of at most `input_tokens` tokens in this model's tokenizer."""
    from tests.summarize.test_stage import english_article

    sentences = 1
    while summarizer.backend.count_tokens([_english(english_article(sentences + 1))])[0] <= (
        input_tokens
    ):
        sentences += 1
    return [english_article(sentences, f"a{i}") for i in range(count)]


def _english(article: Any) -> str:
    return " ".join(s.en or "" for s in article.sentences)


def measure(name: str, backend: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    model = MODELS[name]
    started = time.perf_counter()
    runner = stage(name, backend, work, args.tokens)
    runner.load()
    loaded = time.perf_counter() - started
    row: dict[str, Any] = {"model": name, "backend": backend, "load_s": loaded}
    if model.stage == "translate":
        texts = sentences(args.sentences + 2)
        runner.translate_texts(texts[:2])  # warm-up
        started = time.perf_counter()
        outputs = runner.translate_texts(texts[2:])
        elapsed = time.perf_counter() - started
        row["per_s"] = len(outputs) / elapsed
        row["tokens_out"] = sum(o.output_tokens for o in outputs.values()) / len(outputs)
        row["tokens_in"] = sum(runner.backend.count_tokens(texts[2:])) / len(outputs)
    else:
        batch = articles(runner, args.articles + 1, args.input_tokens)
        runner(batch[:1])  # warm-up
        started = time.perf_counter()
        runner(batch[1:])
        elapsed = time.perf_counter() - started
        row["per_s"] = args.articles / elapsed
        row["tokens_in"] = runner.backend.count_tokens([_english(batch[1])])[0]
        row["summaries"] = sum(1 for a in batch[1:] if a.summary)
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if backend == "torch":
        torch_model = runner.backend.loaded.model
        row["parameters_m"] = sum(p.numel() for p in torch_model.parameters()) / 1e6
    elif (work / name / "parameters.json").exists():
        row["parameters_m"] = json.loads((work / name / "parameters.json").read_text()) / 1e6
    return row


def child(args: list[str]) -> list[str]:
    return [sys.executable, __file__, *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sentences", type=int, default=32, help="translators: sentences")
    parser.add_argument("--articles", type=int, default=4, help="summarizers: articles")
    parser.add_argument("--input-tokens", type=int, default=480, help="tokens per article")
    parser.add_argument("--tokens", type=int, default=24, help="output tokens per input")
    parser.add_argument("--work", type=Path, help="keep built models here (default: temp)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, name, work = args.child[0], args.child[1], Path(args.child[2])
        if mode == "prepare":
            prepare(name, work, args.tokens)
        else:
            print(json.dumps(measure(name, args.child[3], work, args)))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="id2en-model-cost-"))
    names = [n for n in args.models.split(",") if n]
    common = ["--tokens", str(args.tokens), "--sentences", str(args.sentences)]
    common += ["--articles", str(args.articles), "--input-tokens", str(args.input_tokens)]
    rows, loads = [], []
    for name in names:
        subprocess.run(
            child([*common, "--child", "prepare", name, str(work)]),
            check=True,
            stderr=subprocess.DEVNULL,
        )
        for backend in MODELS[name].backends:
            out = subprocess.run(
                child([*common, "--child", "measure", name, str(work), backend]),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            loads.append(os.getloadavg()[0])
    print(
        f"random weights, real architectures; {os.cpu_count()} CPUs, load average "
        f"{min(loads):.1f}-{max(loads):.1f} while it ran; torch float32, CTranslate2 int8; "
        f"4 beams, {args.tokens} output tokens each"
    )
    print(
        f"translators: {args.sentences} Indonesian sentences; summarizers: {args.articles} "
        f"English articles of about {args.input_tokens} tokens"
    )
    print("| model | parameters | backend | per s | tokens in | peak RSS MB | load s |")
    print("|---|---|---|---|---|---|---|")
    params = {r["model"]: r["parameters_m"] for r in rows if "parameters_m" in r}
    for row in rows:
        unit = "sentences" if MODELS[row["model"]].stage == "translate" else "articles"
        print(
            f"| {MODELS[row['model']].stands_for} | {params.get(row['model'], 0):.0f}M | "
            f"{row['backend']} | {row['per_s']:.2f} {unit} | {row['tokens_in']:.0f} | "
            f"{row['peak_rss_mb']:.0f} | {row['load_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
