"""`id2en eval`: translation quality (BLEU, chrF) and speed on sentence pairs, per variant."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import PipelineConfig, load_config
from pipeline.errors import InputError
from pipeline.registry import build_stage
from pipeline.splitter.evaluate import data_dir
from pipeline.types import Article, Sentence


def default_pairs_file() -> Path | None:
    """The UD sentences of $ID2EN_SENTENCE_DATA, if set: their English is machine
    translation added by the UD maintainers, a weak, smoke-level reference."""
    folder = data_dir()
    return folder / "sentences.jsonl" if folder is not None else None


@dataclass
class EvalResult:
    name: str
    sentences: int
    bleu: float
    chrf: float
    seconds: float
    warnings: int
    mean_score: float | None = None  # the model's own confidence, mean over sentences

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds else float("inf")


def load_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(Indonesian, English reference) pairs from JSONL rows with `text` and `text_en`.

    Rows without a reference (the UD data has none for sentences it split in parts) are
    passed over; a row that is not JSON or has no `text` is an error naming the line, and
    so is a file with no pair at all or one that is not UTF-8 (InputError, a ValueError).
    `limit` must be at least 1.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    try:
        with Path(path).open(encoding="utf-8") as handle:
            pairs = _read_pairs(path, handle, limit)
    except UnicodeDecodeError as exc:
        raise InputError(str(exc)) from None
    if not pairs:
        raise InputError(
            f"{path}: no rows with both 'text' and 'text_en' (the English reference); "
            "nothing to evaluate"
        )
    return pairs


def _read_pairs(path: Path, lines: Iterable[str], limit: int | None) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not a JSON line ({exc})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f"{path}:{number}: expected an object with 'text' and 'text_en'")
        if not isinstance(row.get("text_en"), str):
            continue
        pairs.append((row["text"], row["text_en"]))
        if limit is not None and len(pairs) >= limit:
            break
    return pairs


def evaluate(config: PipelineConfig, pairs: list[tuple[str, str]], name: str) -> EvalResult:
    """Translate each source as one sentence (no splitting) and score against references."""
    import sacrebleu

    stage = build_stage("translate", config)
    if stage is None:
        raise ValueError("stages.translate is null: nothing to evaluate")
    articles = [
        Article(id=str(i), text=src, sentences=[Sentence(src, 0, 0, len(src))])
        for i, (src, _) in enumerate(pairs)
    ]
    stage.load()  # outside the timing
    started = time.perf_counter()
    stage(articles)
    seconds = time.perf_counter() - started
    hypotheses = [a.sentences[0].en or "" for a in articles]
    references = [[ref for _, ref in pairs]]
    return EvalResult(
        name=name,
        sentences=len(pairs),
        bleu=sacrebleu.corpus_bleu(hypotheses, references).score,
        chrf=sacrebleu.corpus_chrf(hypotheses, references).score,
        seconds=seconds,
        warnings=sum(len(a.warnings) for a in articles),
        mean_score=mean_score([a.sentences[0].score for a in articles]),
    )


def mean_score(scores: list[float | None]) -> float | None:
    """The mean of the scores a model gave (copied sentences have none).

    >>> mean_score([-0.5, None, -1.5]), mean_score([None])
    (-1.0, None)
    """
    given = [score for score in scores if score is not None]
    return sum(given) / len(given) if given else None


def run_variants(
    source: str, overrides: list[str], variants: list[str], pairs: list[tuple[str, str]]
) -> list[EvalResult]:
    """`variants` are 'NAME=key=value,key=value'; the base config always runs first."""
    results = [evaluate(load_config(source, overrides), pairs, "base")]
    for variant in variants:
        name, _, settings = variant.partition("=")
        extra = [item for item in settings.split(",") if item]
        results.append(evaluate(load_config(source, [*overrides, *extra]), pairs, name))
    return results


def format_table(results: list[EvalResult]) -> str:
    base = results[0]
    lines = [
        f"{'variant':<16}{'sents':>7}{'BLEU':>8}{'chrF':>8}{'score':>8}{'sent/s':>9}"
        f"{'x base':>8}{'warnings':>10}"
    ]
    for r in results:
        speedup = r.sentences_per_s / base.sentences_per_s if base.sentences_per_s else 0.0
        score = f"{r.mean_score:>8.3f}" if r.mean_score is not None else f"{'-':>8}"
        lines.append(
            f"{r.name:<16}{r.sentences:>7}{r.bleu:>8.2f}{r.chrf:>8.2f}{score}"
            f"{r.sentences_per_s:>9.2f}{speedup:>8.2f}{r.warnings:>10}"
        )
    lines.append(
        "score: the model's mean log-probability per output token (its own confidence; "
        "closer to 0 is surer), averaged over sentences"
    )
    return "\n".join(lines)
