"""Cutting an over-long sentence at clause boundaries, never inside a word."""

from __future__ import annotations

import re
from itertools import pairwise

# Words that open a clause; cutting before them keeps each piece translatable on its own.
_CONJUNCTION_WORDS = """
dan atau tetapi tapi namun sedangkan melainkan padahal serta yang karena sebab sehingga
sementara meskipun walaupun biarpun ketika saat agar supaya bahwa jika apabila bila
kalau kemudian lalu hingga sampai setelah sebelum sesudah maka seperti
"""
CONJUNCTIONS = frozenset(_CONJUNCTION_WORDS.split())

# Preference order of a cut, best first: after ";", after ":" or a dash, after "," before a
# conjunction, before a conjunction, before a relative "yang" (it binds to the noun before
# it, so it is the weakest clause cut), after ",", and last at any space between words.
SEMICOLON, COLON, COMMA_CONJ, CONJ, RELATIVE, COMMA, WORD = range(7)
CLAUSE_TIERS = frozenset({SEMICOLON, COLON, COMMA_CONJ, CONJ, RELATIVE, COMMA})

_WORD = re.compile(r"\S+")
_DASHES = frozenset({"-", "--", "–", "—"})
_STRIP = "\"'“”‘’()[]{}«»"
# A piece shorter than this share of the limit is only made when nothing better is in reach.
_MIN_SHARE = 0.3


def _gaps(text: str) -> list[tuple[int, int, int]]:
    """(end of a word, start of the next word, tier of a cut between them)."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    gaps: list[tuple[int, int, int]] = []
    for (begin, end), (nxt, nxt_end) in pairwise(words):
        last = text[end - 1]
        next_word = text[nxt:nxt_end].strip(_STRIP).lower()
        if last == ";":
            tier = SEMICOLON
        elif last == ":" or text[begin:end] in _DASHES:
            tier = COLON
        elif next_word in CONJUNCTIONS:
            tier = COMMA_CONJ if last == "," else RELATIVE if next_word == "yang" else CONJ
        elif last == ",":
            tier = COMMA
        else:
            tier = WORD
        gaps.append((end, nxt, tier))
    return gaps


def cut_spans(text: str, max_chars: int) -> list[tuple[int, int, int]]:
    """Like cut_at_clauses, with the tier of the cut that ends each piece (-1 for the last)."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    first = len(text) - len(text.lstrip())
    last = len(text.rstrip())
    if last - first <= max_chars:
        return [(first, last, -1)] if last > first else []
    gaps = _gaps(text)
    pieces: list[tuple[int, int, int]] = []
    start, index = first, 0
    while last - start > max_chars:
        while index < len(gaps) and gaps[index][1] <= start:
            index += 1
        # Every gap from here whose piece fits the limit; the best tier wins, then the
        # latest position, so that pieces stay as long (and as few) as allowed.
        # Index, not a slice of the rest: slicing copied the tail for every piece and made
        # a 5 MB text without punctuation quadratic.
        stop = index
        while stop < len(gaps) and gaps[stop][0] - start <= max_chars:
            stop += 1
        reach = gaps[index:stop]
        if not reach:
            if index >= len(gaps):
                break  # one word longer than the limit: left whole rather than cut inside
            reach = [gaps[index]]
        long_enough = [g for g in reach if g[0] - start >= max_chars * _MIN_SHARE] or reach
        end, nxt, tier = min(long_enough, key=lambda g: (g[2], -g[0]))
        pieces.append((start, end, tier))
        start = nxt
    pieces.append((start, last, -1))
    return pieces


def cut_at_clauses(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans (start, end) into `text`, each at most `max_chars` long where possible.

    Cuts go at clause boundaries (after ";" or ":", before conjunctions such as "dan",
    "tetapi", "sedangkan", "yang", after ","), failing those at a space; never inside a word,
    so a single word longer than the limit stays whole. Spans exclude surrounding whitespace
    and together cover every non-whitespace character of `text`.
    """
    return [(start, end) for start, end, _ in cut_spans(text, max_chars)]
