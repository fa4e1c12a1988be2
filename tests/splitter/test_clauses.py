"""Over-long sentences: cut at clause boundaries, never inside a word, and always recorded."""

from __future__ import annotations

import pytest

from pipeline.splitter import cut_at_clauses, split_sentences
from tests.helpers import check_offsets

LONG = (
    "Pemerintah menaikkan harga BBM bersubsidi mulai pekan depan, sedangkan harga BBM "
    "nonsubsidi tetap; kebijakan itu akan dievaluasi setiap bulan oleh kementerian terkait "
    "dan hasilnya diumumkan kepada masyarakat yang membutuhkan kepastian harga."
)


def pieces(text: str, limit: int) -> list[str]:
    return [text[a:b] for a, b in cut_at_clauses(text, limit)]


class TestCutAtClauses:
    def test_short_text_is_one_span(self) -> None:
        assert cut_at_clauses("  Harga naik.  ", 100) == [(2, 13)]
        assert cut_at_clauses("   ", 10) == []

    def test_prefers_semicolon_then_conjunctions(self) -> None:
        assert pieces(LONG, 120) == [
            "Pemerintah menaikkan harga BBM bersubsidi mulai pekan depan, sedangkan harga BBM "
            "nonsubsidi tetap;",
            "kebijakan itu akan dievaluasi setiap bulan oleh kementerian terkait",
            "dan hasilnya diumumkan kepada masyarakat yang membutuhkan kepastian harga.",
        ]

    def test_relative_yang_is_the_weakest_clause_cut(self) -> None:
        text = "Bantuan itu diberikan kepada warga yang rumahnya rusak dan sekolah yang roboh."
        assert pieces(text, 60) == [
            "Bantuan itu diberikan kepada warga yang rumahnya rusak",
            "dan sekolah yang roboh.",
        ]

    def test_comma_before_conjunction(self) -> None:
        text = "Harga beras di pasar tradisional naik tajam, tetapi harga gula justru turun."
        assert pieces(text, 50) == [
            "Harga beras di pasar tradisional naik tajam,",
            "tetapi harga gula justru turun.",
        ]

    @pytest.mark.parametrize("limit", [20, 35, 60, 90, 150])
    def test_pieces_fit_and_never_split_a_word(self, limit: int) -> None:
        spans = cut_at_clauses(LONG, limit)
        words = set(LONG.split())
        for a, b in spans:
            assert b - a <= limit
            assert all(word in words for word in LONG[a:b].split())
        assert " ".join(LONG[a:b] for a, b in spans) == LONG

    def test_a_word_longer_than_the_limit_stays_whole(self) -> None:
        text = "Lihat https://example.co.id/berita/harga-beras-naik-tajam untuk detailnya."
        spans = cut_at_clauses(text, 20)
        assert "https://example.co.id/berita/harga-beras-naik-tajam" in [
            text[a:b] for a, b in spans
        ]

    def test_rejects_a_non_positive_limit(self) -> None:
        with pytest.raises(ValueError):
            cut_at_clauses("Harga naik.", 0)


class TestSplitWithMaxChars:
    def test_long_sentence_is_cut_and_says_so(self) -> None:
        text = f"Harga naik. {LONG} Warga mengeluh."
        sentences = split_sentences(text, max_chars=120)
        check_offsets(text, sentences)
        assert [s.cut for s in sentences] == [
            None,
            f"cut at clause boundary: {len(LONG)} chars > 120",
            f"cut at clause boundary: {len(LONG)} chars > 120",
            f"cut at clause boundary: {len(LONG)} chars > 120",
            None,
        ]
        assert {s.paragraph for s in sentences} == {0}

    def test_no_limit_no_cut(self) -> None:
        assert all(s.cut is None for s in split_sentences(LONG))
        assert all(s.cut is None for s in split_sentences(LONG, max_chars=len(LONG)))

    def test_falls_back_to_word_boundaries_and_says_so(self) -> None:
        text = "Satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas dua belas."
        sentences = split_sentences(text, max_chars=30)
        assert len(sentences) > 1
        assert all(s.cut == f"cut at word boundary: {len(text)} chars > 30" for s in sentences)

    def test_an_uncuttable_sentence_is_flagged(self) -> None:
        text = "x" * 50
        (sentence,) = split_sentences(text, max_chars=20)
        assert sentence.text == text
        assert sentence.cut == "not cut, no space to cut at: 50 chars > 20"
