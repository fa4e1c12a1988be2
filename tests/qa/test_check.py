"""check_pair and the sentence spans: English quotes, protected spans, terms and numbers
found with their offsets; each check's flags; `id2en check` on a pairs file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.qa.check import check_pair
from pipeline.qa.quotes import english_quotes
from pipeline.qa.spans import sentence_spans
from pipeline.translate.glossary import Glossary, Term

QUOTED = '"We will always defend our interests," kata juru bicara itu.'


@pytest.mark.parametrize(
    ("sentence", "quotes"),
    [
        (QUOTED, ["We will always defend our interests"]),
        ("Ia berkata, “This is not the end of the story.”", ["This is not the end of the story."]),
        ("Dia bilang ‘thank you very much’ kepada kami.", ["thank you very much"]),
        ('Warga berteriak "Hidup Jokowi" di jalan.', []),  # Indonesian: left to the model
        ("Tanpa kutipan sama sekali.", []),
    ],
)
def test_english_quotes(sentence: str, quotes: list[str]) -> None:
    assert [sentence[a:b] for a, b in english_quotes(sentence)] == quotes


def test_spans_in_order_with_kinds_and_offsets() -> None:
    text = QUOTED[:-1] + ", Rp1,5 triliun untuk KPK, lihat https://x.id/2024/10."
    glossary = Glossary([Term("KPK", "KPK")])
    spans = sentence_spans(text, glossary)
    assert [(text[s.start : s.end], s.kind) for s in spans] == [
        ("We will always defend our interests", "en-quote"),
        ("Rp1,5 triliun", "number"),
        ("KPK", "term"),
        ("https://x.id/2024/10", "url"),  # its digits are not numbers to check
    ]
    assert spans[0].to_dict() == {"start": 1, "end": 36, "kind": "en-quote"}


def test_numbers_inside_an_english_quote_are_not_read_as_indonesian() -> None:
    text = '"We lost 1,000 jobs in 2.5 years," kata dia.'
    assert [s.kind for s in sentence_spans(text)] == ["en-quote"]


def test_each_check_flags_what_it_owns() -> None:
    text = QUOTED[:-1] + " pada 12 Januari 2024 senilai Rp1,5 triliun."
    said = '"We will always defend our interests," the spokesman said on'
    good = f"{said} January 12, 2024, Rp1.5 trillion."
    assert check_pair(text, good) == []
    bad = '"We always defend our interest," the spokesman said on January 12, 2024, Rp15 trillion.'
    flags = check_pair(text, bad)
    assert [f.check for f in flags] == ["quotes", "numbers"]
    assert "'Rp1,5 triliun' (1.5 trillion); the English has" in flags[1].message
    assert "'Rp15 trillion'" in flags[1].message


def test_protected_glossary_and_guards() -> None:
    glossary = Glossary([Term("Komisi Pemberantasan Korupsi", "Corruption Eradication Commission")])
    text = "Komisi Pemberantasan Korupsi menulis di https://kpk.go.id hari ini."
    flags = check_pair(text, "the the the the the the the the the the the the", glossary)
    assert [f.check for f in flags] == ["glossary", "protected", "guards"]
    assert check_pair(text, "x", glossary, guards=None)[-1].check == "protected"


def test_a_repeated_number_is_needed_twice() -> None:
    text = "APBN 2007 disahkan pada 2007."
    assert check_pair(text, "The 2007 budget was passed in 2007.", guards=None) == []
    flags = check_pair(text, "The 2007 budget was passed in 2008.", guards=None)
    assert [f.check for f in flags] == ["numbers"]


def test_id2en_check_counts_per_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pairs.jsonl"
    rows = [
        {"text": "Harga naik 3,2 persen.", "text_en": "Prices rose 3.2 percent."},
        {"text": "Harga naik 3,2 persen.", "text_en": "Prices rose 32 percent."},
        {"text": "The Jakarta Post wrote this in English for the readers.", "text_en": "x"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["check", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 sentence pairs, 2 checked (1 not Indonesian")
    numbers = next(line for line in out.splitlines() if line.startswith("numbers"))
    assert numbers.split() == ["numbers", "1", "50.0%", "1"]
    assert "[numbers] pair 2: number missing or changed" in out


def test_id2en_check_needs_one_source(tmp_path: Path) -> None:
    assert main(["check"]) == 2
    assert main(["check", str(tmp_path)]) == 2  # no records/


def test_a_kept_english_quote_is_not_an_untranslated_copy() -> None:
    english = f'"{QUOTED[1:36]}," said.'
    assert check_pair(QUOTED, english) == []
    # Without the quote the guards still see a copy.
    copied = "kata juru bicara itu kata juru bicara itu kata juru"
    assert [f.check for f in check_pair(QUOTED, copied)] == ["quotes", "guards"]
