"""Memory over a long run: RSS at checkpoints while `id2en run` works through many articles.

The issue's target: RSS after 2,000 articles within 10% of RSS after 200. The run goes
through the real engine (run_folder: read, split, translate, summarize, write a record per
article), on articles of varied length so batch shapes keep changing, as they do in a feed.

    python benchmarks/soak.py                    # 2,000 articles, tiny Marian + tiny BART
    python benchmarks/soak.py --quick            # 400 articles, checkpoints 50..400
    python benchmarks/soak.py --real-marian --articles 600 --checkpoints 60,150,300,600
                                                 # random real-size opus-mt-id-en (slow)

With --real-marian the translator is a random-weight model with the real opus-mt-id-en
architecture (6+6 layers, d_model 512, 54,796 tokens), decoding greedily with a small
max_new_tokens so the run stays affordable on a CPU; the summarizer is the extractive one.
Models are built once into --models (default: the user cache) and reused.

RSS is read from /proc (Linux) after a garbage collection, so it counts memory the process
still holds, not garbage waiting to be freed. Exit status 1 when the final ratio is over 1.10.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shared_data  # noqa: F401  (names ../shared for the library)
from shared_data import shared_pairs

from pipeline.config import load_config
from pipeline.engines.local import run_folder
from pipeline.engines.run_report import RunReport
from tests.support.corpus import builtin_pairs

logger = logging.getLogger("soak")

TARGET_RATIO = 1.10
DEFAULT_CHECKPOINTS = (200, 500, 1000, 2000)
QUICK_CHECKPOINTS = (50, 100, 200, 400)
DEFAULT_MODELS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "id2en-soak"


def rss_mb() -> float:
    """Resident memory of this process now, in MB (peak RSS where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


@dataclass
class Checkpoint:
    articles: int
    rss: float
    seconds: float


def write_articles(folder: Path, count: int, seed: int, max_sentences: int) -> None:
    """Articles of 1..max_sentences sentences, nearly all distinct as in a real feed (so
    the translation memo fills up as it would); now and then a long sentence."""
    sentences = [p[0] for p in shared_pairs(limit=2000)] or [p[0] for p in builtin_pairs(800)]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def sentence() -> str:
        hour, minute = rng.randrange(24), rng.randrange(60)
        return f"{rng.choice(sentences).rstrip('.')} pada pukul {hour:02d}.{minute:02d} WIB."

    for number in range(count):
        picked = [sentence() for _ in range(rng.randint(1, max_sentences))]
        if rng.random() < 0.05:  # a long sentence, cut at clauses: new shapes now and then
            picked.append(", ".join(rng.choice(sentences).rstrip(".") for _ in range(8)) + ".")
        paragraphs = [" ".join(picked[i : i + 3]) for i in range(0, len(picked), 3)]
        (folder / f"{number:05d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def build_models(folder: Path, real_marian: bool) -> dict[str, Path]:
    from tests.support.tiny_models import (
        build_random_marian,
        build_tiny_bart,
        build_tiny_marian,
    )

    marian = folder / ("marian-real-size" if real_marian else "marian-tiny")
    bart = folder / "bart-tiny"
    for path, build in (
        (marian, build_random_marian if real_marian else build_tiny_marian),
        (bart, build_tiny_bart),
    ):
        if not (path / "config.json").exists():
            logger.info("building %s (once; reused next time)", path)
            started = time.perf_counter()
            build(path)
            logger.info("built %s in %.0fs", path.name, time.perf_counter() - started)
    return {"marian": marian, "bart": bart}


def soak_config(models: dict[str, Path], args: argparse.Namespace) -> Any:
    translate: dict[str, Any] = {"model": str(models["marian"]), "local_files_only": True}
    if args.real_marian:
        translate |= {"num_beams": 1, "max_new_tokens": args.max_new_tokens}
    else:
        translate |= {"num_beams": 2, "max_new_tokens": args.max_new_tokens}
    summarize: dict[str, Any] = {"model": str(models["bart"]), "local_files_only": True}
    summarize |= {"num_beams": 2, "max_new_tokens": 24, "min_length": 4}
    summarizer = "summarize.extractive" if args.real_marian else "summarize.seq2seq"
    return load_config(
        {
            "stages": {"summarize": None if args.no_summary else summarizer},
            "run": {
                "device": args.device,
                "progress": "never",
                "batch_articles": args.batch_articles,
                "threads": args.threads,
            },
            "translate": translate,
            "summarize": summarize,
        }
    )


def run(args: argparse.Namespace) -> list[Checkpoint]:
    checkpoints = sorted(args.checkpoints)
    total = checkpoints[-1]
    models = build_models(Path(args.models), args.real_marian)
    config = soak_config(models, args)
    work = Path(tempfile.mkdtemp(prefix="id2en-soak-"))
    write_articles(work / "in", total, args.seed, args.max_sentences)
    pending = list(checkpoints)
    seen: list[Checkpoint] = []
    started = time.perf_counter()

    def on_batch(report: RunReport) -> None:
        processed = report.done + report.failed + report.not_indonesian
        while pending and processed >= pending[0]:
            gc.collect()
            seen.append(Checkpoint(pending.pop(0), rss_mb(), time.perf_counter() - started))
            logger.info("%6d articles  RSS %8.1f MB", seen[-1].articles, seen[-1].rss)

    before = rss_mb()
    report = run_folder(config, work / "in", work / "out", on_batch=on_batch)
    logger.info("%s", report.line())
    logger.info("RSS before the run (imports only): %.1f MB; output in %s", before, work)
    if report.failed:
        logger.warning("%d articles failed; see %s/records", report.failed, work / "out")
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="400 articles, checkpoints 50..400")
    parser.add_argument("--articles", type=int, help="articles in all (the last checkpoint)")
    parser.add_argument(
        "--checkpoints",
        type=lambda s: [int(x) for x in s.split(",")],
        help="comma-separated article counts to report RSS at (default 200,500,1000,2000)",
    )
    parser.add_argument(
        "--real-marian", action="store_true", help="random real-size opus-mt-id-en (slow)"
    )
    parser.add_argument("--no-summary", action="store_true", help="translate only")
    parser.add_argument("--max-sentences", type=int, default=12, help="sentences per article")
    parser.add_argument("--max-new-tokens", type=int, default=12, help="per translated piece")
    parser.add_argument("--batch-articles", type=int, default=16, help="run.batch_articles")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="run.device (cpu, cuda, ...)")
    parser.add_argument("--models", default=str(DEFAULT_MODELS), help="where models are built")
    parser.add_argument("--seed", type=int, default=0, help="article generator seed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pipeline").setLevel(logging.ERROR)  # random models trip the guards

    if args.checkpoints is None:
        base = QUICK_CHECKPOINTS if args.quick else DEFAULT_CHECKPOINTS
        last = args.articles or base[-1]
        args.checkpoints = [c for c in base if c < last] + [last]
    elif args.articles:
        args.checkpoints = [c for c in args.checkpoints if c < args.articles] + [args.articles]

    seen = run(args)
    model = "random real-size Marian" if args.real_marian else "tiny Marian"
    print(
        f"\nRSS by articles processed ({model}; summary: "
        f"{'off' if args.no_summary else 'extractive' if args.real_marian else 'tiny BART'})"
    )
    print(f"{'articles':>9} {'RSS MB':>9} {'vs first':>9} {'seconds':>9}")
    for point in seen:
        print(
            f"{point.articles:>9} {point.rss:>9.1f} {point.rss / seen[0].rss:>9.3f} "
            f"{point.seconds:>9.1f}"
        )
    ratio = seen[-1].rss / seen[0].rss
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(
        f"RSS@{seen[-1].articles}/RSS@{seen[0].articles} = {ratio:.3f} "
        f"({verdict} the {TARGET_RATIO:.2f} target)"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
