"""translate.ctranslate2 with the tiny Marian: conversion once, same outputs, same settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.generation.models import ModelLoadError
from tests.helpers import SENTENCES, make_article, make_ct2_stage, make_stage

pytest.importorskip("ctranslate2")

from pipeline.generation.ctranslate2_backend import ct2_options


@pytest.fixture(scope="module")
def ct2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ct2-models")


class FakeTokenizer:
    pad_token_id = 9

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [f"t{i}" for i in ids]


def test_length_settings_map_to_the_same_number_of_tokens() -> None:
    tok = FakeTokenizer()
    # transformers spends the last step on the forced </s>: one step less, same text.
    assert (
        ct2_options({"max_new_tokens": 10, "forced_eos_token_id": 0}, tok)["max_decoding_length"]
        == 9
    )
    assert ct2_options({"max_new_tokens": 10}, tok)["max_decoding_length"] == 10
    # max_length and min_length count the decoder start token; CTranslate2 does not.
    assert ct2_options({"max_length": 512}, tok)["max_decoding_length"] == 511
    assert ct2_options({"min_length": 5}, tok)["min_decoding_length"] == 4
    assert ct2_options({"min_new_tokens": 5}, tok)["min_decoding_length"] == 5
    # forced lengths (min = max) with a forced </s>: the end token takes the last step
    forced = ct2_options(
        {"min_new_tokens": 10, "max_new_tokens": 10, "forced_eos_token_id": 0}, tok
    )
    assert forced["min_decoding_length"] == forced["max_decoding_length"] == 9


def test_search_and_repetition_settings_map_across() -> None:
    gen = {
        "num_beams": 6,
        "length_penalty": 0.8,
        "no_repeat_ngram_size": 3,
        "repetition_penalty": 1.3,
        "bad_words_ids": [[9], [4, 5]],  # [[pad]] is implicit in CTranslate2's vocab
        "suppress_tokens": [7],
        "max_new_tokens": 20,
    }
    options = ct2_options(gen, FakeTokenizer())
    assert options["beam_size"] == 6
    assert options["length_penalty"] == 0.8
    assert options["no_repeat_ngram_size"] == 3
    assert options["repetition_penalty"] == 1.3
    assert options["suppress_sequences"] == [["t4", "t5"], ["t7"]]
    sampled = ct2_options({"do_sample": True, "top_k": 10, "temperature": 0.7}, FakeTokenizer())
    assert sampled["sampling_topk"] == 10 and sampled["sampling_temperature"] == 0.7


@pytest.mark.parametrize("beams", [1, 3])
def test_outputs_match_the_torch_stage(tiny_models: Path, ct2_dir: Path, beams: int) -> None:
    torch_out = make_stage(tiny_models, num_beams=beams).translate_texts(SENTENCES)
    ct2_out = make_ct2_stage(tiny_models, ct2_dir, num_beams=beams).translate_texts(SENTENCES)
    for text in SENTENCES:
        assert ct2_out[text].text == torch_out[text].text
        assert ct2_out[text].output_tokens == torch_out[text].output_tokens
        assert ct2_out[text].hit_length_limit == torch_out[text].hit_length_limit


def test_conversion_happens_once_and_is_reused(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctranslate2.converters import TransformersConverter

    conversions: list[str] = []
    original = TransformersConverter.convert

    def counting(self: Any, output_dir: str, *args: Any, **kwargs: Any) -> Any:
        conversions.append(output_dir)
        return original(self, output_dir, *args, **kwargs)

    monkeypatch.setattr(TransformersConverter, "convert", counting)
    first = make_ct2_stage(tiny_models, tmp_path, ct2_compute_type="int8")
    first.translate_texts(SENTENCES[:1])
    second = make_ct2_stage(tiny_models, tmp_path, ct2_compute_type="int8_float32")
    second.translate_texts(SENTENCES[:1])
    assert len(conversions) == 1  # int8 and int8_float32 read the same int8 weights
    assert (
        first.backend.model_dir == second.backend.model_dir and first.backend.model_dir is not None
    )
    assert (first.backend.model_dir / "model.bin").exists()
    assert [p.name for p in tmp_path.iterdir()] == [
        first.backend.model_dir.name
    ]  # no temp leftovers


def test_stage_pools_dedupes_and_shares_the_cache(
    tiny_models: Path, ct2_dir: Path, tmp_path: Path
) -> None:
    cache = str(tmp_path / "translations.sqlite")
    stage = make_ct2_stage(tiny_models, ct2_dir, cache_path=cache)
    articles = [make_article("a", SENTENCES[:3]), make_article("b", SENTENCES[1:4])]
    stage(articles)
    assert stage.stats.generated == 4 and stage.stats.memo_hits == 0
    assert articles[0].meta["models"]["translate"]["stage"] == "translate.ctranslate2"
    assert articles[1].sentences[0].en == articles[0].sentences[1].en

    rerun = make_ct2_stage(tiny_models, ct2_dir, cache_path=cache)
    rerun.translate_texts(SENTENCES[:4])
    assert rerun.stats.cache_hits == 4 and rerun.stats.generated == 0


def test_missing_package_is_a_clear_setup_error(
    tiny_models: Path, ct2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)
    stage = make_ct2_stage(tiny_models, ct2_dir)
    with pytest.raises(ModelLoadError, match="pip install"):
        stage.translate_texts(SENTENCES[:1])
