"""Extractive summary: centrality ranking, document order, limits, edge cases, scale."""

from __future__ import annotations

import random

import pytest

from pipeline.summarize.extractive import extractive_summary, rank_sentences

NEWS = [
    "The Jakarta government will build twelve new toll roads to reduce congestion.",
    "The governor said the toll roads would connect the port with the southern suburbs.",
    "Critics argue that new roads only attract more cars into the city.",
    "The money would be better spent on the MRT and bus network, critics said.",
    "Construction of the first toll roads will begin next year, the governor said.",
    "Residents affected by the construction will receive compensation.",
    "Separately, the football team won its third match of the season.",
    "The congestion in Jakarta costs the economy billions every year.",
]

# Sentence 3 shares a word with every other sentence; the others share nothing with each other.
HUB = [
    "Solar panels power homes across the district.",
    "The river floods during every monsoon.",
    "Teachers marched through the capital on Tuesday.",
    "Solar river teachers farmers bridge: one report covered them all.",
    "Farmers harvested rice before the rains came.",
    "A new bridge opened near the market.",
]


def test_empty_and_single() -> None:
    assert rank_sentences([]) == []
    assert extractive_summary([]) == []
    assert rank_sentences(["Only one sentence."]) == [1.0]
    assert extractive_summary(["Only one sentence."]) == [0]


def test_two_sentences() -> None:
    scores = rank_sentences(["Cats eat fish.", "Dogs chase cats."])
    assert scores == pytest.approx([0.5, 0.5])
    assert extractive_summary(["Cats eat fish.", "Dogs chase cats."]) == [0, 1]
    assert extractive_summary(["Cats eat fish.", "Dogs chase cats."], max_sentences=1) == [0]


def test_scores_are_a_distribution() -> None:
    scores = rank_sentences(NEWS)
    assert len(scores) == len(NEWS)
    assert all(s > 0 for s in scores)
    assert sum(scores) == pytest.approx(1.0)


def test_document_order_and_max_sentences() -> None:
    for k in range(1, len(NEWS) + 2):
        chosen = extractive_summary(NEWS, max_sentences=k)
        assert chosen == sorted(chosen)
        assert len(chosen) == min(k, len(NEWS))
        assert len(set(chosen)) == len(chosen)
    assert extractive_summary(NEWS, max_sentences=0) == []


def test_off_topic_sentence_is_not_chosen() -> None:
    chosen = extractive_summary(NEWS, max_sentences=3)
    assert 6 not in chosen  # the football sentence shares nothing with the story


def test_max_ratio() -> None:
    assert len(extractive_summary(NEWS, max_sentences=10, max_ratio=0.25)) == 2
    assert len(extractive_summary(NEWS, max_sentences=1, max_ratio=0.5)) == 1
    assert len(extractive_summary(NEWS[:2], max_ratio=0.1)) == 1  # at least one
    with pytest.raises(ValueError, match="max_ratio"):
        extractive_summary(NEWS, max_ratio=0.0)
    with pytest.raises(ValueError, match="max_ratio"):
        extractive_summary(NEWS, max_ratio=1.5)


def test_deterministic() -> None:
    assert rank_sentences(NEWS) == rank_sentences(list(NEWS))
    assert extractive_summary(NEWS) == extractive_summary(list(NEWS))


def test_central_sentence_is_chosen() -> None:
    scores = rank_sentences(HUB)
    assert max(range(len(HUB)), key=scores.__getitem__) == 3
    assert extractive_summary(HUB, max_sentences=1) == [3]
    assert 3 in extractive_summary(HUB, max_sentences=2)


def test_ties_broken_by_position() -> None:
    # Nothing shared: every sentence is equally central, so the earliest ones win.
    unrelated = ["Apples are red.", "Rivers flow north.", "Engines need fuel.", "Owls hunt mice."]
    scores = rank_sentences(unrelated)
    assert scores == pytest.approx([0.25] * 4)
    assert extractive_summary(unrelated, max_sentences=2) == [0, 1]


def test_duplicates() -> None:
    doc = [
        "The minister resigned on Friday.",
        "The minister resigned on Friday.",
        "Prices rose sharply in March.",
        "The minister said prices rose in March.",
    ]
    scores = rank_sentences(doc)
    assert scores[0] == pytest.approx(scores[1])
    chosen = extractive_summary(doc, max_sentences=3)
    assert not {0, 1} <= set(chosen)  # never both copies
    assert len(chosen) == 3
    same = ["Same sentence here."] * 5
    assert rank_sentences(same) == pytest.approx([0.2] * 5)
    assert extractive_summary(same) == [0]


def test_blank_and_stopword_only_sentences() -> None:
    doc = ["", "   ", "It was there.", "Rice prices rose.", "Rice harvest failed.", "..."]
    scores = rank_sentences(doc)
    assert len(scores) == len(doc)
    chosen = extractive_summary(doc, max_sentences=10)
    assert chosen == [2, 3, 4]  # blanks and punctuation-only lines are never chosen


def test_indonesian_input() -> None:
    doc = [
        "Pemerintah akan membangun jalan tol baru di Jakarta.",
        "Gubernur mengatakan jalan tol itu menghubungkan pelabuhan dan pinggiran kota.",
        "Tim sepak bola menang dalam pertandingan ketiga.",
        "Pembangunan jalan tol dimulai tahun depan, kata gubernur.",
    ]
    chosen = extractive_summary(doc, max_sentences=2)
    assert 2 not in chosen
    assert chosen == sorted(chosen)


def test_long_document_runs() -> None:
    rng = random.Random(0)
    vocab = [f"word{i}" for i in range(3000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like, as in real text
    doc = [" ".join(rng.choices(vocab, weights, k=rng.randint(8, 35))) + "." for _ in range(2000)]
    scores = rank_sentences(doc)
    assert len(scores) == 2000
    chosen = extractive_summary(doc, max_sentences=5)
    assert len(chosen) == 5
    assert chosen == sorted(chosen)
    assert all(0 <= i < 2000 for i in chosen)
