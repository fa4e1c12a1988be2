"""The torch translate stage on the tiny Marian: pooling, order, dedupe, memo, exactness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from pipeline.translate.stage import TranslateStage
from tests.helpers import SENTENCES, make_article, make_stage


class GenerateSpy:
    """Wraps Generator.generate: records how many id lists each call got."""

    def __init__(self, stage: TranslateStage):
        self.calls: list[int] = []
        generator = stage.backend
        original = generator.generate

        def spy(ids: Any, gen: Any, per_item: Any = None, required: Any = None) -> Any:
            self.calls.append(len(ids))
            return original(ids, gen, per_item, required)

        generator.generate = spy  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def alone(tiny_models: Path) -> dict[str, str]:
    """Each sentence translated on its own (batch of one): the reference outputs."""
    stage = make_stage(tiny_models, dedupe=False)
    return {text: stage.translate_texts([text])[text].text for text in SENTENCES}


def test_sentences_pool_across_articles_into_one_generate_call(
    tiny_models: Path, alone: dict[str, str]
) -> None:
    stage = make_stage(tiny_models)
    spy = GenerateSpy(stage)
    articles = [make_article(f"a{i}", SENTENCES[i : i + 2]) for i in range(0, 6, 2)]
    stage(articles)
    assert spy.calls == [6]  # all three articles' sentences went to the model together
    for article in articles:  # and came back to the right article, in order
        assert [s.en for s in article.sentences] == [alone[s.text] for s in article.sentences]


def test_order_is_restored_whatever_the_lengths(tiny_models: Path, alone: dict[str, str]) -> None:
    stage = make_stage(tiny_models, max_batch_tokens=64, max_batch_sentences=2)
    texts = list(reversed(SENTENCES)) + SENTENCES[::2]
    out = stage.translate_texts(texts)
    assert [out[t].text for t in texts] == [alone[t] for t in texts]


def test_identical_sentences_are_translated_once_per_run(tiny_models: Path) -> None:
    stage = make_stage(tiny_models)
    spy = GenerateSpy(stage)
    first = [make_article("x", [SENTENCES[0], SENTENCES[1], SENTENCES[0]])]
    second = [make_article("y", [SENTENCES[1], SENTENCES[2]]), make_article("z", [SENTENCES[0]])]
    stage(first)
    stage(second)
    assert spy.calls == [2, 1]  # the repeat within a batch and both repeats later: free
    assert stage.stats.requested == 6 and stage.stats.generated == 3
    assert stage.stats.memo_hits == 2
    assert second[0].sentences[0].en == first[0].sentences[1].en


def test_memo_is_bounded(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, dedupe_memory=2)
    stage.translate_texts(SENTENCES)
    remembered = [text for text in SENTENCES if stage.recall(text) is not None]
    assert remembered == SENTENCES[-2:]  # the two most recent; the rest evicted
    stage.translate_texts(SENTENCES[:2])  # evicted: generated again
    assert stage.stats.generated == 6 + 2


def test_dedupe_off_translates_every_occurrence(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, dedupe=False)
    spy = GenerateSpy(stage)
    stage.translate_texts([SENTENCES[0], SENTENCES[0]])
    stage.translate_texts([SENTENCES[0]])
    assert spy.calls == [2, 1]


def test_greedy_batched_output_equals_naive_generate_token_for_token(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, max_batch_tokens=400)
    model, tokenizer = stage.backend.loaded.model, stage.backend.tokenizer
    pad = tokenizer.pad_token_id
    recorded: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = model.generate

    def recording(**kwargs: Any) -> torch.Tensor:
        output = original(**kwargs)
        recorded.append((kwargs["input_ids"], output))
        return output

    model.generate = recording
    try:
        stage.translate_texts(SENTENCES)
    finally:
        del model.generate
    assert sum(len(ids) for ids, _ in recorded) == len(SENTENCES)
    assert any(len(ids) > 1 for ids, _ in recorded)  # really batched, with padding
    settings = stage.generation_settings
    for inputs, outputs in recorded:
        for source, batched in zip(inputs, outputs, strict=True):
            source_ids = source[source != pad].unsqueeze(0)
            with torch.inference_mode():
                naive = model.generate(input_ids=source_ids, **settings)[0]
            trimmed = batched[: len(naive)]
            assert trimmed.tolist() == naive.tolist()
            assert (batched[len(naive) :] == pad).all()  # the rest is batch padding only


def test_length_limit_warning_survives_memo_hits(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, max_new_tokens=3)
    first, second = make_article("a", SENTENCES[:1]), make_article("b", SENTENCES[:1])
    stage([first])
    stage([second])
    assert any("maximum length" in w for w in first.warnings)
    assert any("maximum length" in w for w in second.warnings)
