"""The whole pipeline (split, translate, summarize) end to end, side by side in one run.

Random weights in the real architectures (opus-mt-id-en; distilbart-cnn-12-6), built once
in a work folder; Indonesian articles made of real sentences from ../shared; output lengths
forced equal everywhere (every translation T tokens, every summary S tokens, beam 4 for
both stages), so every row does the same decoding work. Rows:

- hand-rolled notebook: generate() per sentence, then per article (truncated to 1,024);
- transformers by hand: length-sorted batches of 32 sentences, summaries batched 4
  (truncated);
- id2en torch fp32 (id2en's beam loop; map-reduce summaries), and the same with
  summaries on transformers' loop (the loop distilbart's no_repeat_ngram_size used to need;
  today it adds a teacher-forced pass for the score, so it is not a measure of the old
  release: run a row against an older checkout for that, as CHANGELOG's numbers were);
- id2en torch dynamic int8 (both stages);
- id2en CTranslate2 int8 (both stages, map-reduce: every sentence read);
- raw CTranslate2: the library alone, replaying the token ids and options id2en's
  CTranslate2 row sent to its backends, warm-up calls included (id2en's overhead per stage);
- id2en -c cpu-fast: CTranslate2 int8, and an article over the window summarized in one
  pass over its most central sentences (summarize.long_input: select);
- id2en CTranslate2 translation + extractive summaries, for reference.

Each row runs in a fresh process (its own models, its own peak RSS), for articles within
the summary window and for articles over it. Guards are off (random models trip them and
retries would add work that differs per row). Printed: articles/s, x notebook, each
stage's seconds and share, summary passes per article, peak RSS.

    python benchmarks/pipeline_speed.py --quick   # 1+1 articles, T=16, S=30
    python benchmarks/pipeline_speed.py           # 2+2 articles, T=34, S=60

The full run is the issue's workload: 34 tokens per translated sentence, 60 per summary,
"within" articles of 21 sentences (~750 summary tokens) and "over" ones of 60 (~2,100
tokens: three windows). Both random models are built with a logits bias towards whole
English words of their vocabularies (NON_WORD_BIAS), so a translation re-tokenizes for BART
at about its own length, as real English does (unbiased, they write filler pieces of ~5 BART
tokens each, and even 8 sentences were over the window). Quick mode keeps 16-token
translations, 8 and 72 sentences.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shared_data

from pipeline.generation.models import physical_cores

ROWS = [
    "notebook",
    "by-hand",
    "id2en-fp32",
    "id2en-fp32-hf-loop",
    "id2en-int8",
    "id2en-ct2",
    "raw-ct2",
    "id2en-ct2-select",
    "ct2-extractive",
]
LABELS = {
    "notebook": "hand-rolled notebook (generate per sentence/article, truncated)",
    "by-hand": "transformers by hand (sorted batches 32, summaries 4, truncated)",
    "id2en-fp32": "id2en torch fp32 (id2en loop, map-reduce; fp16/bf16 on CUDA)",
    "id2en-fp32-hf-loop": "id2en torch fp32, summaries on transformers' loop (+ scoring pass)",
    "id2en-int8": "id2en torch dynamic int8 (both stages)",
    "id2en-ct2": "id2en CTranslate2 int8 (both stages, map-reduce; int8_float16 on CUDA)",
    "raw-ct2": "raw CTranslate2 library, same token ids (overhead)",
    "id2en-ct2-select": "id2en -c cpu-fast (CTranslate2 int8, long_input select)",
    "ct2-extractive": "id2en CTranslate2 int8 + extractive summaries",
}
WINDOW = 1024


# ------------------------------------------------------------------------ the workload


def article_sentences(ctx: argparse.Namespace) -> dict[str, list[list[str]]]:
    """Indonesian articles: consecutive real sentences, within and over the window."""
    lines = shared_data.SHARED_SENTENCES.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    texts = [t for t in texts if 40 <= len(t) <= 220]
    cursor, kinds = 0, {}
    for kind, count, size in (
        ("within", ctx.articles, ctx.within_sentences),
        ("over", ctx.articles, ctx.over_sentences),
    ):
        kinds[kind] = []
        for _ in range(count):
            kinds[kind].append(texts[cursor : cursor + size])
            cursor += size
    return kinds


def translate_settings(ctx: argparse.Namespace) -> dict[str, Any]:
    return {
        "num_beams": ctx.beams,
        "max_new_tokens": ctx.translate_tokens,
        "extra": {"min_new_tokens": ctx.translate_tokens},
    }


def summarize_settings(ctx: argparse.Namespace) -> dict[str, Any]:
    # + 1: max_length/min_length count the decoder start token
    return {
        "num_beams": ctx.beams,
        "min_length": ctx.summary_tokens,
        "max_length": ctx.summary_tokens + 1,
    }


def id2en_config(ctx: argparse.Namespace, translator: str, summarizer: str, **extra: Any) -> Any:
    from pipeline.config import load_config

    common = {
        "local_files_only": True,
        "ct2_model_dir": str(ctx.work / "ct2"),
        "max_batch_sentences": 64,
    }
    data = {
        "stages": {"split": "split.rules", "translate": translator, "summarize": summarizer},
        "run": {"device": ctx.device, "threads": ctx.threads, "progress": "never"},
        "translate": {"model": str(ctx.work / "marian"), **common, **translate_settings(ctx)},
        "summarize": {
            "model": str(ctx.work / "distilbart"),
            **common,
            **summarize_settings(ctx),
        },
        "guards": {"enabled": False},
    }
    for section, values in extra.items():
        data[section].update(values)
    return load_config(data)


# ------------------------------------------------------------------------ the rows


class Timer:
    """Wall seconds per stage, and this process's CPU seconds (all threads): on a shared
    machine the CPU seconds show the work done when other tenants squeeze the wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"translate": 0.0, "summarize": 0.0}
        self.cpu: dict[str, float] = {"translate": 0.0, "summarize": 0.0}

    def run(self, stage: str, fn: Callable[[], Any]) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.seconds[stage] += time.perf_counter() - started
        self.cpu[stage] += time.process_time() - cpu
        return result


def hf_models(ctx: argparse.Namespace) -> tuple[Any, ...]:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.set_num_threads(ctx.threads)
    # what a notebook would do: fp32 on CPU, fp16 on a GPU
    dtype = torch.float16 if ctx.device == "cuda" else torch.float32
    marian = AutoModelForSeq2SeqLM.from_pretrained(ctx.work / "marian", dtype=dtype)
    bart = AutoModelForSeq2SeqLM.from_pretrained(ctx.work / "distilbart", dtype=dtype)
    marian, bart = marian.to(ctx.device).eval(), bart.to(ctx.device).eval()
    return (
        AutoTokenizer.from_pretrained(ctx.work / "marian"),
        marian,
        AutoTokenizer.from_pretrained(ctx.work / "distilbart"),
        bart,
    )


def hf_settings(ctx: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings id2en's stages merge (model defaults + the forced lengths), so the
    by-hand rows decode exactly as id2en does."""
    from pipeline.registry import build_stage

    config = id2en_config(ctx, "translate.seq2seq", "summarize.seq2seq")
    translate, summarize = build_stage("translate", config), build_stage("summarize", config)
    return dict(translate.generation_settings), dict(summarize.generation_settings)


def by_hand_row(
    ctx: argparse.Namespace, articles: list[list[str]], batch: int, summaries: int
) -> dict:
    """transformers alone: batch=1/summaries=1 is the notebook, 32/4 sorted batches."""
    import torch

    tok_t, marian, tok_s, bart = hf_models(ctx)
    gen_t, gen_s = hf_settings(ctx)
    timer = Timer()

    def generate(
        model: Any, tok: Any, texts: list[str], size: int, gen: dict, **kw: Any
    ) -> list[str]:
        order = (
            sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            if size > 1
            else range(len(texts))
        )
        order = list(order)
        out: dict[int, str] = {}
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            inputs = tok([texts[i] for i in chunk], return_tensors="pt", padding=True, **kw)
            inputs = inputs.to(ctx.device)
            with torch.inference_mode():
                ids = model.generate(**inputs, **gen)
            for i, text in zip(chunk, tok.batch_decode(ids, skip_special_tokens=True), strict=True):
                out[i] = text
        return [out[i] for i in range(len(texts))]

    # Warm-up, untimed, as every row does: two sentences through each model.
    warm = generate(marian, tok_t, articles[0][:2], batch, gen_t)
    generate(bart, tok_s, [" ".join(warm)], 1, gen_s, truncation=True, max_length=WINDOW)
    english = []
    for sentences in articles:
        english.append(
            " ".join(
                timer.run("translate", lambda s=sentences: generate(marian, tok_t, s, batch, gen_t))
            )
        )
    timer.run(
        "summarize",
        lambda: generate(
            bart, tok_s, english, summaries, gen_s, truncation=True, max_length=WINDOW
        ),
    )
    tokens = [len(tok_s(e)["input_ids"]) for e in english]
    return {
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "passes": [1] * len(articles),
        "summary_input_tokens": tokens,
    }


def id2en_row(
    ctx: argparse.Namespace, articles: list[list[str]], config: Any, record: Path | None = None
) -> dict:
    from pipeline.registry import build_stage
    from pipeline.types import Article

    split, translate, summarize = (
        build_stage(f, config) for f in ("split", "translate", "summarize")
    )
    for stage in (translate, summarize):
        stage.load()
    # Every row records its calls (the raw CTranslate2 row replays id2en-ct2's, warm-up
    # included, so both warm up alike), and the table shows the summary inputs computed.
    calls: dict[str, list] = {"translate": [], "summarize": []}
    warm_calls: dict[str, list] = {"translate": [], "summarize": []}
    sink = [warm_calls]
    for family, stage in (("translate", translate), ("summarize", summarize)):
        if hasattr(stage, "backend"):
            stage.backend.generate = recording(stage.backend.generate, sink, family)
    warm = [Article(id="warm", text=" ".join(articles[0][:2]))]
    for stage in (split, translate, summarize):
        stage(warm)
    sink[0] = calls
    batch = [Article(id=f"a{i}", text=" ".join(s)) for i, s in enumerate(articles)]
    timer = Timer()
    timer.run("translate", lambda: translate(split(batch)))
    timer.run("summarize", lambda: summarize(batch))
    if record is not None:
        record.write_text(json.dumps({"warm": warm_calls, **calls}))
    bad = [a.id for a in batch if a.error or not a.summary]
    assert not bad, f"articles without a summary: {bad}"
    passes = [_passes(a.meta.get("summary", {})) for a in batch]
    computed = sum(len(call["ids"]) for call in calls["summarize"])
    # Identical chunks are summarized once; a workload with repeats would do less work
    # than the passes column says.
    assert computed == sum(passes), f"{computed} summary inputs computed, {sum(passes)} planned"
    sentences = [len(a.sentences) for a in batch]
    tokens = [
        len(summarize_tokenizer(ctx)(" ".join(s.en or "" for s in a.sentences))["input_ids"])
        for a in batch
    ]
    return {
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "passes": passes,
        "sentences": sentences,
        "summary_input_tokens": tokens,
    }


def _passes(info: dict) -> int:
    if info.get("strategy") == "extractive":
        return 0
    return 1 + sum(len(level) for level in info.get("partial_summaries", []))


def summarize_tokenizer(ctx: argparse.Namespace) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(ctx.work / "distilbart")


def recording(generate: Callable, sink: list[dict[str, list]], family: str) -> Callable:
    """generate(), recording each call's ids and settings into sink[0][family]."""

    def wrapper(ids: Any, settings: dict, per_item: Any = None, required: Any = None) -> Any:
        call = {"ids": [list(map(int, x)) for x in ids], "settings": settings}
        sink[0][family].append(call)
        return generate(ids, settings, per_item, required)

    return wrapper


# id2en's default max_batch_tokens per stage (padded source tokens x beams).
RAW_BATCH_TOKENS = {"translate": 6000, "summarize": 8192}


def raw_replay(translator: Any, tok: Any, calls: list, budget: int) -> Callable[[], None]:
    """The recorded calls through Translator.translate_batch alone (its own token batching);
    tokens and options are prepared first, so the returned replay times the library only."""
    from pipeline.generation.ctranslate2_backend import ct2_options, forced_prefix

    prepared = []
    for call in calls:
        tokens = [tok.convert_ids_to_tokens(x) for x in call["ids"]]
        options = ct2_options(call["settings"], tok, warn=False)
        prepared.append((tokens, forced_prefix(call["settings"], tok, len(tokens)), options))

    def replay() -> None:
        for tokens, prefix, options in prepared:
            translator.translate_batch(
                tokens, target_prefix=prefix, max_batch_size=budget, batch_type="tokens", **options
            )

    return replay


def raw_ct2_row(ctx: argparse.Namespace, kind: str) -> dict:
    """ctranslate2 alone on the recorded ids and options: its own batching (tokens)."""
    import ctranslate2
    from transformers import AutoTokenizer

    calls = json.loads((ctx.work / f"calls-{kind}.json").read_text())
    timer = Timer()
    for family, folder in (("translate", "marian"), ("summarize", "distilbart")):
        tok = AutoTokenizer.from_pretrained(ctx.work / folder)
        model_dir = next(
            p
            for p in (ctx.work / "ct2").iterdir()
            if p.name.startswith(folder) and "int8" in p.name
        )
        translator = ctranslate2.Translator(
            str(model_dir),
            device=ctx.device,
            compute_type="int8" if ctx.device == "cpu" else "int8_float16",  # id2en's auto
            intra_threads=ctx.threads if ctx.device == "cpu" else 0,
        )

        budget = RAW_BATCH_TOKENS[family] // ctx.beams
        raw_replay(translator, tok, calls["warm"][family], budget)()  # id2en's warm-up, untimed
        timer.run(family, raw_replay(translator, tok, calls[family], budget))
    return {
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "passes": None,
        "summary_input_tokens": None,
    }


def run_row(ctx: argparse.Namespace, row: str, kind: str) -> dict:
    articles = article_sentences(ctx)[kind]
    if row == "notebook":
        return by_hand_row(ctx, articles, 1, 1)
    if row == "by-hand":
        return by_hand_row(ctx, articles, 32, 4)
    if row == "raw-ct2":
        return raw_ct2_row(ctx, kind)
    configs = {
        "id2en-fp32": lambda: id2en_config(ctx, "translate.seq2seq", "summarize.seq2seq"),
        "before": lambda: id2en_config(ctx, "translate.seq2seq", "summarize.seq2seq"),
        "id2en-fp32-hf-loop": lambda: id2en_config(
            ctx, "translate.seq2seq", "summarize.seq2seq", summarize={"search_loop": "transformers"}
        ),
        "id2en-int8": lambda: id2en_config(
            ctx,
            "translate.seq2seq",
            "summarize.seq2seq",
            translate={"quantize": "dynamic-int8"},
            summarize={"quantize": "dynamic-int8"},
        ),
        "id2en-ct2": lambda: id2en_config(ctx, "translate.ctranslate2", "summarize.ctranslate2"),
        "id2en-ct2-select": lambda: id2en_config(
            ctx,
            "translate.ctranslate2",
            "summarize.ctranslate2",
            summarize={"long_input": "select"},
        ),
        "ct2-extractive": lambda: id2en_config(
            ctx, "translate.ctranslate2", "summarize.extractive"
        ),
    }
    record = ctx.work / f"calls-{kind}.json" if row == "id2en-ct2" else None
    return id2en_row(ctx, articles, configs[row](), record)


# ------------------------------------------------------------------------ the parent


def child(ctx: argparse.Namespace, row: str, kind: str) -> dict:
    """One row in a fresh process: its own models, threads and peak RSS."""
    command = [sys.executable, __file__, "--row", row, "--kind", kind, *ctx.passthrough]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if row == "before":  # id2en-fp32 on an older checkout's package
        env["PYTHONPATH"] = str(ctx.before)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"row {row} ({kind}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# At the real init scale (0.02) the random Marian emits the same tokens for every sentence,
# so every article's English would be one sentence repeated, and map-reduce would summarize
# identical chunks once (id2en deduplicates them): less work than the rows claim. At 0.1
# each sentence gets its own translation; the cost per token is the same.
MARIAN_INIT_STD = 0.1
# Both random models would mostly write the vocabularies' filler pieces (" w5830"), which the
# BART tokenizer cuts into ~5 tokens each: a 34-token translation would read as ~170 summary
# tokens, and a 60-token partial summary as ~250 in a reduce pass. A logits bias against all
# but whole trained words makes them write words, which re-tokenize at about real text's
# length; a bias add costs the same in every row.
NON_WORD_BIAS = -100.0


def build_models(work: Path) -> None:
    from tests.support.tiny_models import build_random_distilbart, build_random_marian

    marker = work / "marian" / f"init-std-{MARIAN_INIT_STD}-non-word-bias-{NON_WORD_BIAS}"
    if not marker.exists():
        build_random_marian(work / "marian", init_std=MARIAN_INIT_STD, non_word_bias=NON_WORD_BIAS)
        marker.touch()
    marker = work / "distilbart" / f"non-word-bias-{NON_WORD_BIAS}"
    if not marker.exists():
        build_random_distilbart(work / "distilbart", non_word_bias=NON_WORD_BIAS)
        marker.touch()


def table(kind: str, results: dict[str, dict], count: int) -> str:
    def rate_of(row: str) -> float | None:
        result = results.get(row)
        return count / sum(result["seconds"].values()) if result else None

    notebook, by_hand = rate_of("notebook"), rate_of("by-hand")
    lines = [
        f"| {kind} | articles/s | x notebook | x by hand | wall s | translate s (share) "
        "| summarize s (share) | CPU s translate/summarize | x notebook (CPU s) "
        "| summary passes/article | summary input tokens | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row, result in results.items():
        t, s = result["seconds"]["translate"], result["seconds"]["summarize"]
        cpu = result["cpu"]
        cpu_ratio = (
            f"{sum(results['notebook']['cpu'].values()) / sum(cpu.values()):.1f}x"
            if "notebook" in results
            else "-"
        )
        wall = t + s
        rate = count / wall
        times = f"{rate / notebook:.1f}x" if notebook else "-"
        hand = f"{rate / by_hand:.1f}x" if by_hand else "-"
        passes = "/".join(map(str, result["passes"])) if result.get("passes") else "-"
        tokens = (
            "/".join(map(str, result["summary_input_tokens"]))
            if result.get("summary_input_tokens")
            else "-"
        )
        lines.append(
            f"| {LABELS[row]} | {rate:.3f} | {times} | {hand} | {wall:.1f} "
            f"| {t:.1f} ({t / wall:.0%}) "
            f"| {s:.1f} ({s / wall:.0%}) | {cpu['translate']:.1f}/{cpu['summarize']:.1f} "
            f"| {cpu_ratio} | {passes} | {tokens} | {result['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def overheads(results: dict[str, dict]) -> str:
    ours, raw = results.get("id2en-ct2"), results.get("raw-ct2")
    if not ours or not raw:
        return ""
    parts = []
    for stage in ("translate", "summarize"):
        wall = ours["seconds"][stage] / raw["seconds"][stage] - 1
        cpu = ours["cpu"][stage] / raw["cpu"][stage] - 1
        parts.append(f"{stage} {wall:+.0%} wall, {cpu:+.0%} CPU")
    return "id2en CTranslate2 over the raw library: " + ", ".join(parts)


def _describe_checkout(path: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(path), "log", "-1", "--format=%h (%cs)"], capture_output=True, text=True
    )
    return done.stdout.strip() or str(path)


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: that survives fork and exec,
    so a child would report the parent's peak (model building) when it is higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def passthrough(ctx: argparse.Namespace) -> list[str]:
    """The workload's arguments, passed on to each row's own process."""
    return [
        f"--work={ctx.work}",
        f"--articles={ctx.articles}",
        f"--within-sentences={ctx.within_sentences}",
        f"--over-sentences={ctx.over_sentences}",
        f"--translate-tokens={ctx.translate_tokens}",
        f"--summary-tokens={ctx.summary_tokens}",
        f"--beams={ctx.beams}",
        f"--threads={ctx.threads}",
        f"--device={ctx.device}",
    ]


def describe_workload(ctx: argparse.Namespace) -> str:
    return (
        f"opus-mt-id-en + distilbart-cnn-12-6 shapes, random weights; beam {ctx.beams}; "
        f"forced {ctx.translate_tokens} tokens per sentence, {ctx.summary_tokens} per "
        f"summary; {ctx.device}, {ctx.threads} threads; {ctx.articles} article(s) per kind: "
        f"{ctx.within_sentences} sentences (within the window), {ctx.over_sentences} (over)"
    )


def speedup_over_before(results: dict[str, dict]) -> str:
    ours, before = results.get("id2en-fp32"), results.get("before")
    if not ours or not before:
        return ""
    wall = before["seconds"]["summarize"] / ours["seconds"]["summarize"]
    cpu = before["cpu"]["summarize"] / ours["cpu"]["summarize"]
    return f"id2en torch fp32 summary stage vs --before: {wall:.2f}x wall, {cpu:.2f}x CPU"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1+1 articles, shorter outputs")
    parser.add_argument("--articles", type=int, default=None, help="per kind (default 2; quick 1)")
    parser.add_argument("--within-sentences", type=int, default=None, help="default 21 (quick 8)")
    parser.add_argument("--over-sentences", type=int, default=None, help="default 60 (quick 72)")
    parser.add_argument("--translate-tokens", type=int, default=None, help="default 34 (quick 16)")
    parser.add_argument("--summary-tokens", type=int, default=None, help="default 60 (quick 30)")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated subset")
    parser.add_argument("--kinds", default="within,over")
    parser.add_argument(
        "--notebook-over", action="store_true", help="also the notebook over the window"
    )
    parser.add_argument("--work", type=Path, default=None, help="keep models here (reused)")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="an older checkout (git worktree add --detach DIR REV): adds its id2en torch "
        "fp32 row, so a speed-up is measured against it in the same run",
    )
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    ctx = parser.parse_args(argv)
    quick = ctx.quick
    for name, full, small in (
        ("articles", 2, 1),
        ("within_sentences", 21, 8),
        ("over_sentences", 60, 72),
        ("translate_tokens", 34, 16),
        ("summary_tokens", 60, 30),
    ):
        if getattr(ctx, name) is None:
            setattr(ctx, name, small if quick else full)
    return ctx


def main(argv: list[str] | None = None) -> int:
    ctx = parse_args(argv)
    if ctx.row:  # a child: one row, one JSON line
        result = run_row(ctx, ctx.row, ctx.kind)
        result["peak_rss_mb"] = peak_rss_mb()
        # kept beside the models too, so an interrupted run still has its finished rows
        (ctx.work / f"result-{ctx.kind}-{ctx.row}.json").write_text(json.dumps(result))
        print(json.dumps(result))
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ctx.work = (ctx.work or Path(tmp)).resolve()
        ctx.work.mkdir(parents=True, exist_ok=True)
        build_models(ctx.work)
        ctx.passthrough = passthrough(ctx)
        print(describe_workload(ctx))
        rows = [r for r in ctx.rows.split(",") if r]
        if ctx.before:
            ctx.before = ctx.before.resolve()
            LABELS["before"] = f"id2en torch fp32 at {_describe_checkout(ctx.before)}"
            rows.insert(rows.index("id2en-fp32") if "id2en-fp32" in rows else 0, "before")
        if ctx.device == "cuda" and "id2en-int8" in rows:
            rows.remove("id2en-int8")  # torch dynamic int8 is CPU-only
        if "raw-ct2" in rows and "id2en-ct2" in rows:  # the replay needs the recording first
            rows.remove("raw-ct2")
            rows.insert(rows.index("id2en-ct2") + 1, "raw-ct2")
        for kind in ctx.kinds.split(","):
            results = {}
            for row in rows:
                if row == "notebook" and kind == "over" and not ctx.notebook_over:
                    continue
                results[row] = child(ctx, row, kind)
                print(f"  {kind} {row}: {sum(results[row]['seconds'].values()):.1f} s", flush=True)
            print()
            print(table(kind, results, ctx.articles))
            for line in (overheads(results), speedup_over_before(results)):
                if line:
                    print(line)
            print()
    print(f"benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
