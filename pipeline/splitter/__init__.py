"""id2en's Indonesian sentence splitter.

    >>> from pipeline.splitter import split_sentences
    >>> [s.text for s in split_sentences("Menurut dr. Siti, harga naik. Ia kaget.")]
    ['Menurut dr. Siti, harga naik.', 'Ia kaget.']

`normalize_text` cleans characters (the split stage applies it to the article first);
`split_sentences` finds the sentences of a string, with offsets into that string;
`cut_at_clauses` cuts an over-long sentence at clause boundaries. Rules: see rules.py;
abbreviations: pipeline/data/abbreviations_id.txt.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.splitter.abbreviations import abbreviations
from pipeline.splitter.clauses import CLAUSE_TIERS, cut_at_clauses, cut_spans
from pipeline.splitter.normalize import normalize_text
from pipeline.splitter.rules import boundaries, units
from pipeline.types import Sentence

__all__ = ["cut_at_clauses", "normalize_text", "split_sentences"]

_WS = " \n\t\r"


def split_sentences(
    text: str, *, max_chars: int | None = None, extra_abbreviations: Iterable[str] = ()
) -> list[Sentence]:
    """The sentences of `text`, in order, with `start`/`end` offsets into `text`.

    Every non-whitespace character belongs to exactly one sentence. `paragraph` counts
    blank-line blocks and, inside them, lines broken on purpose (headline, caption, list
    item). A sentence longer than `max_chars` is cut at clause boundaries into several
    Sentences whose `cut` says so. `extra_abbreviations` extends the packaged list
    ("Kol.", or "final:Bhd." for one that may end a sentence).
    """
    lexicon = abbreviations(tuple(extra_abbreviations))
    sentences: list[Sentence] = []
    for paragraph, (unit_start, unit_end) in enumerate(units(text, lexicon)):
        start = unit_start
        for stop in [*boundaries(text, unit_start, unit_end, lexicon), unit_end]:
            _add(sentences, text, start, stop, paragraph, max_chars)
            start = stop
    return sentences


def _add(
    out: list[Sentence], text: str, start: int, end: int, paragraph: int, max_chars: int | None
) -> None:
    while start < end and text[start] in _WS:
        start += 1
    while end > start and text[end - 1] in _WS:
        end -= 1
    if start == end:
        return
    if max_chars is None or end - start <= max_chars:
        out.append(Sentence(" ".join(text[start:end].split()), paragraph, start, end))
        return
    pieces = cut_spans(text[start:end], max_chars)
    how = "clause" if all(tier in CLAUSE_TIERS for _, _, tier in pieces[:-1]) else "word"
    # The message goes on every piece, so each translated unit says it was cut.
    cut = f"cut at {how} boundary: {end - start} chars > {max_chars}"
    if len(pieces) == 1:
        cut = f"not cut, no space to cut at: {end - start} chars > {max_chars}"
    for piece_start, piece_end, _ in pieces:
        a, b = start + piece_start, start + piece_end
        out.append(Sentence(" ".join(text[a:b].split()), paragraph, a, b, cut=cut))
