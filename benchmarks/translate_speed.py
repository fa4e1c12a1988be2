"""Translation speed, every engine side by side in one process, on a random-weight model
with the real opus-mt-id-en architecture (6+6 layers, d_model 512, vocab 54,796).

    python benchmarks/translate_speed.py --quick     # 64 sentences, under 3 minutes (2 cores)
    python benchmarks/translate_speed.py             # 256 sentences, the issue's setting

Engines, all on the same sentences and the same token ids:
  naive                   transformers generate(), one sentence per call
  transformers sorted     transformers by hand: sorted by length, batches of 32
  id2en torch fp32        translate.marian: pooled, sorted, token-budget batches, id2en's
                          beam-search loop (pipeline/beam_search.py)
  ... transformers' loop  the same with translate.search_loop=transformers
  id2en torch int8        the same with translate.quantize=dynamic-int8
  id2en ct2 int8          translate.ctranslate2 (int8): the full stage, articles in, English out
  raw ct2 int8            ctranslate2.Translator.translate_batch on pre-tokenized ids with
                          token batches: the library alone, so our own overhead shows
  ... + shortlist         the same with translate.shortlist (see below)

Fairness:
- Output lengths are forced equal: every engine decodes exactly N tokens per sentence (N =
  the workload's mean source length): end-of-sentence suppressed until N, decoding stopped
  at N, no forced end token (transformers: min_new_tokens = max_new_tokens = N and
  forced_eos_token_id=None; CTranslate2: min_decoding_length = max_decoding_length = N). The
  "tok/sent" column is counted from each engine's outputs, so this is checked, not assumed.
- Sentences are real Indonesian text (the shared UD sentences when present) cut to lengths
  drawn from a news-like distribution (log-normal, median 28 tokens, 5 to 90), all distinct,
  so dedupe and caches never help; the id2en stages run with guards off (a random model
  trips them, and their retries would be extra work no other engine does).
- On a shared machine background load comes and goes, so the work is dealt into rounds of
  length-stratified chunks and every engine runs each chunk in turn, in rotating order; the
  "others" column shows how many cores other processes used meanwhile: trust rows near 0.
  (Each round pools only its chunk, so --quick's 32-sentence pools pad more than a real
  run, whose 16 articles pool hundreds of sentences: the batched rows are pessimistic.)
- Threads = physical cores for torch and CTranslate2; warm-up calls are not timed.
- "peak MB" is the process's resident memory (GPU: device memory in use) while that engine
  ran, with every engine's model loaded at once.

The vocabulary shortlist (Bergamot's lexical shortlist) makes the output layer score only
the batch's candidate tokens: a fixed set of frequent target tokens plus each source
token's likely translations. A random model has no lexical table, so the benchmark writes
one with Bergamot's usual sizes (100 frequent + 50 per source piece, drawn Zipf-like from
the target vocabulary, which gives larger unions than real tables): the speed is realistic,
the quality effect can only be measured with real weights (`id2en eval`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import logging
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shared_data  # noqa: F401  (names ../shared for the library)

from pipeline.config import PipelineConfig, load_config
from pipeline.generation.models import physical_cores, set_threads
from pipeline.types import Article, Sentence

logger = logging.getLogger("translate_speed")

from shared_data import SHARED_SENTENCES  # noqa: E402

WARM_UP = ["Saya makan nasi.", "Harga cabai naik 20 persen pada Maret 2024."]


# ---------------------------------------------------------------------------- workload


@dataclass
class Workload:
    texts: list[str]
    ids: list[list[int]]
    steps: int  # output tokens forced per sentence
    beams: int

    @property
    def mean_source(self) -> float:
        return statistics.fmean(len(x) for x in self.ids)


def _word_stream(seed: int) -> Iterator[str]:
    """Words of real Indonesian sentences (shared UD data), else of the built-in corpus."""
    from tests.support.corpus import builtin_pairs

    texts: list[str] = []
    if SHARED_SENTENCES.is_file():
        with SHARED_SENTENCES.open(encoding="utf-8") as fh:
            texts = [json.loads(line)["text"] for line in fh]
    texts = texts or [src for src, _ in builtin_pairs()]
    random.Random(seed).shuffle(texts)
    while True:
        for text in texts:
            yield from text.split()


def make_workload(tokenizer: Any, count: int, beams: int, seed: int) -> Workload:
    """`count` distinct sentences with token lengths log-normal (median 28), 5 to 90."""
    rng = random.Random(seed)
    words = _word_stream(seed)
    pieces: dict[str, int] = {}
    texts: list[str] = []
    while len(texts) < count:
        target = min(90, max(5, round(rng.lognormvariate(math.log(28), 0.55))))
        chosen, tokens = [], 1  # the </s> the tokenizer appends
        while tokens < target:
            word = next(words)
            if word not in pieces:
                pieces[word] = len(tokenizer.tokenize(word))
            chosen.append(word)
            tokens += pieces[word]
        text = " ".join(chosen)
        if text not in texts:
            texts.append(text)
    ids = [list(x) for x in tokenizer(texts)["input_ids"]]
    steps = round(statistics.fmean(len(x) for x in ids))
    return Workload(texts, ids, steps, beams)


def deal_rounds(workload: Workload, rounds: int) -> list[list[int]]:
    """Length-stratified chunks: sorted by length, dealt like cards, then shuffled."""
    order = sorted(range(len(workload.ids)), key=lambda i: len(workload.ids[i]))
    chunks = [order[r::rounds] for r in range(rounds)]
    for r, chunk in enumerate(chunks):
        random.Random(r).shuffle(chunk)
    return chunks


def write_benchmark_shortlist(model_dir: Path, out: Path, seed: int) -> Path:
    """A synthetic lexical shortlist with Bergamot's sizes (100 frequent + 50 per piece)."""
    from pipeline.translate.shortlist import write_shortlist

    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    pieces = [p for p in vocab if p not in ("</s>", "<unk>", "<pad>")]
    rng = random.Random(seed)
    ranked = rng.sample(pieces, len(pieces))  # a random "frequency" order
    # Zipf weights, accumulated once (choices() would re-add all 54,796 on every call)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(ranked))))
    fixed = ranked[:100]
    mapping = {p: sorted(set(rng.choices(ranked, cum_weights=cumulative, k=50))) for p in pieces}
    return write_shortlist(out, fixed, mapping)


# ---------------------------------------------------------------------------- meters


class Meter:
    """Peak memory (process RSS, or device memory in use on CUDA) and other processes' CPU."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.peak = 0
        self._stop = threading.Event()
        self._cpu_start = (0.0, 0.0)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def used(self) -> int:
        if self.cuda:
            import torch

            free, total = torch.cuda.mem_get_info()
            return int(total - free)
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    @staticmethod
    def _cpu_seconds() -> tuple[float, float]:
        """(all processes' busy CPU seconds, this process's CPU seconds)."""
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
        mine = os.times()
        return busy / tick, mine.user + mine.system

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.used())

    def start(self) -> None:
        self.peak = self.used()
        self._cpu_start = self._cpu_seconds()

    def others(self, elapsed: float) -> float:
        """Cores other processes kept busy since start()."""
        busy, mine = self._cpu_seconds()
        return max(0.0, (busy - self._cpu_start[0]) - (mine - self._cpu_start[1])) / elapsed

    def stop(self) -> None:
        self._stop.set()


# ---------------------------------------------------------------------------- engines


Runner = Callable[[list[int]], list[tuple[str, int]]]  # indices -> (text, output tokens)


@dataclass
class Engine:
    name: str
    load: Callable[[], Runner]
    subset: bool = False  # runs on every k-th sentence only (naive: slow)
    runner: Runner | None = None
    seconds: float = 0.0
    sentences: int = 0
    tokens: int = 0
    peak: int = 0
    others: list[float] = field(default_factory=list)
    outputs: dict[int, str] = field(default_factory=dict)


def id2en_config(
    ctx: argparse.Namespace, workload: Workload, dtype: str | None = None, **translate: Any
) -> PipelineConfig:
    """The id2en config for one engine: translate settings, and run.dtype if it differs."""
    settings = {
        "model": str(ctx.model_dir),
        "local_files_only": True,
        "num_beams": workload.beams,
        "max_new_tokens": workload.steps,
        "extra": {"min_new_tokens": workload.steps, "forced_eos_token_id": None},
        "ct2_model_dir": str(ctx.work / "ct2"),
        "max_batch_tokens": ctx.max_batch_tokens,
        "max_batch_sentences": ctx.max_batch_sentences,
        **translate,
    }
    run = {
        "device": ctx.device,
        "dtype": dtype or ctx.dtype,
        "threads": ctx.threads,
        "progress": "never",
    }
    return load_config(
        {
            "run": run,
            "stages": {"summarize": None},
            "guards": {"enabled": False},
            "translate": settings,
        }
    )


def articles_for(workload: Workload, indices: list[int], per_article: int = 8) -> list[Article]:
    articles = []
    for start in range(0, len(indices), per_article):
        texts = [workload.texts[i] for i in indices[start : start + per_article]]
        sentences, offset = [], 0
        for text in texts:
            sentences.append(Sentence(text, 0, offset, offset + len(text)))
            offset += len(text) + 1
        articles.append(Article(id=f"a{start}", text=" ".join(texts), sentences=sentences))
    return articles


def stage_runner(stage: Any, workload: Workload) -> Runner:
    """The whole stage: articles in, each sentence's English out (fit, dedupe, batch, assign)."""

    def run(indices: list[int]) -> list[tuple[str, int]]:
        articles = articles_for(workload, indices)
        stage(articles)
        english = {s.text: s.en or "" for a in articles for s in a.sentences}
        out = []
        for i in indices:
            found = stage.recall(workload.texts[i])
            out.append((english[workload.texts[i]], found.output_tokens if found else 0))
        return out

    return run


def stage_engine(
    name: str, ctx: argparse.Namespace, workload: Workload, ct2: bool = False, **translate: Any
) -> Engine:
    engine = Engine(name, lambda: _load_stage(engine, ctx, workload, ct2, translate))
    return engine


def _load_stage(
    engine: Engine, ctx: argparse.Namespace, workload: Workload, ct2: bool, translate: dict
) -> Runner:
    from pipeline.translate.stage import TranslateStage

    config = id2en_config(ctx, workload, **translate)
    if ct2:
        stage = TranslateStage(config, name="translate.ctranslate2", backend="ctranslate2")
    else:
        stage = TranslateStage(config)
    stage.translate_texts(WARM_UP)  # loads (and converts) the model, untimed
    if ct2:
        ctx.ct2_model_dirs[engine.name] = stage.backend.model_dir  # type: ignore[attr-defined]
    return stage_runner(stage, workload)


def naive_engine(ctx: argparse.Namespace, workload: Workload) -> Engine:
    """Plain transformers, as a notebook would: one sentence per generate() call."""

    def load() -> Runner:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(ctx.model_dir)
        net = AutoModelForSeq2SeqLM.from_pretrained(ctx.model_dir, dtype=_torch_dtype(ctx))
        net = net.to(ctx.device).eval()
        settings = _forced_length_settings(workload)

        def run(indices: list[int]) -> list[tuple[str, int]]:
            out = []
            for i in indices:
                inputs = tokenizer([workload.texts[i]], return_tensors="pt").to(ctx.device)
                with torch.inference_mode():
                    sequence = net.generate(**inputs, **settings)[0].cpu()
                text = tokenizer.decode(sequence, skip_special_tokens=True).strip()
                out.append((text, int((sequence != tokenizer.pad_token_id).sum())))
            return out

        run([0])  # warm-up
        return run

    return Engine("naive (1 sentence / generate)", load, subset=True)


def sorted_batches_engine(ctx: argparse.Namespace, workload: Workload, size: int = 32) -> Engine:
    """Plain transformers done well by hand: sorted by length, fixed batches of `size`."""

    def load() -> Runner:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(ctx.model_dir)
        net = AutoModelForSeq2SeqLM.from_pretrained(ctx.model_dir, dtype=_torch_dtype(ctx))
        net = net.to(ctx.device).eval()
        settings = _forced_length_settings(workload)

        def run(indices: list[int]) -> list[tuple[str, int]]:
            order = sorted(indices, key=lambda i: -len(workload.ids[i]))
            found: dict[int, tuple[str, int]] = {}
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                inputs = tokenizer(
                    [workload.texts[i] for i in batch], return_tensors="pt", padding=True
                )
                with torch.inference_mode():
                    sequences = net.generate(**inputs.to(ctx.device), **settings).cpu()
                texts = tokenizer.batch_decode(sequences, skip_special_tokens=True)
                for i, text, seq in zip(batch, texts, sequences, strict=True):
                    found[i] = (text.strip(), int((seq != tokenizer.pad_token_id).sum()))
            return [found[i] for i in indices]

        run([0])  # warm-up
        return run

    return Engine(f"transformers sorted, {size}/batch", load)


def _torch_dtype(ctx: argparse.Namespace) -> Any:
    import torch

    return getattr(torch, ctx.dtype) if ctx.dtype != "auto" else torch.float32


def _forced_length_settings(workload: Workload) -> dict[str, Any]:
    return {
        "num_beams": workload.beams,
        "max_new_tokens": workload.steps,
        "min_new_tokens": workload.steps,
        "forced_eos_token_id": None,
        "max_length": None,
    }


def raw_ct2_engine(
    name: str,
    ctx: argparse.Namespace,
    workload: Workload,
    source: str,
    compute_type: str,
    **options: Any,
) -> Engine:
    """ctranslate2 alone, on the folder id2en converted, ids tokenized beforehand."""

    def load() -> Runner:
        import ctranslate2
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(ctx.model_dir)
        tokens = [tokenizer.convert_ids_to_tokens(x) for x in workload.ids]
        translator = ctranslate2.Translator(
            str(ctx.ct2_model_dirs[source]),
            device=ctx.device,
            compute_type=compute_type,
            intra_threads=ctx.threads if ctx.device == "cpu" else 0,
        )
        settings = {
            "beam_size": workload.beams,
            "min_decoding_length": workload.steps,
            "max_decoding_length": workload.steps,
            "max_batch_size": ctx.max_batch_tokens // workload.beams,
            "batch_type": "tokens",
            "max_input_length": 0,
            **options,
        }

        def run(indices: list[int]) -> list[tuple[str, int]]:
            results = translator.translate_batch([tokens[i] for i in indices], **settings)
            return [(" ".join(r.hypotheses[0]), len(r.hypotheses[0])) for r in results]

        run([0])  # warm-up
        return run

    return Engine(name, load)


# ---------------------------------------------------------------------------- measuring


def measure(engines: list[Engine], workload: Workload, ctx: argparse.Namespace) -> None:
    meter = Meter(cuda=ctx.device.startswith("cuda"))
    for engine in engines:
        gc.collect()
        started = time.perf_counter()
        engine.runner = engine.load()
        logger.info("loaded %s in %.1fs", engine.name, time.perf_counter() - started)
    chunks = deal_rounds(workload, ctx.rounds)
    for r, chunk in enumerate(chunks):
        shift = r % len(engines)
        for engine in engines[shift:] + engines[:shift]:
            run_chunk(engine, chunk[:: ctx.naive_every] if engine.subset else chunk, meter)
            logger.info("round %d/%d %-32s %6.1fs", r + 1, len(chunks), engine.name, engine.seconds)
    meter.stop()


def run_chunk(engine: Engine, indices: list[int], meter: Meter) -> None:
    assert engine.runner is not None
    meter.start()
    started = time.perf_counter()
    outputs = engine.runner(indices)
    elapsed = time.perf_counter() - started
    engine.seconds += elapsed
    engine.others.append(meter.others(elapsed))
    engine.peak = max(engine.peak, meter.peak)
    engine.sentences += len(indices)
    engine.tokens += sum(tokens for _, tokens in outputs)
    engine.outputs.update({i: text for i, (text, _) in zip(indices, outputs, strict=True)})


def table(engines: list[Engine], reference: str) -> str:
    naive = next((e for e in engines if e.subset), None)
    base = naive.sentences / naive.seconds if naive else None
    ref = next((e for e in engines if e.name == reference), None)
    ref_rate = ref.sentences / ref.seconds if ref else None
    rows = [
        f"| engine | sentences/s | output tok/s | × naive | × {reference} | tok/sent "
        "| peak MB | others (cores) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in engines:
        rate = e.sentences / e.seconds
        rows.append(
            f"| {e.name} | {rate:.2f} | {e.tokens / e.seconds:.0f} "
            f"| {rate / base:.1f} | {rate / ref_rate:.2f} | {e.tokens / e.sentences:.1f} "
            f"| {e.peak / 2**20:.0f} | {statistics.fmean(e.others):.1f} |"
            if base and ref_rate
            else f"| {e.name} | {rate:.2f} | {e.tokens / e.seconds:.0f} | - | - | - | - | - |"
        )
    return "\n".join(rows)


def agreement(engines: list[Engine], first: str, second: str) -> str:
    a = next(e for e in engines if e.name == first)
    b = next(e for e in engines if e.name == second)
    common = sorted(set(a.outputs) & set(b.outputs))
    same = sum(a.outputs[i] == b.outputs[i] for i in common)
    return f"{same}/{len(common)}"


def greedy_agreement(ctx: argparse.Namespace, workload: Workload, count: int) -> str:
    """Greedy: id2en's batched torch path against one-sentence generate(), same settings."""
    import torch

    from pipeline.translate.stage import TranslateStage

    greedy = Workload(workload.texts, workload.ids, workload.steps, 1)
    stage = TranslateStage(id2en_config(ctx, greedy))
    step = max(1, len(workload.texts) // count)
    texts = workload.texts[::step][:count]
    batched = stage.translate_texts(texts)
    loaded = stage.backend.loaded  # type: ignore[attr-defined]
    net, tok = loaded.model, loaded.tokenizer
    same = 0
    for text in texts:
        inputs = tok([text], return_tensors="pt").to(loaded.device)
        with torch.inference_mode():
            sequence = net.generate(**inputs, **stage.generation_settings)[0]
        same += tok.decode(sequence, skip_special_tokens=True).strip() == batched[text].text
    return f"{same}/{len(texts)}"


def shortlist_sizes(ctx: argparse.Namespace, workload: Workload) -> list[int]:
    """Candidates per batch, for the batches id2en forms on each round's chunk."""
    from transformers import AutoTokenizer

    from pipeline.generation.batching import token_budget_batches
    from pipeline.translate.shortlist import Shortlist

    shortlist = Shortlist.load(ctx.shortlist_path)
    tokenizer = AutoTokenizer.from_pretrained(ctx.model_dir)
    budget = ctx.max_batch_tokens // workload.beams
    sizes = []
    for chunk in deal_rounds(workload, ctx.rounds):
        lengths = [len(workload.ids[i]) for i in chunk]
        for batch in token_budget_batches(lengths, budget, ctx.max_batch_sentences):
            sources = [tokenizer.convert_ids_to_tokens(workload.ids[chunk[i]]) for i in batch]
            sizes.append(len(shortlist.candidates(sources)))
    return sizes


# ---------------------------------------------------------------------------- main


def build_model(ctx: argparse.Namespace) -> Path:
    from tests.support.tiny_models import build_random_marian

    target = ctx.work / "marian"
    if not (target / "model.safetensors").exists():
        started = time.perf_counter()
        build_random_marian(target)
        logger.info("built the random opus-mt-id-en model in %.1fs", time.perf_counter() - started)
    return target


LOOP_REFERENCE = "... transformers' loop"


def cpu_engines(ctx: argparse.Namespace, workload: Workload) -> list[Engine]:
    engines = [
        naive_engine(ctx, workload),
        sorted_batches_engine(ctx, workload),
        stage_engine("id2en torch fp32", ctx, workload),
        stage_engine(LOOP_REFERENCE, ctx, workload, search_loop="transformers"),
        stage_engine("id2en torch int8", ctx, workload, quantize="dynamic-int8"),
        stage_engine("id2en ct2 int8", ctx, workload, ct2=True, ct2_compute_type="int8"),
        raw_ct2_engine("raw ct2 int8", ctx, workload, "id2en ct2 int8", "int8"),
    ]
    if ctx.shortlist:
        shortlist = str(ctx.shortlist_path)
        engines.append(
            stage_engine(
                "id2en ct2 int8 + shortlist",
                ctx,
                workload,
                ct2=True,
                ct2_compute_type="int8",
                shortlist=shortlist,
            )
        )
        engines.append(
            stage_engine(
                "id2en torch int8 + shortlist",
                ctx,
                workload,
                quantize="dynamic-int8",
                shortlist=shortlist,
            )
        )
    return engines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 sentences (under 3 minutes)")
    parser.add_argument("--sentences", type=int, default=None, help="default 256 (quick: 64)")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--naive-every", type=int, default=None, help="default 2 (quick: 4)")
    parser.add_argument("--greedy-check", type=int, default=16, help="sentences (0: skip)")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--max-batch-tokens", type=int, default=None)
    parser.add_argument("--max-batch-sentences", type=int, default=None)
    parser.add_argument("--no-shortlist", dest="shortlist", action="store_false")
    parser.add_argument("--wait-calm", type=float, default=0, help="wait up to N s for load<0.7")
    parser.add_argument("--work", type=Path, default=None, help="keep models here (reused)")
    parser.add_argument("--seed", type=int, default=0)
    ctx = parser.parse_args(argv)
    ctx.sentences = ctx.sentences or (64 if ctx.quick else 256)
    ctx.naive_every = ctx.naive_every or (4 if ctx.quick else 2)
    ctx.device, ctx.dtype = "cpu", "float32"
    return ctx


def prepare(ctx: argparse.Namespace, stack: contextlib.ExitStack) -> Workload:
    """Model, shortlist and workload in the work folder; defaults from the config."""
    from transformers import AutoTokenizer

    if ctx.work is None:
        ctx.work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="id2en-")))
    ctx.work.mkdir(parents=True, exist_ok=True)
    set_threads(ctx.threads)
    ctx.model_dir = build_model(ctx)
    defaults = PipelineConfig().translate
    ctx.max_batch_tokens = ctx.max_batch_tokens or defaults.max_batch_tokens
    ctx.max_batch_sentences = ctx.max_batch_sentences or defaults.max_batch_sentences
    ctx.ct2_model_dirs = {}
    ctx.shortlist_path = ctx.work / "shortlist.vmap"
    if ctx.shortlist and not ctx.shortlist_path.exists():
        write_benchmark_shortlist(ctx.model_dir, ctx.shortlist_path, ctx.seed)
    tokenizer = AutoTokenizer.from_pretrained(ctx.model_dir)
    return make_workload(tokenizer, ctx.sentences, ctx.beams, ctx.seed)


def wait_until_calm(limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] > 0.7 and time.monotonic() < deadline:
        time.sleep(10)


def main(argv: list[str] | None = None) -> int:
    ctx = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("transformers", "pipeline", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    wait_until_calm(ctx.wait_calm)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        workload = prepare(ctx, stack)
        engines = cpu_engines(ctx, workload)
        load_before = os.getloadavg()[0]
        measure(engines, workload, ctx)
        greedy = greedy_agreement(ctx, workload, ctx.greedy_check) if ctx.greedy_check else "-"
        print_report(engines, workload, ctx, "raw ct2 int8", started, load_before)
        print(
            f"agreement with naive generate(), same settings: greedy {greedy} identical, "
            f"beam {workload.beams} {agreement(engines, 'id2en torch fp32', engines[0].name)}; "
            f"id2en's loop vs transformers' loop, beam {workload.beams}: "
            f"{agreement(engines, 'id2en torch fp32', LOOP_REFERENCE)} identical"
        )
    return 0


def print_report(
    engines: list[Engine],
    workload: Workload,
    ctx: argparse.Namespace,
    reference: str,
    started: float,
    load_before: float,
) -> None:
    lengths = sorted(len(x) for x in workload.ids)
    sizes = shortlist_sizes(ctx, workload) if ctx.shortlist else []
    print(
        f"\nopus-mt-id-en architecture, random weights, {ctx.device}: {len(lengths)} sentences, "
        f"source tokens {lengths[0]}-{lengths[-1]} (mean {workload.mean_source:.1f}); beam "
        f"{workload.beams}; {workload.steps} output tokens forced per sentence; "
        f"{ctx.threads} threads; {platform.machine()}, {os.cpu_count()} CPUs; load average "
        f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}; {ctx.rounds} interleaved rounds; "
        f"naive on every {ctx.naive_every}th sentence; batches <= {ctx.max_batch_tokens} "
        f"tokens x beams, <= {ctx.max_batch_sentences} sentences"
        + (f"; shortlist {statistics.fmean(sizes):.0f} candidates/batch" if sizes else "")
        + "\n"
    )
    print(table(engines, reference))
    print(f"\ntotal wall time {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    raise SystemExit(main())
