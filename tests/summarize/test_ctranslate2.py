"""summarize.ctranslate2 with the tiny BART: registered, converted once, the same summaries
as the torch stage token for token (float32), the same map-reduce, guards and retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.guards import GuardFinding
from pipeline.registry import build_stage
from pipeline.summarize.stage import SummarizeStage
from pipeline.types import Article, Sentence
from tests.helpers import tiny_config_dict

pytest.importorskip("ctranslate2")

TOPICS = ["river", "market", "school", "bridge", "harbour", "railway", "forest", "village"]


def english_article(n_sentences: int, article_id: str) -> Article:
    # Test data standing in for the translate stage's output, not a model's output.
    sentences = [
        Sentence(
            text=f"Kalimat {i}.",
            paragraph=0,
            start=0,
            end=0,
            en=f"The {TOPICS[(i + len(article_id)) % len(TOPICS)]} plan {i} was discussed "
            f"by the council on day {i}.",
        )
        for i in range(n_sentences)
    ]
    return Article(id=article_id, text="", sentences=sentences)


def articles() -> list[Article]:
    # within the 128-token window, and over it (map-reduce with two levels or more)
    return [english_article(4, "short"), english_article(30, "long"), english_article(7, "mid")]


@pytest.fixture(scope="module")
def ct2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ct2-bart")


def summarize_config(models: Path, ct2_dir: Path, stage: str, **summarize: object):
    settings = {
        "num_beams": 4,  # the model's length_penalty 2.0, no_repeat_ngram 3, min 8 / max 24
        "ct2_model_dir": str(ct2_dir),
        "ct2_compute_type": "float32",
        **summarize,
    }
    sections = {"summarize": settings, "guards": {"enabled": False}}
    data = tiny_config_dict(models, **sections)
    data["stages"] = {"split": None, "translate": None, "summarize": stage}
    return load_config(data)


def summaries(stage: SummarizeStage) -> list[tuple]:
    """Summary, how it was made (its score aside: see scores()), warnings."""
    done = stage(articles())
    made = [{k: v for k, v in a.meta["summary"].items() if k != "score"} for a in done]
    scores = [a.meta["summary"]["score"] for a in done]
    return [
        (a.summary, m, a.warnings, score) for a, m, score in zip(done, made, scores, strict=True)
    ]


def same_but_scores(got: list[tuple], expected: list[tuple]) -> None:
    """Equal token for token; scores within 1e-3 (two libraries' float32 sums differ in
    the 5th digit, as tests/generation/test_confidence_scores.py allows)."""
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    assert [g[3] for g in got] == pytest.approx([e[3] for e in expected], abs=1e-3)


# CTranslate2 bans repeated n-grams before its softmax, so the other tokens' log-probs are
# renormalised over what is left: that is transformers' renormalize_logits=True. With bans
# firing in a beam, the two libraries' defaults can rank beams differently (one chunk in six
# here); with the same normalisation they agree token for token. (repetition_penalty is not
# compared: CTranslate2 scales logits, transformers' beam search scales log-probabilities,
# so the same value is a different penalty; the guard retry uses it on both backends.)
SAME_SEARCH = [
    ({"no_repeat_ngram_size": 0}, {"no_repeat_ngram_size": 0}),
    ({}, {"extra": {"renormalize_logits": True}}),  # the model's no_repeat_ngram_size 3
]


@pytest.mark.slow
@pytest.mark.parametrize("ct2_settings,torch_settings", SAME_SEARCH)
def test_float32_summaries_equal_torch_token_for_token(
    tiny_models: Path, ct2_dir: Path, ct2_settings: dict, torch_settings: dict | None
) -> None:
    """Whole stages (torch on id2en's loop): single pass and map-reduce, same summaries."""
    torch_settings = ct2_settings if torch_settings is None else torch_settings
    torch_config = summarize_config(tiny_models, ct2_dir, "summarize.seq2seq", **torch_settings)
    ct2_config = summarize_config(tiny_models, ct2_dir, "summarize.ctranslate2", **ct2_settings)
    torch_stage, ct2_stage = (
        build_stage("summarize", torch_config),
        build_stage("summarize", ct2_config),
    )
    assert isinstance(ct2_stage, SummarizeStage) and ct2_stage.backend_kind == "ctranslate2"
    expected, got = summaries(torch_stage), summaries(ct2_stage)
    same_but_scores(got, expected)
    levels = [meta["levels"] for _, meta, _, _ in got]
    assert levels[0] == 1 and levels[1] >= 2  # both paths ran: single pass and map-reduce


def test_ngram_bans_are_where_the_libraries_differ(tiny_models: Path, ct2_dir: Path) -> None:
    """The explanation above, checked: on these chunks transformers' default normalisation
    gives a different beam than CTranslate2 at least once, renormalised never."""
    torch_stage = build_stage(
        "summarize", summarize_config(tiny_models, ct2_dir, "summarize.seq2seq")
    )
    ct2_stage = build_stage(
        "summarize", summarize_config(tiny_models, ct2_dir, "summarize.ctranslate2")
    )
    long_article = articles()[1]
    chunks = torch_stage.chunker.pack([s.en or "" for s in long_article.sentences])
    ids = torch_stage.backend.token_ids(chunks)
    settings = torch_stage.generation_settings
    ours = [ct2_stage.backend.generate([x], settings)[0] for x in ids]
    plain = [torch_stage.backend.generate([x], settings)[0] for x in ids]
    renormalised = [
        torch_stage.backend.generate([x], settings | {"renormalize_logits": True})[0] for x in ids
    ]
    assert ours == renormalised
    assert ours != plain


def test_forced_bos_is_a_target_prefix(tiny_models: Path, ct2_dir: Path) -> None:
    from pipeline.generation.ctranslate2_backend import forced_prefix

    stage = build_stage(
        "summarize", summarize_config(tiny_models, ct2_dir, "summarize.ctranslate2")
    )
    settings = stage.generation_settings
    assert settings["forced_bos_token_id"] == 0
    assert forced_prefix(settings, stage.backend.tokenizer, 2) == [["<s>"], ["<s>"]]
    assert forced_prefix({}, stage.backend.tokenizer, 2) is None


def test_int8_runs_map_reduce_and_says_what_made_it(tiny_models: Path, ct2_dir: Path) -> None:
    config = summarize_config(
        tiny_models, ct2_dir, "summarize.ctranslate2", ct2_compute_type="int8"
    )
    stage = build_stage("summarize", config)
    done = stage(articles())
    assert all(a.error is None and a.summary for a in done)
    assert done[1].meta["summary"]["strategy"] == "chunk"
    assert done[0].meta["models"]["summarize"]["backend"] == "ctranslate2/int8"
    assert done[0].meta["models"]["summarize"]["stage"] == "summarize.ctranslate2"


def test_guard_retry_runs_on_ctranslate2(
    tiny_models: Path, ct2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry's settings (no_repeat_ngram_size 3, repetition_penalty 1.3) map across."""
    calls: list[str] = []

    def fake_check(source: str, summary: str, settings: object) -> list[GuardFinding]:
        calls.append(summary)
        return [GuardFinding("repetition", "loop")] if len(calls) == 1 else []

    monkeypatch.setattr("pipeline.summarize.stage.check_summary", fake_check)
    config = summarize_config(tiny_models, ct2_dir, "summarize.ctranslate2")
    config.guards.enabled = True
    article = english_article(4, "a")
    build_stage("summarize", config)([article])
    assert "summary: retried with safer decoding after: repetition" in article.warnings
    assert len(calls) == 2


def test_torch_summaries_run_the_id2en_loop(
    tiny_models: Path, ct2_dir: Path, counted_search: list[int]
) -> None:
    """distilbart's no_repeat_ngram_size no longer sends summaries to transformers' loop."""
    stage = build_stage("summarize", summarize_config(tiny_models, ct2_dir, "summarize.seq2seq"))
    assert stage.generation_settings["no_repeat_ngram_size"] == 3
    stage([english_article(4, "a")])
    assert counted_search


def test_cpu_fast_keeps_abstractive_summaries_on_ctranslate2() -> None:
    config = load_config("cpu-fast")
    assert config.stages.translate == "translate.ctranslate2"
    assert config.stages.summarize == "summarize.ctranslate2"
    stage = build_stage("summarize", config)  # no model loads until the first batch
    assert isinstance(stage, SummarizeStage) and stage.backend_kind == "ctranslate2"
    assert config.summarize.long_input == "select"  # one pass per article, warned
