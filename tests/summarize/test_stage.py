"""Summaries of any length: map-reduce, truncate, error, short texts, relative lengths."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.guards import GuardFinding
from pipeline.summarize.stage import ExtractiveSummarizeStage, SummarizeStage
from pipeline.types import Article, Sentence
from tests.helpers import tiny_config_dict

# English input for the summarizer is written here as test data: it is what the translate
# stage would hand over, not a claim about any model's output.
TOPICS = ["river", "market", "school", "bridge", "harbour", "railway", "forest", "village"]


def english_article(n_sentences: int, article_id: str = "doc") -> Article:
    sentences = [
        Sentence(
            text=f"Kalimat {i}.",
            paragraph=i // 5,
            start=0,
            end=0,
            en=f"The {TOPICS[i % len(TOPICS)]} project number {i} was discussed by the "
            f"council of the district on day {i} with many residents present.",
        )
        for i in range(n_sentences)
    ]
    return Article(id=article_id, text="", sentences=sentences)


def make_stage(tiny_models: Path, **summarize: object) -> SummarizeStage:
    config = load_config(tiny_config_dict(tiny_models, summarize=summarize))
    return SummarizeStage(config)


def tokens_of(stage: SummarizeStage, article: Article) -> int:
    english = " ".join(s.en or "" for s in article.sentences)
    return len(stage.backend.token_ids([english])[0])


def test_window_comes_from_the_model(tiny_models: Path) -> None:
    stage = make_stage(tiny_models)
    assert stage.window == 128  # the tiny BART's max_position_embeddings


def test_three_window_article_is_map_reduced_into_one_summary(tiny_models: Path) -> None:
    stage = make_stage(tiny_models)
    article = english_article(24)
    assert tokens_of(stage, article) > 3 * stage.window
    stage([article])
    assert article.error is None
    assert isinstance(article.summary, str) and article.summary
    info = article.meta["summary"]
    assert info["strategy"] == "chunk"
    assert info["levels"] >= 2
    assert len(info["partial_summaries"][0]) >= 3  # at least one partial per window


@pytest.mark.parametrize("short", [False, True])
def test_chunks_are_whole_sentences_that_fill_the_window_without_crossing_it(
    tiny_models: Path, short: bool
) -> None:
    stage = make_stage(tiny_models)
    sentences = [s.en or "" for s in english_article(24).sentences]
    if short:  # many sentences per chunk: counting each with begin/end tokens would show
        sentences = [f"The {TOPICS[i % 8]} {i}." for i in range(120)]
    chunks = stage.chunker.pack(sentences)
    counts = [len(ids) for ids in stage.backend.token_ids(chunks)]
    assert all(count <= stage.window for count in counts), counts
    assert " ".join(chunks) == " ".join(sentences)  # in order, nothing dropped or cut
    # Fewest chunks: each chunk but the last is full, so the next sentence would not fit.
    consumed = 0
    for chunk in chunks[:-1]:
        consumed += sum(1 for s in sentences[consumed:] if s in chunk)
        longer = chunk + " " + sentences[consumed]
        assert len(stage.backend.token_ids([longer])[0]) > stage.window


def test_a_sentence_over_the_window_with_no_clause_break_is_cut_between_tokens(
    tiny_models: Path,
) -> None:
    stage = make_stage(tiny_models)
    endless = "x" * 2000  # one "word": no clause boundary and no space to cut at
    chunks = stage.chunker.pack(["A short opening sentence.", endless])
    counts = [len(ids) for ids in stage.backend.token_ids(chunks)]
    assert len(chunks) >= 3 and all(count <= stage.window for count in counts), counts
    assert "".join(chunks).replace(" ", "").endswith(endless)  # every character kept


def test_short_input_is_summarized_once(tiny_models: Path) -> None:
    stage = make_stage(tiny_models)
    article = english_article(2)
    stage([article])
    assert article.meta["summary"]["levels"] == 1
    assert article.meta["summary"]["partial_summaries"] == []


def test_truncate_warns_and_summarizes_the_first_window(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, long_input="truncate")
    article = english_article(24)
    stage([article])
    assert article.summary is not None
    assert any(
        "summary input truncated" in w and "> 128-token window" in w for w in article.warnings
    )
    assert article.meta["summary"]["levels"] == 1


def test_select_summarizes_the_most_central_whole_sentences_in_one_pass(
    tiny_models: Path,
) -> None:
    stage = make_stage(tiny_models, long_input="select")
    article = english_article(24)
    calls: list[list[int]] = []
    generate = stage.backend.generate
    stage.backend.generate = lambda ids, *a, **k: (
        calls.append(list(map(len, ids))) or generate(ids, *a, **k)
    )
    stage([article])
    info = article.meta["summary"]
    assert article.summary and info["strategy"] == "select" and info["levels"] == 1
    assert len(calls) == 1 and len(calls[0]) == 1  # one pass, one input
    chosen = info["selected_sentences"]
    assert chosen == sorted(set(chosen)) and 0 in chosen  # document order; the lead is kept
    assert 1 < len(chosen) < len(article.sentences)
    selected = " ".join(article.sentences[i].en or "" for i in chosen)
    assert calls[0][0] == len(stage.backend.token_ids([selected])[0]) <= stage.window
    # Full: no sentence left out would still fit beside the chosen ones.
    room = stage.window - calls[0][0]
    left_out = [s.en or "" for i, s in enumerate(article.sentences) if i not in chosen]
    assert min(len(ids) - 2 for ids in stage.backend.token_ids(left_out)) > room
    [warning] = [w for w in article.warnings if w.startswith("summary input selected")]
    assert f"the {len(chosen)} of 24 sentences most central" in warning


def test_select_leaves_text_within_the_window_alone(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, long_input="select")
    article = english_article(2)
    stage([article])
    assert article.meta["summary"]["strategy"] == "single"
    assert "selected_sentences" not in article.meta["summary"]
    assert not any("selected" in w for w in article.warnings)


def test_error_strategy_fails_only_that_article(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, long_input="error")
    long, short = english_article(24, "long"), english_article(2, "short")
    stage([long, short])
    assert long.error is not None and "over the model's 128-token window" in long.error
    assert "'chunk'" in long.error
    assert short.error is None and short.summary is not None


def test_text_under_the_minimum_length_is_returned_unchanged(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, min_length=60)
    article = english_article(1)
    stage([article])
    assert article.summary == article.sentences[0].en
    assert any("under the summary's minimum length (60)" in w for w in article.warnings)


def test_max_length_ratio_caps_summary_length(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, max_length_ratio=0.1, min_length=1, max_length=200)
    article = english_article(3)
    stage([article])
    input_tokens = article.meta["summary"]["input_tokens"]
    summary_tokens = stage.backend.count_tokens([article.summary or ""])[0]
    assert summary_tokens <= int(input_tokens * 0.1) + 3  # plus begin/end markers


def test_no_english_means_no_summary_and_a_warning(tiny_models: Path) -> None:
    stage = make_stage(tiny_models)
    article = Article(id="x", text="Satu.", sentences=[Sentence("Satu.", 0, 0, 5)])
    stage([article])
    assert article.summary is None
    assert any("no English text" in w for w in article.warnings)


def test_generation_defaults_come_from_the_checkpoint_and_overrides_one_field(
    tiny_models: Path,
) -> None:
    default = make_stage(tiny_models, num_beams=None).generation_settings
    changed = make_stage(tiny_models, num_beams=None, length_penalty=1.0).generation_settings
    assert default["length_penalty"] == 2.0 and changed["length_penalty"] == 1.0
    assert {k: v for k, v in changed.items() if k != "length_penalty"} == {
        k: v for k, v in default.items() if k != "length_penalty"
    }


def test_summary_guard_fires_and_retry_is_recorded(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stubbed checker flags the first summary; the retry result is kept if it is cleaner."""
    calls: list[str] = []

    def fake_check(source: str, summary: str, settings: object) -> list[GuardFinding]:
        calls.append(summary)
        if len(calls) == 1:
            return [GuardFinding("repetition", "repetition loop: 'x' repeated 9x")]
        return []

    monkeypatch.setattr("pipeline.summarize.stage.check_summary", fake_check)
    stage = make_stage(tiny_models)
    article = english_article(3)
    stage([article])
    assert "summary: retried with safer decoding after: repetition" in article.warnings
    assert len(calls) == 2


def test_summary_guard_without_retry_records_the_finding(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "pipeline.summarize.stage.check_summary",
        lambda *a: [GuardFinding("summary_longer", "summary is 120% of its text")],
    )
    config = load_config(tiny_config_dict(tiny_models, guards={"retry": False}))
    article = english_article(3)
    SummarizeStage(config)([article])
    assert "summary: summary_longer: summary is 120% of its text" in article.warnings
    assert article.meta["guards"] == {"summary_longer": 1}


def test_extractive_stage_picks_whole_sentences_in_order(tiny_models: Path) -> None:
    config = load_config(tiny_config_dict(tiny_models, summarize={"extractive_sentences": 2}))
    article = english_article(10)
    ExtractiveSummarizeStage(config)([article])
    chosen = article.meta["summary"]["sentences"]
    assert len(chosen) == 2 and chosen == sorted(chosen)
    assert article.summary == " ".join(article.sentences[i].en or "" for i in chosen)
