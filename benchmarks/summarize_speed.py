"""Summarize-stage throughput on a random-weight model with the real distilbart-cnn-12-6 shape.

Builds the architecture (12 encoder / 6 decoder layers, d_model 1024, 16 heads, ffn 4096,
vocab 50264, 1,024 positions) with random weights in a temp folder, then times, side by
side in one process:

- summarize.seq2seq (id2en's stage: single pass, or map-reduce past the window);
- summarize.extractive (no model) on the same inputs.

Inputs are short (~200 tokens), medium (~700) and long (3x the window) English articles
made from a fixed word list: the weights are random, so the words do not matter, only
their token counts. Output lengths are forced equal everywhere (min_length = max_length),
since a random model would otherwise stop at arbitrary points.

    python benchmarks/summarize_speed.py            # full: beam 4, 60 output tokens
    python benchmarks/summarize_speed.py --quick    # fewer articles, shorter outputs
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

import shared_data  # noqa: F401  (the checkout's root on sys.path, for tests.support)

from pipeline.config import load_config
from pipeline.summarize.stage import ExtractiveSummarizeStage, SummarizeStage
from pipeline.types import Article, Sentence
from tests.support.tiny_models import build_random_distilbart

WORDS = [
    "the",
    "government",
    "said",
    "on",
    "monday",
    "that",
    "the",
    "new",
    "bridge",
    "across",
    "the",
    "river",
    "would",
    "open",
    "next",
    "month",
    "after",
    "two",
    "years",
    "of",
    "work",
    "and",
    "residents",
    "of",
    "the",
    "district",
    "welcomed",
    "the",
    "project",
    "while",
    "traders",
    "in",
    "the",
    "market",
    "complained",
    "about",
    "rising",
    "prices",
    "of",
    "rice",
    "and",
    "cooking",
    "oil",
]


def make_article(article_id: str, n_sentences: int, rng: random.Random) -> Article:
    sentences = []
    for i in range(n_sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(14, 24))]
        sentences.append(Sentence("-", i // 4, 0, 0, en=" ".join(words).capitalize() + "."))
    return Article(id=article_id, text="", sentences=sentences)


def fresh(articles: list[Article]) -> list[Article]:
    return [
        Article(a.id, a.text, sentences=[Sentence(**s.to_dict()) for s in a.sentences])
        for a in articles
    ]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_stage(stage: object, articles: list[Article]) -> tuple[float, list[Article]]:
    batch = fresh(articles)
    started = time.perf_counter()
    stage(batch)  # type: ignore[operator]
    return time.perf_counter() - started, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer articles, shorter outputs")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--output-tokens", type=int, default=None)
    args = parser.parse_args()
    out_tokens = args.output_tokens or (24 if args.quick else 60)
    per_kind = 1 if args.quick else 2
    rng = random.Random(0)
    sizes = {"short": 10, "medium": 35, "long": 150}  # ~20 tokens a sentence

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_random_distilbart(Path(tmp) / "distilbart")
        overrides = {
            "model": str(model_dir),
            "local_files_only": True,
            "num_beams": args.beams,
            "min_length": out_tokens,
            "max_length": out_tokens + 1,
        }
        config = load_config(
            {"run": {"device": "cpu"}, "summarize": overrides, "guards": {"enabled": False}}
        )
        seq2seq = SummarizeStage(config)
        extractive = ExtractiveSummarizeStage(config)
        seq2seq.load()  # outside the timings
        print(
            f"distilbart-cnn-12-6 shape, random weights; beams {args.beams}, "
            f"{out_tokens} output tokens forced; window {seq2seq.window} tokens"
        )
        print(
            f"{'input':<8}{'tokens':>8}{'arts':>6}{'seq2seq art/s':>15}{'levels':>8}"
            f"{'extractive art/s':>18}{'ratio':>10}"
        )
        for kind, n in sizes.items():
            articles = [make_article(f"{kind}-{i}", n, rng) for i in range(per_kind)]
            tokens = sum(
                seq2seq._count(" ".join(s.en or "" for s in a.sentences)) for a in articles
            ) // len(articles)
            t_model, done = time_stage(seq2seq, articles)
            t_extract, _ = time_stage(extractive, articles)
            levels = max(a.meta["summary"]["levels"] for a in done)
            assert all(a.summary for a in done), "every article must get a summary"
            model_rate, extract_rate = len(articles) / t_model, len(articles) / t_extract
            print(
                f"{kind:<8}{tokens:>8}{len(articles):>6}{model_rate:>15.3f}{levels:>8}"
                f"{extract_rate:>18.1f}{extract_rate / model_rate:>9.0f}x"
            )
        print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
