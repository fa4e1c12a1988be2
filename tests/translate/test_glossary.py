"""Required terms: translate.glossary and the built-in protected spans (URLs, e-mail
addresses, @handles, #hashtags), forced during decoding on the torch backend, checked on
every sentence, retried on the forcing path after CTranslate2, warned about by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.generation.backend import RequiredTokens
from pipeline.generation.constraints import RequiredTokensProcessor, missing_sequences
from pipeline.guards import check_translation
from pipeline.guards.retry import guard_settings
from pipeline.translate.glossary import Glossary, Term, protected_spans
from pipeline.translate.stage import TranslateStage
from pipeline.types import Article
from tests.helpers import make_article, tiny_config_dict, translate_article

GLOSSARY = (
    "# Indonesian term<TAB>English rendering\n"
    "Bank Indonesia\tBank Indonesia\n"
    "Komisi Pemberantasan Korupsi\tCorruption Eradication Commission\n"
    "KPK\tKPK\n"
    "\n"
    "Kompas\t\n"
)
URL = "https://www.kompas.com/berita/2024/01/02/harga-naik?utm=1"
SENTENCES = [
    "Gubernur Bank Indonesia bertemu Komisi Pemberantasan Korupsi di Jakarta.",
    f"Baca selengkapnya di {URL}.",
    "Menurut Kompas, harga naik.",
    "Kirim pertanyaan ke humas@bi.go.id atau sebut @bank_indonesia dengan #RupiahKuat.",
    "Harga beras naik lagi.",
]


@pytest.fixture()
def glossary_file(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.tsv"
    path.write_text(GLOSSARY, encoding="utf-8")
    return path


def required(glossary: Glossary, text: str) -> dict[str, str]:
    return {r.name: r.rendering for r in glossary.requirements(text)}


class TestMatching:
    def test_file_format(self, glossary_file: Path) -> None:
        glossary = Glossary.load(glossary_file)
        assert sorted(t.source for t in glossary.terms.values()) == [
            "Bank Indonesia",
            "KPK",
            "Komisi Pemberantasan Korupsi",
            "Kompas",
        ]
        assert glossary.terms["kompas"].rendering == ""  # keep as written

    def test_a_line_without_a_tab_names_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.tsv"
        path.write_text("Bank Indonesia\tBank Indonesia\nKPK KPK\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"line 2: expected 'Indonesian term<TAB>"):
            Glossary.load(path)
        with pytest.raises(ConfigError, match="cannot read"):
            Glossary.load(tmp_path / "missing.tsv")

    @pytest.mark.parametrize(
        "line",
        [
            "KPK KPK",  # no tab
            "KPK\tKPK\t",  # a trailing tab: the rendering would hold it
            "KPK\tKomisi\tPemberantasan",  # a third column
            "\tKPK",  # no term
        ],
    )
    def test_one_rule_for_a_line_with_its_file_and_line(self, tmp_path: Path, line: str) -> None:
        path = tmp_path / "bad.tsv"
        path.write_text(f"# header\nBank Indonesia\tBank Indonesia\n{line}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            Glossary.load(path)
        message = str(caught.value)
        assert f"{path}, line 3: " in message
        assert "exactly one TAB" in message or "the term is empty" in message

    def test_word_boundaries_case_and_affixes(self, glossary_file: Path) -> None:
        glossary = Glossary.load(glossary_file)
        assert required(glossary, "Kata bank indonesia kemarin.") == {
            "bank indonesia": "Bank Indonesia"
        }
        # A hyphen is a boundary; solid "nya" is allowed; other solid affixes are not.
        assert required(glossary, "Penyidik KPK-nya datang.") == {"KPK": "KPK"}
        assert required(glossary, "Laporan Kompasnya terbit.") == {"Kompas": "Kompas"}
        assert required(glossary, "Kasus itu di-KPK-kan.") == {"KPK": "KPK"}
        assert required(glossary, "Kasus itu diKPKkan, keKompas.") == {}
        assert required(glossary, "KPKS dan XKPK bukan istilah.") == {}

    def test_empty_rendering_keeps_the_term_as_written(self, glossary_file: Path) -> None:
        assert required(Glossary.load(glossary_file), "Kata KOMPAS.") == {"KOMPAS": "KOMPAS"}

    def test_longest_term_wins(self) -> None:
        glossary = Glossary([Term("Bank", "bank"), Term("Bank Indonesia", "Bank Indonesia")])
        assert required(glossary, "Bank Indonesia naik.") == {"Bank Indonesia": "Bank Indonesia"}

    def test_protected_spans(self) -> None:
        glossary = Glossary([Term("kompas", "compass")])
        found = required(glossary, SENTENCES[3] + " Lihat (www.kompas.com/a?b=1).")
        assert list(found) == [
            "humas@bi.go.id",
            "@bank_indonesia",
            "#RupiahKuat",
            "www.kompas.com/a?b=1",  # the closing bracket and stop are not the URL's
        ]
        assert all(name == rendering for name, rendering in found.items())
        assert required(glossary, f"Lihat {URL}.") == {URL: URL}  # "kompas" inside: no term

    @pytest.mark.parametrize(
        ("sentence", "url"),
        [
            # brackets inside, at the end, and a bracketed remark that ends with a URL
            ("Baca https://x.id/a_(b)_c?d=1 sekarang.", "https://x.id/a_(b)_c?d=1"),
            (
                "Lihat https://id.wikipedia.org/wiki/Bank_(keuangan) untuk penjelasan.",
                "https://id.wikipedia.org/wiki/Bank_(keuangan)",
            ),
            (
                "Lihat https://id.wikipedia.org/wiki/Bank_(keuangan).",
                "https://id.wikipedia.org/wiki/Bank_(keuangan)",
            ),
            ("Harga naik (lihat https://x.id/a).", "https://x.id/a"),
            ("Harga naik (lihat https://x.id/Bank_(k)).", "https://x.id/Bank_(k)"),
            ("Harga naik [lihat www.x.id/a].", "www.x.id/a"),
            ("Dua: https://x.id/(a)(b)), selesai.", "https://x.id/(a)(b)"),
        ],
    )
    def test_url_brackets_balance(self, sentence: str, url: str) -> None:
        assert required(Glossary([]), sentence) == {url: url}
        (span,) = protected_spans(sentence)
        assert sentence[span[0] : span[1]] == url

    def test_a_bare_url_prefix_is_no_span(self) -> None:
        assert protected_spans("Ketik www. atau https://. di peramban.") == []

    def test_renderings_are_checked(self, glossary_file: Path) -> None:
        glossary = Glossary.load(glossary_file)
        (term,) = glossary.requirements("Kata KPK.")
        assert term.met_by("The kpk said.")  # a rendering may open a sentence: any case
        (span,) = glossary.requirements(f"Lihat {URL}")
        assert span.met_by(f"See {URL}")
        assert not span.met_by(f"See {URL.upper()}")  # spans: byte-identical


class TestForcing:
    """The logits processor on hand-made scores: no model needed."""

    def processor(self, required: tuple, max_new_tokens: int = 6) -> RequiredTokensProcessor:
        return RequiredTokensProcessor(
            [RequiredTokens(required)],
            num_beams=1,
            prompt_length=1,
            max_new_tokens=max_new_tokens,
            eos_token_ids=[0],
        )

    def step(self, processor: RequiredTokensProcessor, generated: list[int]) -> torch.Tensor:
        input_ids = torch.tensor([[9, *generated]])  # 9: the decoder start token
        return processor(input_ids, torch.zeros(1, 10))

    def test_free_while_there_is_room_but_no_end(self) -> None:
        scores = self.step(self.processor(((5, 6),)), [])
        assert scores[0, 0] == float("-inf")  # no end while (5, 6) is missing
        assert torch.isfinite(scores[0, 1:]).all()

    def test_a_begun_sequence_goes_on(self) -> None:
        scores = self.step(self.processor(((5, 6, 7),)), [3, 5, 6])
        assert scores[0].argmax() == 7 and torch.isinf(scores[0, :7]).all()

    def test_starts_when_only_just_enough_steps_are_left(self) -> None:
        processor = self.processor(((5, 6),), max_new_tokens=6)
        assert torch.isfinite(self.step(processor, [1, 2])[0, 1:]).all()
        scores = self.step(processor, [1, 2, 3])  # 3 steps left: 2 for (5, 6), 1 for end
        assert scores[0].argmax() == 5 and torch.isinf(scores[0, 6:]).all()

    def test_done_means_free(self) -> None:
        scores = self.step(self.processor(((5, 6),)), [5, 6, 2])
        assert torch.isfinite(scores).all()
        assert missing_sequences([5, 6, 2], ((5, 6), (2, 3))) == [(2, 3)]


def translate(models: Path, glossary: Path, texts: list[str], **translate: object) -> Article:
    settings = {"num_beams": 2, "max_new_tokens": 16, "glossary": str(glossary), **translate}
    return translate_article(models, "g", texts, **settings)


def check_renderings(article: Article, glossary: Glossary) -> None:
    for sentence in article.sentences:
        for requirement in glossary.requirements(sentence.text):
            assert requirement.met_by(sentence.en or ""), (requirement, sentence.en)
    assert not [w for w in article.warnings if "required term missing" in w]


@pytest.mark.slow
def test_torch_forces_every_rendering(tiny_models: Path, glossary_file: Path) -> None:
    article = translate(tiny_models, glossary_file, SENTENCES)
    check_renderings(article, Glossary.load(glossary_file))
    assert URL in (article.sentences[1].en or "")  # byte-identical
    assert "humas@bi.go.id" in (article.sentences[3].en or "")
    assert article.sentences[4].en is not None  # a sentence without terms is untouched


@pytest.mark.slow
def test_a_url_ending_in_a_bracket_comes_out_whole(tiny_models: Path, glossary_file: Path) -> None:
    url = "https://id.wikipedia.org/wiki/Bank_(keuangan)"
    article = translate(tiny_models, glossary_file, [f"Lihat {url} untuk penjelasan."])
    assert url in (article.sentences[0].en or "")


@pytest.mark.slow
def test_ctranslate2_misses_are_retried_with_forcing(
    tiny_models: Path, glossary_file: Path, tmp_path: Path
) -> None:
    pytest.importorskip("ctranslate2")
    article = translate(
        tiny_models,
        glossary_file,
        SENTENCES[:2],
        ct2_model_dir=str(tmp_path / "ct2"),
        ct2_compute_type="float32",
    )
    check_renderings(article, Glossary.load(glossary_file))
    # Random weights never write these terms unforced: both went through the retry.
    retried = [w for w in article.warnings if "retranslated with required terms forced" in w]
    assert len(retried) == 2


@pytest.mark.slow
@pytest.mark.parametrize("retry", [False, True])
def test_warnings_describe_the_retranslation_the_record_holds(
    tiny_models: Path, glossary_file: Path, tmp_path: Path, retry: bool
) -> None:
    """CTranslate2 misses the URL, the forcing retry replaces its output: the guards'
    findings (a band every output fails) and the term check are of the output kept."""
    pytest.importorskip("ctranslate2")
    band = {"retry": retry, "length_ratio_min": 50.0, "length_ratio_max": 60.0}
    settings = {"num_beams": 2, "max_new_tokens": 16, "glossary": str(glossary_file)}
    settings |= {"ct2_model_dir": str(tmp_path / "ct2"), "ct2_compute_type": "float32"}
    config = load_config(tiny_config_dict(tiny_models, translate=settings, guards=band))
    article = make_article("g", SENTENCES[:2])
    TranslateStage(config, name="translate.ctranslate2", backend="ctranslate2")([article])
    retried = [w for w in article.warnings if "retranslated with required terms forced" in w]
    assert len(retried) == 2
    # Only the first, unforced pass stops at 16 tokens: a forced one has room for the terms.
    assert not any("maximum length (16 tokens)" in w for w in article.warnings)
    glossary = Glossary.load(glossary_file)
    check_renderings(article, glossary)  # a safer retry keeps the terms forced
    for i, sentence in enumerate(article.sentences):
        english = sentence.en or ""
        held = check_translation(sentence.text, english, guard_settings(config))
        kinds = {"repetition", "copy", "empty", "length_ratio"}
        mine = [w.split(": ", 1) for w in article.warnings if w.startswith(f"sentence {i}: ")]
        findings = [f"sentence {i}: {w}" for _, w in mine if w.split(": ")[0] in kinds]
        assert findings == [f"sentence {i}: {f.kind}: {f.message}" for f in held], english
        missing = [r for r in glossary.requirements(sentence.text) if not r.met_by(english)]
        warned = [w for w in article.warnings if w.startswith(f"sentence {i}: required term")]
        assert len(warned) == (1 if missing else 0), (english, warned)


@pytest.mark.slow
def test_a_rendering_the_vocabulary_cannot_write_is_warned_by_name(
    tiny_models: Path, tmp_path: Path
) -> None:
    path = tmp_path / "g.tsv"
    path.write_text("Bank Indonesia\tΩ-Bank\n", encoding="utf-8")  # no "Ω" piece
    article = translate(tiny_models, path, ["Gubernur Bank Indonesia datang."])
    assert any(
        w == "sentence 0: required term missing from the translation: 'Bank Indonesia' -> 'Ω-Bank'"
        for w in article.warnings
    ), article.warnings
    assert article.meta["guards"]["missing_term"] == 1
