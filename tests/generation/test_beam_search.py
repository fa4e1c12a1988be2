"""The lean beam-search loop: same outputs as transformers' own, and it really runs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

import pipeline.generation.beam_search as beam_search
from pipeline.config import ModelSource, load_config
from pipeline.generation.models import load_seq2seq
from tests.helpers import tiny_config_dict

SENTENCES = [
    "Pemerintah daerah meresmikan jembatan baru di tepi sungai.",
    "Harga beras naik tipis menjelang akhir bulan.",
    "Warga berkumpul di balai desa untuk membahas rencana pembangunan jalan.",
    "Hujan deras mengguyur kota sejak pagi.",
    "Tim nasional menang dua gol tanpa balas dalam pertandingan persahabatan.",
    "Ia membaca.",
]

SETTINGS = [
    {"num_beams": 4, "max_new_tokens": 12},
    {"num_beams": 3, "max_new_tokens": 10, "length_penalty": 2.0},
    {"num_beams": 4, "max_new_tokens": 9, "length_penalty": -0.5},
    {"num_beams": 4, "max_new_tokens": 8, "early_stopping": True},
    {"num_beams": 2, "max_new_tokens": 9, "early_stopping": "never", "min_length": 5},
    {"num_beams": 4, "max_new_tokens": 10, "min_new_tokens": 10, "forced_eos_token_id": None},
    {"num_beams": 4, "max_new_tokens": 7, "renormalize_logits": False},
    {"num_beams": 5, "max_length": 11},
]


def _load(models: Path, name: str):
    return load_seq2seq(ModelSource(model=str(models / name), local_files_only=True), device="cpu")


def _inputs(loaded, texts: list[str]) -> dict:
    # Cut to the model's window (128 tokens for the tiny BART): past it BART has no
    # positions, and how many tokens a text makes is the tokenizer's business.
    window = loaded.max_input_tokens
    encoded = loaded.tokenizer(
        texts, return_tensors="pt", padding=True, truncation=True, max_length=window
    )
    return dict(encoded)


def _both(model, inputs: dict, settings: dict) -> tuple[list, list]:
    with torch.inference_mode():
        theirs = model.generate(**inputs, **settings)
        ours = model.generate(**inputs, custom_generate=beam_search.lean_beam_search, **settings)
    return theirs.tolist(), ours.tolist()


def _describe(settings: dict) -> str:
    return ",".join(f"{key}={value}" for key, value in settings.items())


@pytest.mark.parametrize("settings", SETTINGS, ids=_describe)
def test_marian_outputs_equal_transformers(tiny_models: Path, settings: dict, counted_search):
    loaded = _load(tiny_models, "marian")
    theirs, ours = _both(loaded.model, _inputs(loaded, SENTENCES), settings)
    assert ours == theirs
    assert counted_search, "the lean loop did not run; the test compared the fallback"


def test_bart_outputs_equal_transformers(tiny_models: Path, counted_search):
    loaded = _load(tiny_models, "bart")
    text = " ".join(SENTENCES[:2])
    inputs = _inputs(loaded, [text, SENTENCES[0], SENTENCES[2]])
    settings = {"num_beams": 3, "max_new_tokens": 14, "min_length": 4, "no_repeat_ngram_size": 0}
    theirs, ours = _both(loaded.model, inputs, settings)
    assert ours == theirs
    assert counted_search


def test_random_batches_agree(tiny_models: Path, counted_search):
    """Many shapes: batches of 1..7 sentences cut at random lengths."""
    loaded = _load(tiny_models, "marian")
    rng = random.Random(7)
    words = " ".join(SENTENCES).split()
    mismatched = 0
    for _ in range(12):
        texts = [" ".join(rng.sample(words, rng.randint(1, 14))) for _ in range(rng.randint(1, 7))]
        theirs, ours = _both(
            loaded.model, _inputs(loaded, texts), {"num_beams": 4, "max_new_tokens": 10}
        )
        mismatched += sum(a != b for a, b in zip(theirs, ours, strict=True))
    assert mismatched == 0
    assert len(counted_search) == 12


# Repetition settings mixed with the others (the model's own, for distilbart: beams 4,
# length_penalty 2.0, no_repeat_ngram_size 3, min_length 56). Short outputs of a random
# model repeat a lot, so n-gram bans and penalties fire at nearly every step.
REPETITION_SETTINGS = [
    {"num_beams": 4, "max_new_tokens": 24, "no_repeat_ngram_size": 3, "length_penalty": 2.0},
    {"num_beams": 3, "max_new_tokens": 20, "no_repeat_ngram_size": 2, "min_length": 8},
    {"num_beams": 4, "max_new_tokens": 16, "no_repeat_ngram_size": 1},
    {"num_beams": 3, "max_new_tokens": 16, "repetition_penalty": 1.3},
    {"num_beams": 4, "max_new_tokens": 16, "repetition_penalty": 0.7, "early_stopping": True},
    {
        "num_beams": 4,
        "max_new_tokens": 20,
        "no_repeat_ngram_size": 3,
        "repetition_penalty": 1.2,
        "renormalize_logits": True,
    },
    {"num_beams": 2, "max_new_tokens": 18, "no_repeat_ngram_size": 2, "renormalize_logits": False},
]


@pytest.mark.parametrize("settings", REPETITION_SETTINGS, ids=_describe)
@pytest.mark.parametrize("model_name", ["marian", "bart"])
def test_repetition_settings_equal_transformers(
    tiny_models: Path, model_name: str, settings: dict, counted_search
):
    loaded = _load(tiny_models, model_name)
    texts = [" ".join(SENTENCES[:3]), *SENTENCES]
    theirs, ours = _both(loaded.model, _inputs(loaded, texts), settings)
    assert ours == theirs
    assert counted_search, "the lean loop did not run; the test compared the fallback"


def test_repetition_settings_really_change_the_search(tiny_models: Path):
    """The settings above are not no-ops on these models (else the test could not fail)."""
    loaded = _load(tiny_models, "bart")
    inputs = _inputs(loaded, SENTENCES)
    plain = {"num_beams": 4, "max_new_tokens": 24, "no_repeat_ngram_size": 0}
    with torch.inference_mode():
        free = loaded.model.generate(**inputs, **plain).tolist()
        for extra in ({"no_repeat_ngram_size": 3}, {"repetition_penalty": 1.3}):
            changed = loaded.model.generate(**inputs, **(plain | extra)).tolist()
            assert changed != free, extra
    ngram = 3
    with torch.inference_mode():
        out = loaded.model.generate(
            **inputs,
            **plain | {"no_repeat_ngram_size": ngram},
            custom_generate=beam_search.lean_beam_search,
        ).tolist()
    for row in out:
        seen = [tuple(row[i : i + ngram]) for i in range(len(row) - ngram + 1)]
        content = [g for g in seen if loaded.tokenizer.pad_token_id not in g]
        assert len(content) == len(set(content)), "an n-gram repeated"


def test_shortlist_with_repetition_settings_equals_transformers(tiny_models: Path, counted_search):
    """With a restricted output layer the bans and penalties land on the right columns."""
    from pipeline.generation.restricted_head import head_parameters, restricted_output

    loaded = _load(tiny_models, "marian")
    model, tok = loaded.model, loaded.tokenizer
    inputs = _inputs(loaded, SENTENCES[:4])
    allowed = sorted(set(range(0, model.config.vocab_size, 3)) | {0, tok.pad_token_id})
    index = torch.tensor(allowed)
    settings = {"num_beams": 3, "max_new_tokens": 16, "no_repeat_ngram_size": 2}
    settings |= {"repetition_penalty": 1.4}
    with restricted_output(model, index, head_parameters(model)):
        theirs, ours = _both(model, inputs, settings)
    assert ours == theirs
    assert counted_search


@pytest.mark.parametrize(
    "settings",
    [
        {"num_beams": 1, "max_new_tokens": 8},
        {"num_beams": 2, "max_new_tokens": 8, "num_return_sequences": 2},
        {"num_beams": 3, "max_new_tokens": 8, "encoder_repetition_penalty": 1.3},
    ],
    ids=["greedy", "two-returned", "encoder-repetition-penalty"],
)
def test_settings_it_does_not_mirror_run_transformers_loop(
    tiny_models: Path, settings: dict, counted_search
):
    loaded = _load(tiny_models, "marian")
    theirs, ours = _both(loaded.model, _inputs(loaded, SENTENCES[:3]), settings)
    assert ours == theirs
    assert counted_search == []


def test_plan_reads_marian_processors(tiny_models: Path):
    from transformers.generation.logits_process import (
        ForcedEOSTokenLogitsProcessor,
        LogitNormalization,
        LogitsProcessorList,
        MinLengthLogitsProcessor,
        NoBadWordsLogitsProcessor,
        TemperatureLogitsWarper,
    )
    from transformers.generation.stopping_criteria import (
        EosTokenCriteria,
        MaxLengthCriteria,
        StoppingCriteriaList,
    )

    config = _load(tiny_models, "marian").model.generation_config
    config._eos_token_tensor = torch.tensor([0])
    stops = StoppingCriteriaList([MaxLengthCriteria(20), EosTokenCriteria(0)])
    processors = LogitsProcessorList(
        [
            MinLengthLogitsProcessor(3, 0),
            NoBadWordsLogitsProcessor([[7]], eos_token_id=0),
            ForcedEOSTokenLogitsProcessor(20, 0),
            LogitNormalization(),
        ]
    )
    plan = beam_search.plan_scoring(processors, stops, config)
    assert plan == beam_search.ScorePlan(
        banned=(7,), eos=(0,), min_length=3, forced={19: 0}, renormalize=True, max_length=20
    )
    multi_token = LogitsProcessorList([NoBadWordsLogitsProcessor([[7, 8]], eos_token_id=0)])
    assert beam_search.plan_scoring(multi_token, stops, config) is None
    sampling = LogitsProcessorList([TemperatureLogitsWarper(0.7)])
    assert beam_search.plan_scoring(sampling, stops, config) is None
    after_normalising = LogitsProcessorList([LogitNormalization(), MinLengthLogitsProcessor(3, 0)])
    assert beam_search.plan_scoring(after_normalising, stops, config) is None


def test_stage_translations_equal_with_either_loop(tiny_models: Path, counted_search):
    from pipeline.translate.stage import TranslateStage

    texts = SENTENCES * 2
    results = {}
    for loop in ("transformers", "id2en"):
        config = load_config(
            tiny_config_dict(tiny_models, translate={"search_loop": loop, "num_beams": 3})
        )
        stage = TranslateStage(config)
        results[loop] = stage.translate_texts(texts)
    assert results["id2en"] == results["transformers"]
    assert counted_search


def test_growing_layer_matches_dynamic_layer_through_updates_and_reorders():
    from transformers.cache_utils import DynamicLayer

    from pipeline.generation.kv_cache import growing_layer_class

    torch.manual_seed(0)
    ours, theirs = growing_layer_class()(), DynamicLayer()
    first = torch.randn(6, 2, 3, 4), torch.randn(6, 2, 3, 4)
    for layer in (ours, theirs):
        layer.update(*first)
    for step in range(40):  # past the first capacity (32), so the buffers grow
        new = torch.randn(6, 2, 1, 4), torch.randn(6, 2, 1, 4)
        order = torch.randint(0, 6, (6,))
        for layer in (ours, theirs):
            returned = layer.update(*new)
            assert returned[0] is layer.keys and returned[1] is layer.values
            layer.reorder_cache(order)
        assert torch.equal(ours.keys, theirs.keys) and torch.equal(ours.values, theirs.values)
        assert ours.get_seq_length() == theirs.get_seq_length() == 3 + step + 1
    for layer in (ours, theirs):
        layer.crop(-5)
        layer.batch_select_indices(torch.tensor([0, 2, 4]))
        layer.batch_repeat_interleave(2)
        layer.update(torch.ones(6, 2, 1, 4), torch.ones(6, 2, 1, 4))
    assert torch.equal(ours.keys, theirs.keys) and torch.equal(ours.values, theirs.values)
    assert ours.keys.shape == (6, 2, 3 + 40 - 5 + 1, 4)


def test_half_precision_logits_match_transformers(tiny_models: Path, counted_search):
    """GPU runs use fp16/bf16: the head and bias are added in the model's dtype, as its
    forward does, before the float32 scoring (bf16 here, which a CPU can run)."""
    import copy

    loaded = _load(tiny_models, "marian")
    model = copy.deepcopy(loaded.model).to(torch.bfloat16)
    theirs, ours = _both(model, _inputs(loaded, SENTENCES), {"num_beams": 4, "max_new_tokens": 10})
    assert ours == theirs
    assert counted_search


def test_a_transformers_without_the_internals_it_calls_gets_its_own_loop(
    tiny_models: Path, counted_search
):
    loaded = _load(tiny_models, "marian")
    inputs, settings = _inputs(loaded, SENTENCES), {"num_beams": 3, "max_new_tokens": 8}
    theirs, ours = _both(loaded.model, inputs, settings)
    assert ours == theirs and len(counted_search) == 1  # the model fits: id2en's loop ran

    class OldPrefill(type(loaded.model)):  # transformers 5.0-5.2: no is_first_iteration
        def _prefill(self, input_ids, generation_config, model_kwargs, **kwargs):
            return super()._prefill(input_ids, generation_config, model_kwargs, **kwargs)

    import copy

    model = copy.deepcopy(loaded.model)  # the loaded model is cached: leave it as it is
    model.__class__ = OldPrefill
    theirs, ours = _both(model, inputs, settings)
    assert ours == theirs and len(counted_search) == 1  # transformers' loop ran instead


@pytest.mark.parametrize("model_name", ["marian", "bart"])
def test_cross_attention_is_projected_once_per_source(tiny_models: Path, model_name: str):
    loaded = _load(tiny_models, model_name)
    model = loaded.model
    rows: dict[str, list[int]] = {"id2en": [], "transformers": []}
    current: list[str] = []

    def hook(module, inputs, output):
        rows[current[-1]].append(inputs[0].shape[0])

    handle = model.base_model.decoder.layers[0].encoder_attn.k_proj.register_forward_hook(hook)
    texts = SENTENCES[:3]
    inputs = _inputs(loaded, texts)
    settings = {"num_beams": 4, "max_new_tokens": 10, "no_repeat_ngram_size": 0}
    try:
        with torch.inference_mode():
            current.append("transformers")
            theirs = model.generate(**inputs, **settings).tolist()
            current.append("id2en")
            ours = model.generate(
                **inputs, **settings, custom_generate=beam_search.lean_beam_search
            ).tolist()
    finally:
        handle.remove()
    assert ours == theirs
    assert rows["transformers"] == [len(texts) * 4]  # once, for every beam's copy
    assert rows["id2en"] == [len(texts)]  # once per source sentence
