"""Output guards: each degenerate pattern is caught, normal text is left alone."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.guards import GuardFinding, GuardSettings, check_summary, check_translation

# Real-looking Indonesian news sentences with fluent English translations.
PAIRS = [
    (
        "Pemerintah Provinsi DKI Jakarta akan membangun 12 jalan tol baru pada tahun 2025 untuk "
        "mengurangi kemacetan yang semakin parah di ibu kota.",
        "The Jakarta Provincial Government will build 12 new toll roads in 2025 to reduce the "
        "increasingly severe congestion in the capital.",
    ),
    (
        "Presiden Joko Widodo meresmikan bendungan tersebut pada Senin (12/2) pagi.",
        "President Joko Widodo inaugurated the dam on Monday morning (12/2).",
    ),
    (
        "Harga cabai rawit di pasar tradisional naik hingga Rp 80.000 per kilogram.",
        "The price of bird's eye chilies in traditional markets rose to Rp 80,000 per kilogram.",
    ),
    (
        "Menurut Badan Pusat Statistik, inflasi pada bulan Maret mencapai 3,05 persen.",
        "According to Statistics Indonesia, inflation in March reached 3.05 percent.",
    ),
    (
        "Anak-anak di desa itu harus berjalan kaki sejauh lima kilometer untuk sampai ke sekolah.",
        "The children in the village have to walk five kilometres to get to school.",
    ),
    (
        "Data tersebut menunjukkan bahwa penggunaan internet dan video online terus meningkat.",
        "The data shows that the use of the internet and online video continues to rise.",
    ),
    ("Ya.", "Yes."),
    ("Tidak.", "No."),
    ("Terima kasih!", "Thank you!"),
    ("2024.", "2024."),
    ("Joko Widodo.", "Joko Widodo."),
    ("Bank Indonesia (BI) dan OJK.", "Bank Indonesia (BI) and OJK."),
    ("Rp 5.000.000", "Rp 5,000,000"),
    ("“Hidup Jokowi! Hidup Jokowi! Hidup Jokowi!”", "“Long live Jokowi! Long live Jokowi!"),
    ("Dia sangat, sangat, sangat senang.", "She was very, very, very happy."),
    ("Selamat pagi 😀", "Good morning 😀"),
    ("😀🎉", "😀🎉"),
    ("", ""),
]

ENGLISH_ARTICLE = (
    "The Jakarta Provincial Government will build 12 new toll roads in 2025 to reduce the "
    "increasingly severe congestion in the capital. The governor said the roads would connect "
    "the northern port area with the southern suburbs, where most of the city's commuters live. "
    "Construction of the first two sections is expected to begin in the second half of the "
    "year, and the government has set aside Rp 12 trillion for land acquisition. Critics of the "
    "plan argue that new roads only attract more cars, and that the money would be better spent "
    "on the expansion of the MRT and the TransJakarta bus network. The head of the transport "
    "agency said the toll roads and the public transport projects were part of the same plan "
    "and would be built at the same time. Residents of the areas affected by the construction "
    "will receive compensation, according to the head of the land agency."
)


def kinds(findings: list[GuardFinding]) -> list[str]:
    return [f.kind for f in findings]


@pytest.mark.parametrize(("source", "output"), PAIRS)
def test_normal_translations_pass(source: str, output: str) -> None:
    assert check_translation(source, output) == []


def test_normal_paragraph_passes_as_translation_and_summary() -> None:
    sentences = ENGLISH_ARTICLE.split(". ")
    summary = ". ".join(sentences[:2]) + "."
    assert check_summary(ENGLISH_ARTICLE, summary) == []
    # As a single long "translation" of itself-sized Indonesian text: no loop, no bad ratio.
    assert kinds(check_translation("x" * len(ENGLISH_ARTICLE), ENGLISH_ARTICLE)) == []


def test_repetition_loop_short_ngram() -> None:
    output = "The minister said " + "the government " * 9 + "is ready."
    findings = check_translation("Menteri mengatakan pemerintah siap menghadapi krisis.", output)
    assert "repetition" in kinds(findings)
    message = next(f.message for f in findings if f.kind == "repetition")
    assert "'the government'" in message
    assert "9x" in message
    assert "limit 3" in message


def test_repetition_loop_single_word_and_long_phrase() -> None:
    one = check_translation("Dia berkata tidak.", "He said no no no no no no no.")
    assert kinds(one) == ["repetition"]
    assert "'no' repeated 7x" in one[0].message

    clause = "he said that the president will visit the city and the port "  # 12 words
    two = check_translation("Ia mengatakan presiden akan berkunjung.", clause * 5)
    assert "repetition" in kinds(two)
    assert f"'{clause.strip()}' repeated 5x" in two[0].message


def test_repetition_scattered() -> None:
    verbs = ["said", "met", "agreed", "denied", "added", "left", "returned", "stayed"]
    output = " ".join(f"the government {v}" for v in verbs)
    findings = check_translation("Pemerintah mengatakan sesuatu yang panjang sekali.", output)
    assert "repetition" in kinds(findings)
    message = next(f.message for f in findings if f.kind == "repetition")
    assert "'the government' occurs 8x in 24 words" in message


def test_three_repeats_allowed_four_flagged() -> None:
    src = "Hidup Jokowi, hidup Jokowi, hidup Jokowi, hidup Jokowi!"
    three = "Long live Jokowi, long live Jokowi, long live Jokowi!"
    four = "Long live Jokowi, long live Jokowi, long live Jokowi, long live Jokowi!"
    assert check_translation(src, three) == []
    assert kinds(check_translation(src, four)) == ["repetition"]
    strict = GuardSettings(max_ngram_repeats=2)
    assert kinds(check_translation(src, three, strict)) == ["repetition"]


def test_copy_of_source() -> None:
    source = "Pemerintah akan membangun jalan baru di Jakarta pada tahun depan."
    findings = check_translation(source, source)
    assert kinds(findings) == ["copy"]
    assert "8/8" in findings[0].message
    assert "100%" in findings[0].message
    assert "80%" in findings[0].message


def test_partial_copy_and_threshold() -> None:
    source = "Pemerintah akan membangun jalan baru di Jakarta pada tahun depan."
    # Capitalised words ("The", "Jakarta") are not counted: 8 of the 9 others are copied.
    half = "The government akan membangun jalan baru di Jakarta pada tahun depan."
    findings = check_translation(source, half)
    assert kinds(findings) == ["copy"]
    assert "8/9 words (89%)" in findings[0].message
    # Translating a few more words brings it under the limit.
    assert check_translation(source, "The government will build jalan baru di Jakarta.") == []
    assert check_translation(source, half, GuardSettings(copy_similarity=0.95)) == []


def test_copy_ignores_numbers_names_and_short_outputs() -> None:
    assert check_translation("2024.", "2024.") == []
    assert check_translation("Joko Widodo.", "Joko Widodo.") == []
    assert check_translation("12.500", "12.500") == []
    names = "Joko Widodo, Prabowo Subianto, KPK, DPR."
    assert check_translation(names, names) == []
    assert check_translation("Ya, saya setuju.", "Ya, saya setuju.") == []


@pytest.mark.parametrize("output", ["", "   ", "...", "\n", "😀"])
def test_empty_output(output: str) -> None:
    source = "Pemerintah akan membangun jalan baru."
    findings = check_translation(source, output)
    assert kinds(findings) == ["empty"]
    assert f"{len(source)}-char" in findings[0].message


def test_nothing_to_translate_is_not_empty() -> None:
    assert check_translation("", "") == []
    assert check_translation("—", "") == []
    assert check_translation("😀", "😀") == []


def test_length_ratio_too_long() -> None:
    source = "Harga beras naik lagi minggu ini."
    output = "Rice prices rose again this week, " * 10
    findings = check_translation(source, output)
    assert "length_ratio" in kinds(findings)
    message = next(f.message for f in findings if f.kind == "length_ratio")
    n_out = len(" ".join(output.split()))
    assert f"{n_out} English chars for {len(source)} Indonesian chars" in message
    assert f"{n_out / len(source):.2f}" in message
    assert "0.4-2.5" in message


def test_length_ratio_too_short() -> None:
    source = PAIRS[0][0]
    findings = check_translation(source, "The government will build.")
    assert kinds(findings) == ["length_ratio"]
    assert f"for {len(source)} Indonesian chars" in findings[0].message


def test_length_ratio_short_source_only_checks_bloat() -> None:
    assert check_translation("Ya.", "Yes.") == []
    assert check_translation("Oke.", "Okay, fine.") == []
    bloated = check_translation(
        "Ya.", "Yes, and then the president said that the meeting was over."
    )
    assert kinds(bloated) == ["length_ratio"]
    assert "for 3 Indonesian chars" in bloated[0].message


def test_summary_longer_than_text() -> None:
    text = "The minister resigned on Friday."
    summary = "The minister resigned on Friday after weeks of pressure from parliament."
    findings = check_summary(text, summary)
    assert kinds(findings) == ["summary_longer"]
    assert f"{len(summary)} vs {len(text)} chars" in findings[0].message
    assert "longer than" in findings[0].message


def test_summary_about_as_long_as_text() -> None:
    summary = ENGLISH_ARTICLE[:-10]
    findings = check_summary(ENGLISH_ARTICLE, summary)
    assert kinds(findings) == ["summary_longer"]
    assert "about as long as" in findings[0].message
    assert "limit 0.90" in findings[0].message
    assert kinds(check_summary(ENGLISH_ARTICLE, ENGLISH_ARTICLE)) == ["summary_longer"]


def test_summary_lead_sentences_verbatim_is_fine() -> None:
    lead = ENGLISH_ARTICLE.split(". ")[0] + "."
    assert check_summary(ENGLISH_ARTICLE, lead) == []
    # A one-sentence text summarised by itself is not degenerate either.
    assert check_summary(lead, lead) == []


def test_summary_empty_and_repetition() -> None:
    empty = check_summary(ENGLISH_ARTICLE, "  ")
    assert kinds(empty) == ["empty"]
    assert f"{len(ENGLISH_ARTICLE)}-char" in empty[0].message
    assert check_summary("", "") == []
    looped = check_summary(ENGLISH_ARTICLE, "The governor said " + "the roads, " * 12)
    assert kinds(looped) == ["repetition"]
    assert "12x" in looped[0].message


def test_deterministic_and_frozen() -> None:
    source, output = "Dia berkata tidak.", "He said no no no no no no no."
    assert check_translation(source, output) == check_translation(source, output)
    with pytest.raises(dataclasses.FrozenInstanceError):
        GuardSettings().max_ngram_repeats = 5  # type: ignore[misc]
