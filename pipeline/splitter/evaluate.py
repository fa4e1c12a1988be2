"""Scoring a sentence splitter against gold sentences (used by benchmarks and tests).

Boundaries are compared as counts of non-whitespace characters before each sentence end,
so plain and hard-wrapped versions of a text share the same gold boundaries and a
splitter's whitespace handling cannot change its score.

Two boundary counts are kept. The primary one (`tp`/`fp`/`fn`, `f1`) counts every sentence
end, the text's own end included: the usual boundary F1, the one the data README's
baseline figures use. The stricter `inner_*` counts leave out the text's end, which every
splitter gets for free, and so weigh the hard boundaries alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The gold data lives beside the project, not in it (<repo>/../shared/data/id-sentences);
# the tests and benchmarks point this variable there. The package never guesses a path.
DATA_ENV = "ID2EN_SENTENCE_DATA"

Splitter = Callable[[str], list[str]]


def data_dir() -> Path | None:
    """The gold data folder named by $ID2EN_SENTENCE_DATA, or None if unset or absent."""
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    return path if (path / "paragraphs.jsonl").is_file() else None


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _cumulative(segments: Iterable[str]) -> Iterator[int]:
    total = 0
    for segment in segments:
        total += sum(len(word) for word in segment.split())
        yield total


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    total = precision + recall
    return precision, recall, 2 * precision * recall / total if total else 0.0


@dataclass
class Score:
    """Boundary counts and exact sentences.

    `tp`/`fp`/`fn` count all sentence ends, the end of each text included (the usual
    boundary F1); `inner_tp`/`inner_fp`/`inner_fn` only the ends inside a text.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    inner_tp: int = 0
    inner_fp: int = 0
    inner_fn: int = 0
    exact: int = 0  # gold sentences found with both ends right
    sentences: int = 0  # gold sentences
    lost: int = 0  # texts whose predicted segments do not cover the text

    @property
    def precision(self) -> float:
        return _f1(self.tp, self.fp, self.fn)[0]

    @property
    def recall(self) -> float:
        return _f1(self.tp, self.fp, self.fn)[1]

    @property
    def f1(self) -> float:
        """Boundary F1 over all sentence ends, text ends included."""
        return _f1(self.tp, self.fp, self.fn)[2]

    @property
    def inner_f1(self) -> float:
        """Boundary F1 over the sentence ends inside a text (text ends left out)."""
        return _f1(self.inner_tp, self.inner_fp, self.inner_fn)[2]

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
        inner = len(gold_set & pred_set), len(pred_set - gold_set), len(gold_set - pred_set)
        self.inner_tp += inner[0]
        self.inner_fp += inner[1]
        self.inner_fn += inner[2]
        gold_all, pred_all = set(gold_ends), set(pred_ends)
        self.tp += len(gold_all & pred_all)
        self.fp += len(pred_all - gold_all)
        self.fn += len(gold_all - pred_all)
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
