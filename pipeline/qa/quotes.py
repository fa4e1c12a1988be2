"""English quoted inside an Indonesian sentence: `"We will always defend our interests,"
kata juru bicara itu.` The quote is a protected span, copied byte for byte into the
English, so the Indonesian->English model never rewrites a speaker's own words.

A quote is `"…"`, `“…”`, `‘…’` or ``` ``…'' ```; it is English when the sentence-level
language detector (pipeline.inputs.language.sentence_language) calls its content English.
The span is the content without the quote marks and without a trailing `,` `;` `:` (which
English punctuation may move outside the quote). An Indonesian quote inside an English
sentence needs nothing: English sentences are copied whole.

    >>> english_quotes('"We will always defend our interests," kata juru bicara itu.')
    [(1, 36)]
"""

from __future__ import annotations

import re

from pipeline.inputs.language import sentence_language

_QUOTE = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|‘([^’\n]+)’|``([^`\n]+?)\'\'')
_TRAILING = ",;: \t"


def english_quotes(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each English quote's content in `sentence`."""
    spans = []
    for match in _QUOTE.finditer(sentence):
        group = next(g for g in range(1, 5) if match.group(g) is not None)
        start, end = match.span(group)
        content = match.group(group)
        stripped = content.rstrip(_TRAILING)
        lead = len(content) - len(content.lstrip())
        end -= len(content) - len(stripped)
        start += lead
        if end > start and sentence_language(sentence[start:end]) == "en":
            spans.append((start, end))
    return spans
