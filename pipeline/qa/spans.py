"""A sentence's spans: what its English must keep, where it is in the sentence, and what
kind it is. Protected spans (URLs, e-mail addresses, @handles, #hashtags) come first, then
English quotes outside them, then glossary terms outside both, then numbers outside all
three (a URL's or an English quote's digits are kept byte for byte already).

Each span carries the Requirement the translate stage enforces: forced during decoding
where the backend can (all kinds but numbers), checked on every sentence, retried with
the missing renderings forced (a number in its English form, `1.5 trillion`), else warned.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pipeline.qa.numbers import Quantity, missing_numbers, parse_numbers
from pipeline.qa.quotes import english_quotes
from pipeline.translate.glossary import Glossary, Match, Requirement, unique_requirements

NUMBER = "number"
EN_QUOTE = "en-quote"
_BUILTIN = Glossary([])


@dataclass(frozen=True)
class Span:
    """`text[start:end]` of a sentence is protected or checked, as `kind`."""

    start: int
    end: int
    kind: str  # "url" | "email" | "handle" | "hashtag" | "term" | "en-quote" | "number"

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "kind": self.kind}


@dataclass(frozen=True)
class NumberRequirement(Requirement):
    """A number the English must hold by value (`rendering` is its English form), as many
    times as the sentence has it (`quantities`)."""

    quantities: tuple[Quantity, ...] = ()

    def met_by(self, english: str) -> bool:
        return not missing_numbers(self.quantities, english_numbers(english))

    def describe(self) -> str:
        return f"{self.name!r} ({self.rendering})"

    def explain(self, english: str) -> str:
        found = ", ".join(repr(q.text) for q in english_numbers(english)) or "no number"
        return f"{self.describe()}; the English has {found}"


@functools.lru_cache(maxsize=4096)
def english_numbers(english: str) -> tuple[Quantity, ...]:
    """The numbers of an English text outside its URLs and e-mail addresses (cached: every
    requirement of a sentence reads it)."""
    skip = [(a, b) for a, b, _ in _BUILTIN.protected(english)]
    return tuple(parse_numbers(english, "en", skip))


def sentence_matches(text: str, glossary: Glossary | None = None) -> list[Match]:
    """Every span of an Indonesian sentence with its requirement, in order."""
    glossary = glossary or _BUILTIN
    protected = glossary.protected(text)
    quotes: list[Match] = [
        (a, b, Requirement(text[a:b], text[a:b], exact=True, kind=EN_QUOTE))
        for a, b in english_quotes(text)
        if not any(a < pb and pa < b for pa, pb, _ in protected)
    ]
    taken = [*protected, *quotes]
    terms = glossary.term_matches(text, taken)
    skip = [(a, b) for a, b, _ in [*taken, *terms]]
    quantities = [q for q in parse_numbers(text, "id", skip) if q.required]
    alike: dict[str, tuple[Quantity, ...]] = {}  # one requirement per English form
    for q in quantities:
        alike[q.english_form()] = (*alike.get(q.english_form(), ()), q)
    numbers: list[Match] = [
        (q.start, q.end, NumberRequirement(q.text, form, False, NUMBER, alike[form]))
        for q in quantities
        if (form := q.english_form())
    ]
    return sorted([*taken, *terms, *numbers], key=lambda m: (m[0], m[1]))


def sentence_spans(text: str, glossary: Glossary | None = None) -> list[Span]:
    return [Span(a, b, r.kind) for a, b, r in sentence_matches(text, glossary)]


def requirements(text: str, glossary: Glossary | None = None) -> list[Requirement]:
    """What the English of `text` must hold, each rendering once."""
    return unique_requirements(sentence_matches(text, glossary))
