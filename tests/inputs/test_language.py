"""Language per sentence: English quotes and titles, and sentences without words, are
copied to the English side unchanged and marked, never sent to the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.inputs.language import NO_LANGUAGE, sentence_language
from pipeline.splitter.stage import RuleSplitStage
from pipeline.translate.stage import TranslateStage
from pipeline.types import Article
from tests.helpers import tiny_config_dict


@pytest.mark.parametrize(
    "text",
    [
        "We are ready for the election and we will win.",
        "Thank you very much.",
        "It is what it is.",
        "The Jakarta Post",
        "The New York Times",
        "Bank of America",
    ],
)
def test_english_sentences_and_titles(text: str) -> None:
    assert sentence_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "Harga cabai naik dua kali lipat sejak pekan lalu.",
        '"We are ready," kata dia kepada wartawan.',  # mixed: the Indonesian verb decides
        "Menurut Reuters, harga minyak turun.",
        "Sumber: The Jakarta Post",
        "Presiden Joko Widodo.",
        "Terima kasih.",
        "Ia membacakan pasal IV.",
        "I love Indonesia.",  # too little evidence: translated, never wrongly copied
    ],
)
def test_indonesian_and_undecided_sentences_stay_indonesian(text: str) -> None:
    assert sentence_language(text) == "id"


@pytest.mark.parametrize(
    "text",
    [
        "2024.",
        "12.500",
        "https://www.bi.go.id/id/publikasi?x=1",
        "humas@bi.go.id",
        "😀🙏",
        "#SaveKPK @jokowi",
        "—",
    ],
)
def test_sentences_without_words(text: str) -> None:
    assert sentence_language(text) == NO_LANGUAGE


def translated(models: Path, text: str, **translate: object) -> Article:
    config = load_config(
        tiny_config_dict(models, translate={"num_beams": 1, "max_new_tokens": 8, **translate})
    )
    article = Article(id="mixed", text=text)
    RuleSplitStage(config)([article])
    TranslateStage(config)([article])
    return article


ARTICLE = (
    "Presiden menyampaikan pidato di depan para pendukungnya di Jakarta. "
    '"We are ready for the election and we will win." '
    "Pidato itu dikutip oleh The Jakarta Post.\n\n"
    "https://example.com/berita/123\n\n"
    "2024."
)


def test_an_english_quote_is_kept_unchanged_and_marked(tiny_models: Path) -> None:
    article = translated(tiny_models, ARTICLE)
    by_text = {s.text: s for s in article.sentences}
    quote = by_text['"We are ready for the election and we will win."']
    assert (quote.lang, quote.en, quote.score) == ("en", quote.text, None)
    for text in ("https://example.com/berita/123", "2024."):
        assert (by_text[text].lang, by_text[text].en) == (NO_LANGUAGE, text)
    first = article.sentences[0]
    assert first.lang == "id" and first.score is not None and first.en != first.text
    assert '"We are ready for the election and we will win."' in (article.english or "")


def test_copied_sentences_never_reach_the_model(tiny_models: Path) -> None:
    config = load_config(tiny_config_dict(tiny_models, translate={"num_beams": 1}))
    stage = TranslateStage(config)
    article = Article(id="x", text=ARTICLE)
    RuleSplitStage(config)([article])
    stage([article])
    assert stage.stats.requested == sum(1 for s in article.sentences if s.lang == "id")


def test_sentence_language_off_translates_everything(tiny_models: Path) -> None:
    article = translated(tiny_models, ARTICLE, sentence_language=False)
    quote = next(s for s in article.sentences if s.lang == "en")
    assert quote.score is not None  # it went through the model
