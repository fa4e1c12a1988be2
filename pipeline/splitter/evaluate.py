"""Scoring a sentence splitter against gold sentences (used by benchmarks and tests).

Boundaries are compared as counts of non-whitespace characters before each sentence end,
so plain and hard-wrapped versions of a text share the same gold boundaries and a
splitter's whitespace handling cannot change its score.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_ENV = "ID2EN_SENTENCE_DATA"
# The gold data lives beside the project, not in it: <repo>/../shared/data/id-sentences.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "id-sentences"

Splitter = Callable[[str], list[str]]


def data_dir() -> Path | None:
    """The gold data folder ($ID2EN_SENTENCE_DATA or ../shared/...), or None if absent."""
    path = Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR)
    return path if (path / "paragraphs.jsonl").is_file() else None


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _cumulative(segments: Iterable[str]) -> Iterator[int]:
    total = 0
    for segment in segments:
        total += sum(len(word) for word in segment.split())
        yield total


@dataclass
class Score:
    """Boundary counts (paragraph ends excluded: they are free) and exact sentences."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    exact: int = 0  # gold sentences found with both ends right
    sentences: int = 0  # gold sentences
    lost: int = 0  # texts whose predicted segments do not cover the text

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return self.exact / self.sentences if self.sentences else 1.0

    def add(self, gold: list[str], predicted: list[str]) -> tuple[set[int], set[int]]:
        """Count one text; returns (missed, spurious) boundaries in non-whitespace offsets."""
        gold_ends = list(_cumulative(gold))
        pred_ends = [end for end in _cumulative(predicted) if end > 0]
        if not pred_ends or pred_ends[-1] != gold_ends[-1]:
            self.lost += 1
        gold_set, pred_set = set(gold_ends[:-1]), set(pred_ends[:-1])
        self.tp += len(gold_set & pred_set)
        self.fp += len(pred_set - gold_set)
        self.fn += len(gold_set - pred_set)
        gold_spans = set(zip([0, *gold_ends], gold_ends, strict=False))
        pred_spans = set(zip([0, *pred_ends], pred_ends, strict=False))
        self.exact += len(gold_spans & pred_spans)
        self.sentences += len(gold_ends)
        return gold_set - pred_set, pred_set - gold_set


def score(splitter: Splitter, items: Iterable[tuple[str, list[str]]]) -> Score:
    """Score `splitter` on (text, gold sentences) pairs."""
    result = Score()
    for text, gold in items:
        result.add(gold, splitter(text))
    return result


def nonws_to_offset(text: str, count: int) -> int:
    """The offset in `text` just after its `count`-th non-whitespace character."""
    seen = 0
    for offset, char in enumerate(text):
        if not char.isspace():
            seen += 1
            if seen == count:
                return offset + 1
    return len(text)
