"""Required terms: a glossary (translate.glossary) and spans never to be translated.

A glossary is a TSV file, one term a line: the Indonesian term, a TAB, the English
rendering, and no other TAB (a line with none, or with more, is an error naming its line).
An empty rendering means "keep the term as written". Blank lines and lines
starting with "#" are skipped.

    Bank Indonesia\tBank Indonesia
    Komisi Pemberantasan Korupsi\tCorruption Eradication Commission
    Kompas\t

Matching: a term matches on word boundaries, case-insensitively ("bank indonesia" finds
"Bank Indonesia"). A hyphen is a boundary, so "KPK-nya" and "di-KPK" hold the term "KPK";
the enclitic "nya" written solid ("Jokowinya") is allowed after a term too. Any other
affix written solid ("diKPK", "keJakarta", "berbank") is a different word and does not
match: Indonesian morphology is left to the user, who can list such forms as terms.
A longer term wins over a shorter one it contains.

Built in, always: URLs, e-mail addresses, @handles and #hashtags must come out
byte-identical. A term inside such a span is not matched separately. A URL's final
punctuation is the sentence's, and so is a closing bracket the URL does not open
(".../Bank_(keuangan)" keeps its ")", "(lihat https://x.id/a)" does not).

Where a term occurs, the English must contain its rendering (compared without regard to
case, since a rendering may open the sentence); a protected span must appear exactly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

# URLs (scheme or www.), e-mail addresses, @handles, #hashtags. A URL runs to the next
# space; its end is then trimmed (see _url_end).
_PROTECTED = re.compile(
    r"(?P<url>(?P<scheme>https?://|www\.)[^\s<>\"]+)"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w@#])[@#][A-Za-z_][\w.]*\w|(?<![\w@#])[@#][A-Za-z_]",
    re.UNICODE,
)
# Final punctuation is the sentence's, not the URL's.
_URL_TRAILING = ".,;:!?'”’"
# A closing bracket ends a URL only when the URL holds its opening one, as linkifiers do:
# ".../Bank_(keuangan)" keeps it, "(lihat https://x.id/a)" does not.
_URL_CLOSERS = {")": "(", "]": "["}


def protected_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each URL, e-mail address, @handle and #hashtag in `text`, in order."""
    spans = []
    for m in _PROTECTED.finditer(text):
        start, end = m.span()
        if m.group("url") is not None:
            end = _url_end(text, start, end)
            if end <= m.end("scheme"):
                continue  # "www." or "https://" followed by punctuation alone
        spans.append((start, end))
    return spans


def _url_end(text: str, start: int, end: int) -> int:
    """The end of the URL in text[start:end] once trailing punctuation and unbalanced
    closing brackets are given back to the sentence."""
    url = text[start:end]
    unopened = {c: url.count(c) - url.count(o) for c, o in _URL_CLOSERS.items()}
    while end > start:
        last = text[end - 1]
        if last in _URL_CLOSERS and unopened[last] > 0:
            unopened[last] -= 1
        elif last not in _URL_TRAILING:
            break
        end -= 1
    return end


@dataclass(frozen=True)
class Requirement:
    """What one sentence's English must contain: `rendering`; named by `name` in warnings."""

    name: str  # the Indonesian term as written, or the protected span
    rendering: str
    exact: bool  # protected spans: byte-identical; glossary renderings: any case
    # What it is, as the sentence record's spans name it: "url", "email", "handle",
    # "hashtag", "term"; pipeline.qa adds "en-quote" and "number".
    kind: str = "term"

    def met_by(self, english: str) -> bool:
        if self.exact:
            return self.rendering in english
        return self.rendering.casefold() in english.casefold()

    def describe(self) -> str:
        if self.exact:
            return repr(self.rendering)
        return f"{self.name!r} -> {self.rendering!r}"

    def explain(self, english: str) -> str:
        """What is wrong with `english` (which does not meet this requirement)."""
        return self.describe()


Match = tuple[int, int, Requirement]  # where in the sentence, and what it requires


@dataclass(frozen=True)
class Term:
    source: str
    rendering: str  # "" keeps the term as written


class Glossary:
    """Terms from a TSV file plus the built-in protected spans; `requirements(sentence)`."""

    def __init__(self, terms: list[Term], digest: str = "builtin"):
        self.terms = {t.source.casefold(): t for t in terms}
        self.digest = digest
        self._pattern: re.Pattern[str] | None = None
        if terms:
            alternatives = sorted(self.terms, key=len, reverse=True)  # longest first
            body = "|".join(re.escape(t) for t in alternatives)
            self._pattern = re.compile(rf"(?<!\w)({body})(?:nya)?(?!\w)", re.IGNORECASE)

    @classmethod
    def load(cls, path: str | Path | None) -> Glossary:
        """The glossary in `path` (None: the built-in protection alone)."""
        if path is None:
            return cls([])
        file = Path(path).expanduser()
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"translate.glossary: cannot read {file}: {exc}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"translate.glossary: {file} is not UTF-8 ({exc})") from None
        terms = [t for n, line in enumerate(text.splitlines(), 1) if (t := _term(file, n, line))]
        return cls(terms, hashlib.sha256(raw).hexdigest()[:16])

    def requirements(self, sentence: str) -> list[Requirement]:
        protected = self.protected(sentence)
        return unique_requirements([*protected, *self.term_matches(sentence, protected)])

    def protected(self, sentence: str) -> list[Match]:
        """The URLs, e-mail addresses, @handles and #hashtags in a sentence."""
        return [
            (a, b, Requirement(sentence[a:b], sentence[a:b], True, _kind(sentence[a:b])))
            for a, b in protected_spans(sentence)
        ]

    def term_matches(self, sentence: str, taken: Sequence[Match] = ()) -> list[Match]:
        """The glossary's terms in a sentence, outside the spans already `taken`."""
        if self._pattern is None:
            return []
        found: list[Match] = []
        for m in self._pattern.finditer(sentence):
            if any(a <= m.start() < b for a, b, _ in taken):
                continue
            written = m.group(1)
            rendering = self.terms[written.casefold()].rendering or written
            found.append((m.start(), m.end(), Requirement(written, rendering, exact=False)))
        return found


def unique_requirements(matches: Sequence[Match]) -> list[Requirement]:
    """Each rendering required once, in the order first found."""
    found: dict[str, Requirement] = {}
    for _, _, requirement in matches:
        found.setdefault(requirement.rendering, requirement)
    return list(found.values())


def _kind(span: str) -> str:
    if span[0] == "@":
        return "handle"
    if span[0] == "#":
        return "hashtag"
    return "email" if "@" in span and "://" not in span else "url"


_SHOWN = 120  # characters of a bad line quoted in its error


def _term(file: Path, number: int, line: str) -> Term | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    tabs = line.count("\t")
    if tabs != 1:
        shown = line if len(line) <= _SHOWN else line[:_SHOWN] + f"... ({len(line)} chars)"
        raise ConfigError(
            f"translate.glossary: {file}, line {number}: expected 'Indonesian term<TAB>English "
            f"rendering' with exactly one TAB (an empty rendering keeps the term as written; "
            f"words inside either are separated by spaces), found {tabs}: {shown!r}"
        )
    source, rendering = (part.strip() for part in line.split("\t"))
    if not source:
        raise ConfigError(f"translate.glossary: {file}, line {number}: the term is empty")
    return Term(source, rendering)
