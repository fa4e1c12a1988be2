"""check_pair: every QA check on one Indonesian sentence and its English, as flags.

The translate stage records these flags on each translated sentence of a run (after its
retries), and `id2en check` computes the same ones on pairs made anywhere, so the two
agree on the same pairs. Checks: numbers (by value), quotes (English quotes kept byte for
byte), protected (URLs, e-mail addresses, handles, hashtags), glossary (required
renderings) and guards (repetition, copy, empty output, length ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.guards import GuardSettings, check_translation
from pipeline.qa.spans import EN_QUOTE, NUMBER, requirements
from pipeline.translate.glossary import Glossary

CHECKS = ("numbers", "quotes", "protected", "glossary", "guards")
_CHECK_OF_KIND = {NUMBER: "numbers", EN_QUOTE: "quotes", "term": "glossary"}


@dataclass(frozen=True)
class Flag:
    """One thing a check found wrong with a translated sentence."""

    check: str  # one of CHECKS
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "message": self.message}


def check_of(kind: str) -> str:
    """The check a span kind belongs to: numbers, quotes, glossary, else protected."""
    return _CHECK_OF_KIND.get(kind, "protected")


def check_pair(
    text: str,
    text_en: str,
    glossary: Glossary | None = None,
    guards: GuardSettings | None = GuardSettings(),  # noqa: B008 - frozen, shared safely
) -> list[Flag]:
    """The flags on one Indonesian sentence `text` and its English `text_en`; without
    `guards` the output guards are left out."""
    flags = [
        Flag(check_of(r.kind), f"{_WHAT[check_of(r.kind)]}: {r.explain(text_en)}")
        for r in requirements(text, glossary)
        if not r.met_by(text_en)
    ]
    if guards is not None:
        flags += [
            Flag("guards", f"{f.kind}: {f.message}")
            for f in check_translation(text, text_en, guards)
        ]
    return flags


_WHAT = {
    "numbers": "number missing or changed in the translation",
    "quotes": "English quote not kept byte for byte",
    "protected": "protected span not kept byte for byte",
    "glossary": "required term missing from the translation",
}
