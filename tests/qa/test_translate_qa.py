"""The QA checks inside a translate run, on the tiny random-weight models (forcing does not
depend on the weights): English quotes come out byte for byte with their span recorded;
every number is in the English with its value after the retry, or warned by name; the
records' flags are what `id2en check` computes on the same pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.qa.spans import english_numbers, sentence_matches
from pipeline.types import Article
from tests.helpers import tiny_config_dict, translate_article

QUOTE = "We will always defend our interests"
NUMBERS = [
    "Pemerintah menyiapkan Rp1,5 triliun untuk proyek itu.",
    "Sebanyak 10.000 orang hadir di lapangan.",
    "Ekonomi tumbuh 3,2 persen tahun ini.",
    "Rapat dimulai pukul 10.30 WIB di Jakarta.",
    "Acara itu digelar pada 12 Januari 2024.",
]


def translate(models: Path, texts: list[str], **settings: object) -> Article:
    return translate_article(
        models, "qa", texts, **{"num_beams": 2, "max_new_tokens": 24, **settings}
    )


@pytest.mark.slow
def test_an_english_quote_comes_out_byte_for_byte(tiny_models: Path) -> None:
    text = f'"{QUOTE}," kata juru bicara itu.'
    article = translate(tiny_models, [text])
    (sentence,) = article.sentences
    assert sentence.lang == "id"
    assert QUOTE in (sentence.en or "")
    assert {"start": 1, "end": 1 + len(QUOTE), "kind": "en-quote"} in sentence.spans
    assert not [f for f in sentence.flags if f["check"] == "quotes"]


@pytest.mark.slow
def test_every_number_is_kept_by_value_or_warned_by_name(tiny_models: Path) -> None:
    article = translate(tiny_models, NUMBERS)
    for index, sentence in enumerate(article.sentences):
        numbers = [r for _, _, r in sentence_matches(sentence.text) if r.kind == "number"]
        assert numbers, sentence.text
        assert [s["kind"] for s in sentence.spans].count("number") == len(numbers)
        for requirement in numbers:
            if requirement.met_by(sentence.en or ""):
                continue
            # Not in the English: a warning names the source number and what is there.
            found = ", ".join(repr(q.text) for q in english_numbers(sentence.en or ""))
            warned = [w for w in article.warnings if w.startswith(f"sentence {index}: number")]
            assert any(repr(requirement.name) in w for w in warned), (sentence, warned)
            assert all(found in w or "no number" in w for w in warned)
    # Random weights never write these numbers unforced: the retry put them in.
    retried = [w for w in article.warnings if "retranslated with required terms forced" in w]
    assert retried
    kept = [s for s in article.sentences if not [f for f in s.flags if f["check"] == "numbers"]]
    assert len(kept) >= 3, [(s.en, s.flags) for s in article.sentences]


@pytest.mark.slow
def test_ctranslate2_misses_are_retried_with_forcing(tiny_models: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    article = translate(
        tiny_models,
        [f'"{QUOTE}," kata dia.', NUMBERS[1]],
        ct2_model_dir=str(tmp_path / "ct2"),
        ct2_compute_type="float32",
    )
    assert QUOTE in (article.sentences[0].en or "")
    assert any("retranslated with required terms forced" in w for w in article.warnings)


@pytest.mark.slow
def test_id2en_check_gives_the_run_s_flags(
    tiny_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [f'"{QUOTE}," kata juru bicara itu.', *NUMBERS, "Gubernur Bank Indonesia datang."]
    articles = tmp_path / "in"
    articles.mkdir()
    (articles / "a.txt").write_text(" ".join(texts), encoding="utf-8")
    config = tmp_path / "tiny.yaml"
    glossary = tmp_path / "g.tsv"
    glossary.write_text("Bank Indonesia\tΩ-Bank\n", encoding="utf-8")  # no "Ω" piece: flagged
    translate = {"num_beams": 2, "max_new_tokens": 24, "glossary": str(glossary)}
    settings = tiny_config_dict(tiny_models, translate=translate)
    settings["stages"] = {"summarize": None}
    config.write_text(json.dumps(settings), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(articles), "-o", str(out), "-c", str(config)]) == 0
    record = json.loads(next((out / "records").rglob("*.json")).read_text(encoding="utf-8"))
    recorded = {}
    for index, sentence in enumerate(record["sentences"]):
        assert "spans" in sentence and "flags" in sentence
        for flag in sentence["flags"]:
            recorded.setdefault(flag["check"], set()).add(index)
    assert recorded["glossary"] == {6}
    capsys.readouterr()
    assert main(["check", str(out), "--examples", "0"]) == 0
    report = capsys.readouterr().out
    rows = {line.split()[0]: int(line.split()[1]) for line in report.splitlines()[2:7]}
    assert rows == {check: len(recorded.get(check, ())) for check in rows}
    # The same pairs as a JSONL file, checked with the run's config: the same counts.
    pairs = tmp_path / "pairs.jsonl"
    lines = [json.dumps({"text": s["text"], "text_en": s["en"]}) for s in record["sentences"]]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check", "--data", str(pairs), "-c", str(config), "--examples", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[1:7] == report.splitlines()[1:7]
