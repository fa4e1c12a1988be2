"""The abbreviation data file and its extension from config."""

from __future__ import annotations

import pytest

from pipeline.splitter.abbreviations import (
    abbreviations,
    default_abbreviations,
    parse_abbreviations,
    parse_extra,
)


class TestDataFile:
    def test_packaged_list_has_each_section(self) -> None:
        lexicon = default_abbreviations()
        assert lexicon.kind("dr") == "title"
        assert lexicon.kind("Prof") == "title"
        assert lexicon.kind("K.H") == "title"
        assert lexicon.kind("Jl") == "title"
        assert lexicon.kind("a.n") == "title"
        assert lexicon.kind("s.d") == "title"
        assert lexicon.kind("hlm") == "number"
        assert lexicon.kind("dll") == "final"
        assert lexicon.kind("Tbk") == "final"
        assert lexicon.kind("M.Si") == "final"
        assert lexicon.kind("makan") is None

    def test_caps_acronym_matches_only_entries_written_in_caps(self) -> None:
        lexicon = default_abbreviations()
        assert lexicon.kind("Kel") == "title"
        assert lexicon.kind("KEL") is None  # an acronym, not kelurahan
        assert lexicon.kind("PT") == "title"  # written "PT." in the file

    def test_format(self) -> None:
        lines = ["# comment", "", "Kol.  # trailing comment", "[final]", "Bhd.", "[number]", "Psl"]
        assert parse_abbreviations(lines) == [
            ("Kol.", "title"),
            ("Bhd.", "final"),
            ("Psl", "number"),
        ]

    def test_unknown_section_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="line 1: unknown section"):
            parse_abbreviations(["[titles]"])


class TestExtras:
    def test_entries_with_and_without_section(self) -> None:
        assert parse_extra("Kol.") == ("Kol.", "title")
        assert parse_extra("final:Bhd.") == ("Bhd.", "final")
        assert parse_extra("number: Psl.") == ("Psl.", "number")
        assert parse_extra("Ket:") == ("Ket:", "title")  # not a section name

    def test_extras_are_added_and_cached(self) -> None:
        lexicon = abbreviations(("Cpl.", "final:Bhd"))
        assert lexicon.kind("cpl") == "title"
        assert lexicon.kind("Bhd") == "final"
        assert abbreviations(("Cpl.", "final:Bhd")) is lexicon
        assert default_abbreviations().kind("cpl") is None

    def test_an_extra_can_change_a_section(self) -> None:
        assert abbreviations(("final:Jl.",)).kind("jl") == "final"
