"""Multilingual translators (NLLB-200, M2M-100, mBART-50, MADLAD-400) on both backends: the
source language token or prefix opens the encoder's input, the target language token is the
decoder's first (CTranslate2's target prefix), outputs carry no language token, and
CTranslate2 agrees with torch."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.main import EXIT_OK, main
from pipeline.config import load_config
from pipeline.errors import ModelLoadError
from pipeline.translate.stage import TranslateStage
from tests.helpers import SENTENCES, make_article, tiny_config_dict
from tests.support.tiny_models import (
    build_tiny_m2m100,
    build_tiny_madlad,
    build_tiny_mbart50,
    build_tiny_nllb,
)

BUILDERS: dict[str, Callable[..., Path]] = {
    "nllb": build_tiny_nllb,
    "m2m100": build_tiny_m2m100,
    "mbart50": build_tiny_mbart50,
    "madlad": build_tiny_madlad,
}
# family -> (the encoder's first token, the decoder's first generated token or None)
EXPECTED = {
    "nllb": ("ind_Latn", "eng_Latn"),
    "m2m100": ("__id__", "__en__"),
    "mbart50": ("id_ID", "en_XX"),
    "madlad": ("<2en>", None),  # MADLAD: a source prefix, no forced target token
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("multilingual")
    for name, build in BUILDERS.items():
        build(root / name)
    return root


def stage(models: Path, family: str, backend: str = "torch", **translate: Any) -> TranslateStage:
    settings = {"model": str(models / family), "num_beams": 1, "max_new_tokens": 12, **translate}
    if backend == "ctranslate2":
        settings |= {"ct2_model_dir": str(models / "ct2"), "ct2_compute_type": "float32"}
    config = load_config(tiny_config_dict(models, translate=settings, guards={"enabled": False}))
    name = f"translate.{'seq2seq' if backend == 'torch' else 'ctranslate2'}"
    return TranslateStage(config, name=name, backend=backend)  # type: ignore[arg-type]


def spy_on_generate(model: Any, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The token ids of every sequence model.generate returns, filled as the test runs."""
    seen: list[list[int]] = []
    generate = model.generate

    def spying(*args: Any, **kwargs: Any) -> Any:
        output = generate(*args, **kwargs)
        sequences = output[0] if isinstance(output, tuple) else output
        seen.extend(sequences.tolist())
        return output

    monkeypatch.setattr(model, "generate", spying)
    return seen


@pytest.mark.parametrize("family", list(BUILDERS))
def test_the_source_language_opens_the_encoders_input(models: Path, family: str) -> None:
    backend = stage(models, family).backend
    ids = backend.token_ids(["Saya makan nasi."])[0]
    assert backend.decode(ids[:1]) == EXPECTED[family][0]
    assert backend.decode(ids[-1:]) == "</s>"
    # Counting and truncating see the prefix too: a window holds it once.
    assert backend.count_tokens(["Saya makan nasi."]) == [len(ids)]
    assert backend.truncate("Saya makan nasi.", 100) == "Saya makan nasi."


FORCED = ["nllb", "m2m100", "mbart50"]  # the families with a forced target language token


@pytest.mark.parametrize("family", FORCED)
def test_the_target_language_is_the_decoders_first_token(
    models: Path, family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    translator = stage(models, family, num_beams=2)
    backend: Any = translator.backend
    model = backend.loaded.model
    seen = spy_on_generate(model, monkeypatch)
    outputs = translator.translate_texts(SENTENCES[:3])
    target = backend.tokenizer.convert_tokens_to_ids(EXPECTED[family][1])
    start = model.generation_config.decoder_start_token_id
    assert [row[:2] for row in seen] == [[start, target]] * 3
    for output in outputs.values():  # the language token is not in the text
        assert EXPECTED[family][1] not in output.text


class TranslatorSpy:
    """Stands in for a ctranslate2.Translator: records each translate_batch call's target
    prefix and hypotheses."""

    def __init__(self, translator: Any) -> None:
        self.translator = translator
        self.prefixes: list[Any] = []
        self.hypotheses: list[list[str]] = []

    def translate_batch(self, tokens: Any, **options: Any) -> Any:
        results = self.translator.translate_batch(tokens, **options)
        self.prefixes.append(options.get("target_prefix"))
        self.hypotheses.extend(list(r.hypotheses[0]) for r in results)
        return results


def spy_on_translator(backend: Any) -> TranslatorSpy:
    spy = TranslatorSpy(backend.translator)
    backend.translator = spy
    return spy


@pytest.mark.parametrize("family", FORCED)
def test_ctranslate2_gets_the_target_language_as_its_target_prefix(
    models: Path, family: str
) -> None:
    pytest.importorskip("ctranslate2")
    translator = stage(models, family, "ctranslate2", num_beams=2)
    spy = spy_on_translator(translator.backend)
    outputs = translator.translate_texts(SENTENCES[:3])
    target = EXPECTED[family][1]
    assert spy.prefixes == [[[target]] * 3]
    assert [h[0] for h in spy.hypotheses] == [target] * 3  # returned with the hypothesis
    for output in outputs.values():
        assert target not in output.text


@pytest.mark.parametrize("family", FORCED)
def test_every_language_token_is_dropped_from_outputs(models: Path, family: str) -> None:
    backend: Any = stage(models, family).backend
    tok = backend.tokenizer
    source, target = (tok.convert_tokens_to_ids(t) for t in EXPECTED[family])
    words = [tok(w, add_special_tokens=False)["input_ids"] for w in ("Saya", "makan")]
    ids = [target, *words[0], source, *words[1]]  # a language token a model wrote itself too
    assert backend.decode_outputs([ids]) == ["Saya makan"]


def test_an_mbart50_tokenizer_without_a_start_token_converts(models: Path, tmp_path: Path) -> None:
    """transformers 5's MBart50Tokenizer has no bos_token unless a saved file names it; the
    converter then wrote null into CTranslate2's config, which Translator cannot read."""
    pytest.importorskip("ctranslate2")
    folder = Path(shutil.copytree(models / "mbart50", tmp_path / "mbart50"))
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("bos_token")
    config_path.write_text(json.dumps(config), encoding="utf-8")
    expected = stage(models, "mbart50", "ctranslate2").translate_texts(SENTENCES[:2])
    converted = stage(tmp_path, "mbart50", "ctranslate2").translate_texts(SENTENCES[:2])
    assert converted == expected


def test_language_tokens_never_reach_the_text(models: Path) -> None:
    backend: Any = stage(models, "madlad").backend
    tok = backend.tokenizer
    ids = tok("<2en> Saya <2id> makan", add_special_tokens=False)["input_ids"]
    assert "<2id>" in tok.decode(ids)  # not special: only the backend drops them
    assert backend.decode_outputs([ids]) == ["Saya makan"]


@pytest.mark.slow
@pytest.mark.parametrize("family", list(BUILDERS))
@pytest.mark.parametrize("beams", [1, 3])
def test_ctranslate2_agrees_with_torch_token_for_token(
    models: Path, family: str, beams: int
) -> None:
    pytest.importorskip("ctranslate2")
    torch_out = stage(models, family, num_beams=beams).translate_texts(SENTENCES)
    ct2_stage = stage(models, family, "ctranslate2", num_beams=beams)
    ct2_out = ct2_stage.translate_texts(SENTENCES)
    assert len({torch_out[t].text for t in SENTENCES}) > 1  # outputs depend on the input
    for text in SENTENCES:
        assert ct2_out[text] == torch_out[text]  # text, tokens counted, limit hit
        # T5's relative attention and RMS norms round differently in CTranslate2: the
        # same tokens, scores within 1e-3 (5e-4 for the others, as for Marian).
        tolerance = 1e-3 if family == "madlad" else 5e-4
        assert ct2_out[text].score == pytest.approx(torch_out[text].score, abs=tolerance)
    forced = ct2_stage.generation_settings.get("forced_bos_token_id")
    assert (forced is None) == (family == "madlad")  # CTranslate2 gets it as a target prefix


@pytest.mark.slow  # the models' own defaults: up to 200 tokens at 5 beams (mBART-50)
@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
@pytest.mark.parametrize("family", list(BUILDERS))
def test_the_model_folder_is_the_only_setting(
    models: Path,
    family: str,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`id2en translate --set translate.model=FOLDER` on the default config: languages,
    window and generation defaults all come from the model."""
    if backend == "ctranslate2":
        pytest.importorskip("ctranslate2")
    monkeypatch.setenv("ID2EN_CACHE", str(tmp_path / "cache"))  # the converted model
    args = ["translate", "--json", "--set", f"translate.model={models / family}"]
    if backend == "ctranslate2":
        args += ["--set", "stages.translate=translate.ctranslate2"]
    assert main([*args, "Saya membeli buku."]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    english = [s["en"] for s in record["sentences"]]
    assert len(english) == 1 and isinstance(english[0], str)
    for token in filter(None, EXPECTED[family]):
        assert not any(token in e for e in english)
    if backend == "ctranslate2":
        assert list((tmp_path / "cache" / "ctranslate2").iterdir())  # it ran converted


@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
def test_a_model_without_a_length_limit_is_limited_by_its_window(
    models: Path, backend: str
) -> None:
    """MADLAD-400's generation config names no max_length: transformers' fallback of 20
    tokens would cut most sentences short."""
    if backend == "ctranslate2":
        pytest.importorskip("ctranslate2")
    translator = stage(models, "madlad", backend, max_new_tokens=None)
    shipped = json.loads((models / "madlad" / "generation_config.json").read_text())
    assert "max_length" not in shipped and "max_new_tokens" not in shipped
    assert translator.generation_settings["max_length"] == translator.backend.max_input_tokens
    assert translator.backend.max_input_tokens == 512


def test_the_language_pair_is_part_of_the_cache_key(models: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache.sqlite")
    english = stage(models, "nllb", cache_path=cache)
    first = english.translate_texts(SENTENCES[:2])
    assert english.stats.generated == 2
    again = stage(models, "nllb", cache_path=cache)
    cached = again.translate_texts(SENTENCES[:2])
    assert again.stats.generated == 0
    assert [cached[t].text for t in SENTENCES[:2]] == [first[t].text for t in SENTENCES[:2]]
    other = stage(models, "nllb", cache_path=cache, target_lang="zsm_Latn")
    other.translate_texts(SENTENCES[:2])
    assert other.stats.generated == 2  # another target language: nothing reused
    assert "lang-ind_Latn-zsm_Latn" in other.backend.backend_id


def test_an_unknown_language_code_is_a_clear_error(models: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"target_lang 'en' is not a language of .*nllb"):
        _ = stage(models, "nllb", target_lang="en").backend
    with pytest.raises(ModelLoadError, match=r"e\.g\. ind_Latn, eng_Latn"):
        _ = stage(models, "nllb", source_lang="id").backend


def test_languages_on_a_one_pair_model_are_refused(tiny_models: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"\(marian\) takes no language codes"):
        _ = stage(tiny_models.parent, str(tiny_models / "marian"), target_lang="en").backend


@pytest.mark.slow
def test_required_terms_are_forced_after_the_language_token(models: Path, tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.tsv"
    glossary.write_text("Bank Indonesia\tBank Indonesia\n", encoding="utf-8")
    translator = stage(models, "nllb", glossary=str(glossary), max_new_tokens=20)
    article = make_article("a", ["Gubernur Bank Indonesia datang."])
    translator([article])
    assert "Bank Indonesia" in (article.sentences[0].en or "")
    assert not [w for w in article.warnings if "required term missing" in w]


@pytest.mark.slow
def test_eval_compares_models_side_by_side(models: Path, tiny_models: Path, tmp_path: Path) -> None:
    """`id2en eval --variant nllb=translate.model=...`: each model on the same pairs."""
    import yaml

    from pipeline.translate.evaluate import format_table, run_variants

    config = tmp_path / "config.yaml"
    data = tiny_config_dict(tiny_models, guards={"enabled": False})
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    pairs = [(text, "The president discussed a new budget.") for text in SENTENCES[:3]]
    variants = [
        f"nllb=translate.model={models / 'nllb'}",
        f"m2m-ct2=translate.model={models / 'm2m100'},stages.translate=translate.ctranslate2,"
        f"translate.ct2_model_dir={models / 'ct2'},translate.ct2_compute_type=float32",
    ]
    results = run_variants(str(config), [], variants, pairs)
    assert [r.name for r in results] == ["base", "nllb", "m2m-ct2"]
    assert all(r.sentences == 3 and r.sentences_per_s > 0 for r in results)
    table = format_table(results)
    assert "nllb" in table and "m2m-ct2" in table


def test_a_shortlist_keeps_the_target_language_token(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restricted output layer must hold the forced token, or NLLB cannot start."""
    allowed = ["▁the", "▁of", "▁a", "e", "s", "."]
    path = tmp_path / "shortlist.tsv"
    path.write_text("\t" + " ".join(allowed) + "\n", encoding="utf-8")
    translator = stage(models, "nllb", shortlist=str(path), max_new_tokens=6, num_beams=2)
    backend: Any = translator.backend
    model = backend.loaded.model
    seen = spy_on_generate(model, monkeypatch)
    outputs = translator.translate_texts(SENTENCES[:2])
    target = backend.tokenizer.convert_tokens_to_ids("eng_Latn")
    assert [row[1] for row in seen] == [target, target]
    for output in outputs.values():
        pieces = backend.tokenizer.tokenize(output.text)
        assert set(pieces) <= set(allowed) | {"▁"}, pieces


def write_shortlist(folder: Path, allowed: list[str]) -> Path:
    """A shortlist whose fixed line is `allowed` and that maps no source token."""
    path = folder / "shortlist.tsv"
    path.write_text("\t" + " ".join(allowed) + "\n", encoding="utf-8")
    return path


def test_a_shortlist_on_ctranslate2_keeps_the_target_language_token_first(
    models: Path, tmp_path: Path
) -> None:
    """CTranslate2's vocabulary map keeps the target prefix a candidate as torch's
    restricted output layer does (test_a_shortlist_keeps_the_target_language_token)."""
    pytest.importorskip("ctranslate2")
    allowed = ["▁the", "▁of", "▁a", "e", "s", "."]
    path = write_shortlist(tmp_path, allowed)
    translator = stage(
        models, "nllb", "ctranslate2", shortlist=str(path), max_new_tokens=6, num_beams=2
    )
    spy = spy_on_translator(translator.backend)
    outputs = translator.translate_texts(SENTENCES[:3])
    assert (translator.backend.model_dir / "vmap.txt").exists()
    assert [h[0] for h in spy.hypotheses] == ["eng_Latn"] * 3
    specials = {"eng_Latn", "</s>", "<s>", "<pad>", "<unk>"}  # what CTranslate2 always allows
    assert all(set(h) <= set(allowed) | specials for h in spy.hypotheses), spy.hypotheses
    assert any(set(h) & set(allowed) for h in spy.hypotheses)  # not only special tokens
    for output in outputs.values():
        pieces = translator.backend.tokenizer.tokenize(output.text)
        assert set(pieces) <= set(allowed) | {"▁"}, pieces


def test_both_backends_score_the_same_shortlist_candidates(models: Path, tmp_path: Path) -> None:
    """CTranslate2's vocabulary map always adds <s>, so torch's shortlist does
    too: with the same candidates, greedy outputs and scores agree. (Beam search can still
    differ: CTranslate2 never ends an output right after its target prefix, and a tight
    shortlist makes that empty output a likely torch beam.)"""
    pytest.importorskip("ctranslate2")
    path = write_shortlist(tmp_path, ["▁the", "▁of", "▁a", "e", "s", "."])
    settings = {"shortlist": str(path), "max_new_tokens": 6, "num_beams": 1}
    torch_out = stage(models, "nllb", **settings).translate_texts(SENTENCES)
    ct2_out = stage(models, "nllb", "ctranslate2", **settings).translate_texts(SENTENCES)
    for text in SENTENCES:
        assert ct2_out[text] == torch_out[text]
        assert ct2_out[text].score == pytest.approx(torch_out[text].score, abs=5e-4)
