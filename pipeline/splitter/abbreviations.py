"""The Indonesian abbreviation list (pipeline/data/abbreviations_id.txt) and its lookup."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

logger = logging.getLogger(__name__)

Kind = Literal["title", "number", "final"]
KINDS: tuple[Kind, ...] = ("title", "number", "final")
DATA_FILE = "abbreviations_id.txt"


def normalize_abbreviation(word: str) -> str:
    """The lookup key: lowercase, without the final period ("Kol." and "kol" are one key)."""
    return word.strip().rstrip(".").lower()


@dataclass(frozen=True)
class Lexicon:
    """Abbreviation -> kind, matched case-insensitively.

    An all-caps word of three or more letters matches only an entry written in capitals:
    "KEL." in running text is an acronym that may end a sentence, "Kel." (kelurahan) is not.
    """

    kinds: Mapping[str, Kind]
    upper: frozenset[str]  # keys whose entry is written in capitals ("PT", "RT")

    def kind(self, word: str) -> Kind | None:
        key = word.lower()
        found = self.kinds.get(key)
        if found and len(word) >= 3 and word.isupper() and word.isalpha() and key not in self.upper:
            return None
        return found

    def with_entries(self, entries: Iterable[tuple[str, Kind]]) -> Lexicon:
        kinds, upper = dict(self.kinds), set(self.upper)
        for word, kind in entries:
            key = normalize_abbreviation(word)
            if not key:
                logger.warning("ignoring empty abbreviation %r", word)
                continue
            kinds[key] = kind
            if word.rstrip(".").isupper():
                upper.add(key)
        return Lexicon(MappingProxyType(kinds), frozenset(upper))


def parse_abbreviations(lines: Iterable[str]) -> list[tuple[str, Kind]]:
    """Read the data-file format: "[section]" headers, one abbreviation a line, "#" comments."""
    entries: list[tuple[str, Kind]] = []
    kind: Kind = "title"
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            if name not in KINDS:
                raise ValueError(f"line {number}: unknown section [{name}], expected {KINDS}")
            kind = name
            continue
        entries.append((line, kind))
    return entries


def parse_extra(entry: str) -> tuple[str, Kind]:
    """A config entry: "Kol." (a title) or "final:Bhd." / "number:Psl." with its section."""
    head, sep, rest = entry.partition(":")
    if sep and head.strip().lower() in KINDS:
        return rest.strip(), head.strip().lower()  # type: ignore[return-value]
    return entry.strip(), "title"


_EMPTY = Lexicon(MappingProxyType({}), frozenset())


@lru_cache(maxsize=1)
def default_abbreviations() -> Lexicon:
    """The packaged list, read once."""
    data = resources.files("pipeline").joinpath("data").joinpath(DATA_FILE)
    text = data.read_text(encoding="utf-8")
    return _EMPTY.with_entries(parse_abbreviations(text.splitlines()))


@lru_cache(maxsize=32)
def abbreviations(extra: tuple[str, ...] = ()) -> Lexicon:
    """The packaged list plus config extras; cached per distinct tuple of extras."""
    if not extra:
        return default_abbreviations()
    return default_abbreviations().with_entries(parse_extra(entry) for entry in extra)
