"""The Python API on tiny models: structure, offsets, order, determinism, model defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Article, Pipeline, load_config
from pipeline.generation.models import ModelLoadError, load_seq2seq
from tests.helpers import tiny_config_dict

ARTICLE = (
    "JAKARTA, KOMPAS.com - Presiden meresmikan jembatan baru di Jakarta pada Senin (18/6). "
    "Jembatan itu menghubungkan dua kecamatan.\n\n"
    "Menurut dr. Budi, proyek ini menelan biaya Rp15.650 miliar. Warga menyambut baik."
)


@pytest.fixture(scope="module")
def pipe(tiny_models: Path) -> Pipeline:
    return Pipeline.from_config(tiny_config_dict(tiny_models))


def test_a_string_gives_one_article_with_every_field(pipe: Pipeline) -> None:
    article = pipe(ARTICLE)
    assert isinstance(article, Article)
    assert article.error is None
    assert len(article.sentences) == 4
    assert [s.paragraph for s in article.sentences] == [0, 0, 1, 1]
    assert all(s.en is not None for s in article.sentences)
    assert article.english is not None and article.english.count("\n\n") == 1
    assert isinstance(article.summary, str)
    assert article.meta["models"]["translate"]["stage"] == "translate.seq2seq"
    assert "translate_s" in article.meta["timings"]


def test_offsets_slice_back_to_the_text(pipe: Pipeline) -> None:
    article = pipe(ARTICLE)
    for sentence in article.sentences:
        assert " ".join(article.text[sentence.start : sentence.end].split()) == sentence.text


def test_list_input_keeps_order_and_ids(pipe: Pipeline) -> None:
    texts = ["Hujan turun di Bogor.", ARTICLE, "Harga beras naik lagi."]
    articles = pipe(texts, ids=["a", "b", "c"])
    assert [a.id for a in articles] == ["a", "b", "c"]
    assert [s.text for s in articles[0].sentences] == ["Hujan turun di Bogor."]
    assert articles[2].sentences[0].text == "Harga beras naik lagi."


def test_translation_does_not_depend_on_batch_company(tiny_models: Path) -> None:
    """Pooled, sorted batches must give each sentence the output it gets alone (greedy).

    Two pipelines, so the second cannot answer from the first one's in-run store."""
    config = tiny_config_dict(tiny_models, translate={"num_beams": 1})
    alone = Pipeline.from_config(config)("Harga beras naik lagi.")
    texts = [ARTICLE, "Harga beras naik lagi.", "Hujan turun di Bogor."]
    pooled = Pipeline.from_config(config)(texts)[1]
    assert pooled.sentences[0].en == alone.sentences[0].en


def test_runs_are_deterministic(tiny_models: Path) -> None:
    first = Pipeline.from_config(tiny_config_dict(tiny_models))(ARTICLE)
    second = Pipeline.from_config(tiny_config_dict(tiny_models))(ARTICLE)
    assert [s.en for s in first.sentences] == [s.en for s in second.sentences]
    assert first.summary == second.summary


def test_repr_html_is_a_side_by_side_table_and_escapes(pipe: Pipeline) -> None:
    article = pipe("Ada <script>alert(1)</script> di sini.")
    page = article._repr_html_()
    assert "<th>Indonesian</th><th>English</th>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_translate_only_when_summarize_is_null(tiny_models: Path) -> None:
    pipe = Pipeline.from_config(tiny_config_dict(tiny_models, stages={"summarize": None}))
    article = pipe(ARTICLE)
    assert article.summary is None and article.english


def test_model_generation_defaults_survive_and_overrides_apply_one_by_one(
    tiny_models: Path,
) -> None:
    config = load_config(tiny_config_dict(tiny_models, translate={"num_beams": 3}))
    stage = Pipeline(config).stages[1][1]
    settings = stage.generation_settings  # type: ignore[attr-defined]
    assert settings["num_beams"] == 3  # overridden
    pad = stage.backend.tokenizer.pad_token_id  # type: ignore[attr-defined]
    assert settings["bad_words_ids"] == [[pad]]  # the model's own, kept
    assert settings["decoder_start_token_id"] == pad


def test_summary_defaults_come_from_the_checkpoint(tiny_models: Path) -> None:
    config = load_config(tiny_config_dict(tiny_models, summarize={"num_beams": None}))
    stage = Pipeline(config).stages[2][1]
    settings = stage.generation_settings  # type: ignore[attr-defined]
    assert settings["num_beams"] == 4
    assert settings["length_penalty"] == 2.0
    assert settings["no_repeat_ngram_size"] == 3


def test_missing_model_is_one_clear_error(tmp_path: Path) -> None:
    config = load_config(
        {"translate": {"model": str(tmp_path / "nowhere"), "local_files_only": True}}
    )
    with pytest.raises(ModelLoadError) as info:
        load_seq2seq(config.translate, device="cpu")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "id2en models download" in message
    assert "local files only" in message


def test_missing_model_stops_the_pipeline_instead_of_failing_every_article(
    tmp_path: Path,
) -> None:
    pipe = Pipeline.from_config(
        {"translate": {"model": str(tmp_path / "nowhere"), "local_files_only": True}}
    )
    with pytest.raises(ModelLoadError):
        pipe(["Satu.", "Dua."])


def test_building_a_pipeline_loads_no_model(tmp_path: Path) -> None:
    missing = {"model": str(tmp_path / "nowhere"), "local_files_only": True}
    pipe = Pipeline.from_config({"translate": missing})  # builds: nothing is loaded yet
    with pytest.raises(ModelLoadError, match="nowhere"):
        pipe.load()  # loading is what finds the model missing


def test_an_article_says_its_status_as_its_record_does(pipe: Pipeline) -> None:
    from pipeline.inputs.language import SKIPPED
    from pipeline.output.records import article_record

    done = pipe(ARTICLE)
    failed = Article(id="f", text="x", error="translate: RuntimeError: boom")
    skipped = Article(id="s", text="The bridge opened.", meta={SKIPPED: "looks English"})
    assert (done.status, failed.status, skipped.status) == ("ok", "failed", "skipped")
    for article in (done, failed, skipped):
        assert article_record(article)["status"] == article.status
