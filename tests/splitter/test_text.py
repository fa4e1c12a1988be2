"""Text-level behaviour of the splitter: normalisation, wrapped lines, paragraphs, news
furniture (datelines, headlines, captions, list items), offsets and the public API."""

from __future__ import annotations

import random
import textwrap
import unicodedata

from pipeline.splitter import normalize_text, split_sentences
from pipeline.types import Sentence
from tests.helpers import check_offsets


def split(text: str) -> list[tuple[int, str]]:
    sentences = split_sentences(text)
    check_offsets(text, sentences)
    return [(s.paragraph, s.text) for s in sentences]


class TestNormalize:
    def test_nfc(self) -> None:
        decomposed = "Cafe\u0301 di Bogor."
        assert normalize_text(decomposed) == unicodedata.normalize("NFC", decomposed)

    def test_line_endings_and_separators(self) -> None:
        assert normalize_text("a\r\nb\rc\u2028d\u2029e\x0cf") == "a\nb\nc\nd\n\ne\n\nf"

    def test_odd_spaces_become_spaces(self) -> None:
        assert normalize_text("Rp\u00a05.000\tper\u2009kg\u3000ya") == "Rp 5.000 per kg ya"

    def test_control_and_invisible_characters_are_removed(self) -> None:
        assert normalize_text("Ha\x00r\x07ga\u200b na\u00adik\ufeff.") == "Harga naik."

    def test_newlines_and_emoji_joiners_are_kept(self) -> None:
        text = "Judul\n\nIsi berita.\n👨\u200d👩\u200d👧"
        assert normalize_text(text) == text

    def test_offsets_index_the_normalised_text(self) -> None:
        raw = "Harga\u00a0naik.\r\nWarga\u200b mengeluh."
        text = normalize_text(raw)
        sentences = split_sentences(text)
        assert [text[s.start : s.end] for s in sentences] == ["Harga naik.", "Warga mengeluh."]


class TestWrappedLines:
    PLAIN = (
        "Menurut dr. Siti Rahma, Sp.A., kasus demam berdarah meningkat tajam bulan ini. "
        "Kantor tersebut berada di Jl. Jend. Sudirman No. 45, Kec. Tanah Abang, Jakarta "
        "Pusat. Pedagang menjual sayur, buah, bumbu dapur, dll. Harga cabai naik dua kali "
        "lipat sejak pekan lalu. Presiden ke-3 RI, B.J. Habibie, lahir di Parepare."
    )

    def test_wrapped_text_gives_the_same_sentences(self) -> None:
        plain = [t for _, t in split(self.PLAIN)]
        assert len(plain) == 5
        for width in (30, 50, 70, 100):
            wrapped = textwrap.fill(self.PLAIN, width, break_on_hyphens=False)
            assert [t for _, t in split(wrapped)] == plain, width

    def test_wrapped_offsets_point_into_the_original(self) -> None:
        wrapped = textwrap.fill(self.PLAIN, 40, break_on_hyphens=False)
        for s in split_sentences(wrapped):
            assert "\n" in wrapped[s.start : s.end] or len(s.text) < 40
            assert " ".join(wrapped[s.start : s.end].split()) == s.text

    def test_wrap_after_abbreviation_and_before_number(self) -> None:
        text = "Kantor itu di Jl.\nSudirman No.\n45 dan dekat stasiun. Ramai."
        assert [t for _, t in split(text)] == [
            "Kantor itu di Jl. Sudirman No. 45 dan dekat stasiun.",
            "Ramai.",
        ]

    def test_crlf_and_indented_wrapped_lines(self) -> None:
        wrapped = textwrap.fill(self.PLAIN, 60, initial_indent="    ", subsequent_indent="  ")
        assert len(split(wrapped.replace("\n", "\r\n"))) == 5


class TestParagraphs:
    def test_blank_lines_separate_paragraphs(self) -> None:
        text = "Harga naik. Warga mengeluh.\n\n  \nPemerintah berjanji.\n\n\nSelesai."
        assert split(text) == [
            (0, "Harga naik."),
            (0, "Warga mengeluh."),
            (1, "Pemerintah berjanji."),
            (2, "Selesai."),
        ]

    def test_single_newlines_between_unwrapped_paragraphs(self) -> None:
        # Scraped news often puts each paragraph on one long line, separated by "\n" only.
        first = "Banjir merendam ribuan rumah di Kecamatan Bekasi Timur pada Selasa pagi. " * 3
        second = "Warga diminta waspada karena hujan diprediksi turun hingga Kamis. " * 2
        third = "Informasi tersedia di www.bekasikota.go.id."
        text = f"{first.strip()}\n{second.strip()}\n{third}"
        assert [p for p, _ in split(text)] == [0, 0, 0, 1, 1, 2]

    def test_paragraph_numbers_have_no_gaps(self) -> None:
        text = "\n\nA satu.\n\n\n\nB dua.\n\n"
        assert [p for p, _ in split(text)] == [0, 1]


class TestNewsFurniture:
    def test_dateline_stays_with_the_first_sentence(self) -> None:
        text = "JAKARTA, KOMPAS.com - Harga beras naik. Warga mengeluh."
        assert split(text) == [
            (0, "JAKARTA, KOMPAS.com - Harga beras naik."),
            (0, "Warga mengeluh."),
        ]

    def test_dateline_on_its_own_line_is_joined(self) -> None:
        text = "JAKARTA, KOMPAS.com -\nHarga beras naik. Warga mengeluh."
        assert split(text)[0] == (0, "JAKARTA, KOMPAS.com - Harga beras naik.")

    def test_other_dateline_styles(self) -> None:
        for dateline in ("Jakarta (ANTARA) -", "TEMPO.CO, Jakarta -", "Liputan6.com, Jakarta -"):
            text = f"{dateline} Harga beras naik. Warga mengeluh."
            assert len(split(text)) == 2, dateline

    def test_headline_without_final_punctuation_is_its_own_unit(self) -> None:
        text = (
            "Harga Beras Naik Jelang Lebaran\n"
            "JAKARTA, KOMPAS.com - Harga beras di pasar tradisional naik sejak pekan lalu. "
            "Warga mengeluh."
        )
        assert split(text) == [
            (0, "Harga Beras Naik Jelang Lebaran"),
            (1, "JAKARTA, KOMPAS.com - Harga beras di pasar tradisional naik sejak pekan lalu."),
            (1, "Warga mengeluh."),
        ]

    def test_photo_caption_line(self) -> None:
        text = (
            "Warga antre membeli beras di Pasar Induk, Jakarta, Selasa (18/6/2024)\n"
            "Foto: KOMPAS.com/Andi\n"
            "Antrean mengular sejak pagi hari di seluruh pasar yang ada di ibu kota. "
            "Polisi berjaga."
        )
        assert split(text) == [
            (0, "Warga antre membeli beras di Pasar Induk, Jakarta, Selasa (18/6/2024)"),
            (1, "Foto: KOMPAS.com/Andi"),
            (2, "Antrean mengular sejak pagi hari di seluruh pasar yang ada di ibu kota."),
            (2, "Polisi berjaga."),
        ]

    def test_bulleted_list_items(self) -> None:
        text = "Syaratnya meliputi:\n- fotokopi KTP\n- pas foto\n• surat lamaran"
        assert split(text) == [
            (0, "Syaratnya meliputi:"),
            (1, "- fotokopi KTP"),
            (2, "- pas foto"),
            (3, "• surat lamaran"),
        ]

    def test_a_line_that_visibly_goes_on_is_joined(self) -> None:
        text = "Ia datang bersama istrinya,\nanaknya dan dua ajudan. Semua selamat."
        assert [t for _, t in split(text)] == [
            "Ia datang bersama istrinya, anaknya dan dua ajudan.",
            "Semua selamat.",
        ]


class TestApi:
    def test_importable_from_the_package(self) -> None:
        from pipeline.splitter import cut_at_clauses, normalize_text, split_sentences

        assert callable(cut_at_clauses) and callable(normalize_text)
        sentences = split_sentences("Harga naik. Warga mengeluh.")
        assert sentences == [
            Sentence("Harga naik.", 0, 0, 11),
            Sentence("Warga mengeluh.", 0, 12, 27),
        ]

    def test_every_character_in_exactly_one_sentence(self) -> None:
        text = '  Ini (kalimat. satu) ... dua?? "tiga!" empat…  \n\n lima. \n'
        check_offsets(text, split_sentences(text))

    def test_extra_abbreviations_from_config(self) -> None:
        text = "Ia dilantik Letnan Kol. Cpl. Budi. Semua hadir."
        assert len(split_sentences(text)) == 3
        sentences = split_sentences(text, extra_abbreviations=["Cpl."])
        assert [s.text for s in sentences] == ["Ia dilantik Letnan Kol. Cpl. Budi.", "Semua hadir."]

    def test_invariants_on_random_text(self) -> None:
        # Offsets valid, nothing dropped or doubled, paragraphs in order, whatever the input.
        pieces = [*"aB. ?!…\"“”'()[]\n\n  ,;:-", "dr.", "Jl.", "dll.", "H.", "B.J.", "1."]
        pieces += ["2,5", "14.15", "www.x.id", "Ia", "dan", "yang", "\r\n", "\t", "- ", "• "]
        rnd = random.Random(7)
        for _ in range(2000):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 60)))
            sentences = split_sentences(text, max_chars=rnd.choice([None, 5, 20]))
            check_offsets(text, sentences)
            numbers = [s.paragraph for s in sentences]
            assert numbers == sorted(numbers)
