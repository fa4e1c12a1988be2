"""The number reader, form by form in both languages, and value comparison: the traps
(`1.000` is a thousand in Indonesian and one in English; `2.5` in Indonesian is a label
compared as written, `10.30` a time of day)."""

from __future__ import annotations

import pytest

from pipeline.qa.numbers import Language, missing_numbers, parse_numbers

T = 1e12

# (text, language, [(as written, first reading, unit)])
READINGS = [
    ("Rp1,5 triliun", "id", [("Rp1,5 triliun", ("value", 1.5 * T), "IDR")]),
    ("Rp 100 juta", "id", [("Rp 100 juta", ("value", 1e8), "IDR")]),
    ("Rp.100.000", "id", [("Rp.100.000", ("value", 1e5), "IDR")]),
    ("US$1,2 miliar", "id", [("US$1,2 miliar", ("value", 1.2e9), "USD")]),
    ("134,627 miliar dolar AS", "id", [("134,627 miliar dolar AS", ("value", 134.627e9), "USD")]),
    ("10.000 orang", "id", [("10.000", ("value", 1e4), None)]),
    ("1.314,40", "id", [("1.314,40", ("value", 1314.4), None)]),
    ("1.000", "id", [("1.000", ("value", 1000.0), None)]),  # trap: a thousand
    ("3,2 persen", "id", [("3,2 persen", ("value", 3.2), "percent")]),
    ("3,2%", "id", [("3,2%", ("value", 3.2), "percent")]),
    ("pukul 10.30 WIB", "id", [("10.30", ("time", 630.0), None)]),
    ("pukul 14.15", "id", [("14.15", ("time", 855.0), None)]),
    ("versi 2.5", "id", [("2.5", ("value", 2.5), None)]),  # trap: a label, not 2500
    ("12 Januari 2024", "id", [("12 Januari", ("date", 112.0), None), ("2024", ("value", 2024.0), None)]),  # noqa: E501
    ("10-12 persen", "id", [("10", ("value", 10.0), "percent"), ("12 persen", ("value", 12.0), "percent")]),  # noqa: E501
    ("1-2 juta", "id", [("1", ("value", 1e6), None), ("2 juta", ("value", 2e6), None)]),
    ("abad ke-11", "id", [("ke-11", ("value", 11.0), None)]),
    ("tiga juta warga", "id", [("tiga juta", ("value", 3e6), None)]),
    ("dua puluh lima", "id", [("dua puluh lima", ("value", 25.0), None)]),
    ("dua belas", "id", [("dua belas", ("value", 12.0), None)]),
    ("Rp1.5 trillion", "en", [("Rp1.5 trillion", ("value", 1.5 * T), "IDR")]),
    ("Rp. 1.5 trillion", "en", [("Rp. 1.5 trillion", ("value", 1.5 * T), "IDR")]),
    ("IDR 1.5 trillion", "en", [("IDR 1.5 trillion", ("value", 1.5 * T), "IDR")]),
    ("1,500,000,000,000 rupiah", "en", [("1,500,000,000,000 rupiah", ("value", 1.5 * T), "IDR")]),
    ("US$ 1,314.40 billion", "en", [("US$ 1,314.40 billion", ("value", 1314.4e9), "USD")]),
    ("$1.2 billion", "en", [("$1.2 billion", ("value", 1.2e9), "USD")]),
    ("1.2 billion US dollars", "en", [("1.2 billion US dollars", ("value", 1.2e9), "USD")]),
    ("10,000 people", "en", [("10,000", ("value", 1e4), None)]),
    ("1.000", "en", [("1.000", ("value", 1.0), None)]),  # trap: one
    ("3.2 percent", "en", [("3.2 percent", ("value", 3.2), "percent")]),
    ("3.2 per cent", "en", [("3.2 per cent", ("value", 3.2), "percent")]),
    ("at 10:30", "en", [("10:30", ("time", 630.0), None)]),
    ("at 10.30 am", "en", [("10.30 am", ("time", 630.0), None)]),
    ("at 2.15 pm", "en", [("2.15 pm", ("time", 855.0), None)]),
    ("at 2 p.m.", "en", [("2 p.m.", ("time", 840.0), None)]),
    ("January 12, 2024", "en", [("January 12", ("date", 112.0), None), ("2024", ("value", 2024.0), None)]),  # noqa: E501
    ("12 January 2024", "en", [("12 January", ("date", 112.0), None), ("2024", ("value", 2024.0), None)]),  # noqa: E501
    ("21-22 percent", "en", [("21", ("value", 21.0), "percent"), ("22 percent", ("value", 22.0), "percent")]),  # noqa: E501
    ("the 11th century", "en", [("11th", ("value", 11.0), None)]),
    ("three million", "en", [("three million", ("value", 3e6), None)]),
    ("twenty-five", "en", [("twenty-five", ("value", 25.0), None)]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "language", "expected"), READINGS)
def test_readings(text: str, language: Language, expected: list[tuple[object, ...]]) -> None:
    found = [(q.text, q.readings[0], q.unit) for q in parse_numbers(text, language)]
    assert found == expected
    for quantity in parse_numbers(text, language):
        assert text[quantity.start : quantity.end] == quantity.text


# (Indonesian, English, agrees?)
PAIRS = [
    ("Rp1,5 triliun", "Rp1.5 trillion", True),
    ("Rp1,5 triliun", "IDR 1.5 trillion", True),
    ("Rp1,5 triliun", "1,500,000,000,000 rupiah", True),
    ("Rp1,5 triliun", "Rp15 trillion", False),
    ("Rp1,5 triliun", "Rp1.5 billion", False),
    ("Rp1,5 triliun", "US$1.5 trillion", False),  # another currency
    ("10.000 orang", "10,000 people", True),
    ("10.000 orang", "10.000 people", False),  # English reads "10.000" as ten
    ("1.000 orang", "1,000 people", True),
    ("1.000 orang", "1.000 people", False),
    ("3,2 persen", "3.2 percent", True),
    ("3,2 persen", "3.2%", True),
    ("3,2 persen", "32 percent", False),
    ("pukul 10.30 WIB", "at 10:30 WIB", True),
    ("pukul 10.30 WIB", "at 10.30 am", True),
    ("pukul 10.30 WIB", "at 10.30", True),
    ("pukul 14.15", "at 2.15 pm", True),
    ("pukul 10.30 WIB", "at 11:30", False),
    ("12 Januari 2024", "January 12, 2024", True),
    ("12 Januari 2024", "12 January 2024", True),
    ("12 Januari 2024", "January 21, 2024", False),
    ("12 Januari 2024", "January 12, 2023", False),
    ("versi 2.5", "version 2.5", True),
    ("abad ke-11", "the 11th century", True),
    ("tiga orang", "three people", True),
    ("tiga orang", "3 people", True),
    ("tiga orang", "four people", False),
    ("salah satu", "one of", True),
    ("salah satu", "a", True),  # "satu" is never required
    ("dua kali", "twice", True),
    ("21-22 persen", "21-22 percent", True),
    ("1-2 juta", "1-2 million", True),
]


@pytest.mark.parametrize(("indonesian", "english", "agrees"), PAIRS)
def test_values_compared(indonesian: str, english: str, agrees: bool) -> None:
    missing = missing_numbers(parse_numbers(indonesian, "id"), parse_numbers(english, "en"))
    assert (not missing) is agrees, missing


@pytest.mark.parametrize(
    ("indonesian", "form"),
    [
        ("Rp1,5 triliun", "1.5 trillion"),
        ("10.000 orang", "10,000"),
        ("3,2 persen", "3.2 percent"),
        ("pukul 10.30 WIB", "10:30"),
        ("12 Januari", "January 12"),
        ("tahun 2024", "2024"),
        ("versi 2.5", "2.5"),
        ("ke-3", "3rd"),
    ],
)
def test_english_form_reads_back_as_the_same_value(indonesian: str, form: str) -> None:
    (quantity,) = parse_numbers(indonesian, "id")
    assert quantity.english_form() == form
    assert not missing_numbers([quantity], parse_numbers(form, "en"))


def test_skipped_spans_are_not_read() -> None:
    text = "Lihat https://x.id/2024/10 pada 10.000 orang"
    start = text.index("https")
    found = parse_numbers(text, "id", skip=[(start, start + len("https://x.id/2024/10"))])
    assert [q.text for q in found] == ["10.000"]
