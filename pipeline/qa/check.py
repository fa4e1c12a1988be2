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

from pipeline.config import PipelineConfig
from pipeline.guards import GuardFinding, GuardSettings, check_translation, guard_settings
from pipeline.inputs.language import sentence_language
from pipeline.qa.quotes import english_quotes
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
            for f in guard_translation(text, text_en, guards)
        ]
    return flags


def guard_translation(
    source: str,
    output: str,
    settings: GuardSettings = GuardSettings(),  # noqa: B008 - frozen, shared safely
) -> list[GuardFinding]:
    """The output guards on a translated sentence, its English quotes masked."""
    return check_translation(*mask_quotes(source, output), settings)


def mask_quotes(source: str, output: str) -> tuple[str, str]:
    """Both sides with the source's English quotes masked (as many characters, none a
    word's): a quote kept byte for byte is not an untranslated copy, and lengths still
    compare."""
    for start, end in reversed(english_quotes(source)):
        quote = source[start:end]
        mask = _MASK * len(quote)
        source = source[:start] + mask + source[end:]
        output = output.replace(quote, mask, 1)
    return source, output


_MASK = "\u00b7"  # a middle dot: punctuation, so never part of a word


_WHAT = {
    "numbers": "number missing or changed in the translation",
    "quotes": "English quote not kept byte for byte",
    "protected": "protected span not kept byte for byte",
    "glossary": "required term missing from the translation",
}


@dataclass(frozen=True)
class QaSettings:
    glossary: Glossary
    guards: GuardSettings | None

    @classmethod
    def of(cls, config: PipelineConfig) -> QaSettings:
        """What a run with `config` checks: its glossary, and its guards when they are on."""
        guards = guard_settings(config) if config.guards.enabled else None
        return cls(Glossary.load(config.translate.glossary), guards)

    def flags(self, text: str, english: str, lang: str | None = None) -> list[Flag] | None:
        """check_pair's flags; None for a sentence that is not checked (not Indonesian)."""
        if (lang or sentence_language(text)) != "id":
            return None
        return check_pair(text, english, self.glossary, self.guards)
