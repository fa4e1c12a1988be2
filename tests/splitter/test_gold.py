"""The splitter on the gold Indonesian data in ../shared/data/id-sentences (used in place).

Skipped when the folder is absent; CI has it. The targets are those of the issue; see
benchmarks/split_eval.py for the full table with baselines.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipeline.splitter import split_sentences
from pipeline.splitter.evaluate import Score, data_dir, load_jsonl
from tests.helpers import check_offsets

DATA = data_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="gold data ../shared/data/id-sentences absent")


def id2en(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def naive_regex(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text)


def score(splitter: Any, items: list[tuple[str, list[str]]]) -> Score:
    result = Score()
    for text, gold in items:
        result.add(gold, splitter(text))
    return result


@pytest.fixture(scope="module")
def paragraphs() -> list[dict[str, Any]]:
    assert DATA is not None
    return load_jsonl(Path(DATA) / "paragraphs.jsonl")


@pytest.fixture(scope="module")
def challenge() -> list[dict[str, Any]]:
    assert DATA is not None
    return load_jsonl(Path(DATA) / "challenge.jsonl")


def test_challenge_set(challenge: list[dict[str, Any]]) -> None:
    result = score(id2en, [(c["text"], c["sentences"]) for c in challenge])
    assert result.f1 >= 0.97
    assert result.lost == 0


def test_gold_paragraphs(paragraphs: list[dict[str, Any]]) -> None:
    plain = score(id2en, [(p["text"], p["sentences"]) for p in paragraphs])
    wrapped = score(id2en, [(p["text_wrapped70"], p["sentences"]) for p in paragraphs])
    naive = score(naive_regex, [(p["text"], p["sentences"]) for p in paragraphs])
    assert plain.lost == wrapped.lost == 0
    assert abs(wrapped.f1 - plain.f1) <= 0.002
    assert plain.f1 > naive.f1
    # Regression floor on the stricter count (sentence ends inside a paragraph only).
    assert plain.inner_f1 >= 0.980
    assert wrapped.inner_f1 >= 0.980


def test_issue_target_f1(paragraphs: list[dict[str, Any]]) -> None:
    """The issue's 0.985 on all paragraphs, plain and wrapped, with the data README's metric:
    boundary F1 over every sentence end, paragraph ends included."""
    plain = score(id2en, [(p["text"], p["sentences"]) for p in paragraphs])
    wrapped = score(id2en, [(p["text_wrapped70"], p["sentences"]) for p in paragraphs])
    assert plain.f1 >= 0.985
    assert wrapped.f1 >= 0.985


def test_test_split_floor(paragraphs: list[dict[str, Any]]) -> None:
    """The UD test split alone (the files the data README measures) is 0.98485 today, just
    under 0.985: 12 of its 18 wrong boundaries are gold units that hold two sentences; the
    rest are units ending in ':' (3), a headline without punctuation, a truncated "no." and
    a tokenised "v9. 1". A regression floor, not the target: benchmarks/split_eval.py
    reports the target check for this split."""
    test = [p for p in paragraphs if p["split"] == "test"]
    plain = score(id2en, [(p["text"], p["sentences"]) for p in test])
    wrapped = score(id2en, [(p["text_wrapped70"], p["sentences"]) for p in test])
    assert plain.f1 >= 0.984
    assert wrapped.f1 >= 0.984


@pytest.mark.parametrize("width", [40, 100])
def test_other_wrap_widths(paragraphs: list[dict[str, Any]], width: int) -> None:
    plain = score(id2en, [(p["text"], p["sentences"]) for p in paragraphs])
    wrapped = score(id2en, [(textwrap.fill(p["text"], width), p["sentences"]) for p in paragraphs])
    assert abs(wrapped.f1 - plain.f1) <= 0.002


def test_offsets_on_gold_text(paragraphs: list[dict[str, Any]]) -> None:
    for p in paragraphs[:100]:
        for text in (p["text"], p["text_wrapped70"]):
            check_offsets(text, split_sentences(text, max_chars=120))
