"""Indonesian sentence splitter (first, naive version; rules follow)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipeline.types import Sentence

__all__ = ["cut_at_clauses", "normalize_text", "split_sentences"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BOUNDARY = re.compile(r"[.!?…]+[\"”’')]*(?=\s+)")
_PARA = re.compile(r"\n[ \t]*\n")


def normalize_text(raw: str) -> str:
    """NFC, CRLF -> LF, control characters removed."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def split_sentences(
    text: str, *, max_chars: int | None = None, extra_abbreviations: Iterable[str] = ()
) -> list[Sentence]:
    """Split `text` into sentences with offsets into `text`."""
    out: list[Sentence] = []
    pos = 0
    for para_no, block in enumerate(_PARA.split(text)):
        block_start = text.index(block, pos) if block else pos
        pos = block_start + len(block)
        start = 0
        for m in _BOUNDARY.finditer(block):
            _emit(out, text, block_start + start, block_start + m.end(), para_no)
            start = m.end()
        _emit(out, text, block_start + start, block_start + len(block), para_no)
    return out


def _emit(out: list[Sentence], text: str, start: int, end: int, para: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append(Sentence(" ".join(text[start:end].split()), para, start, end))


def cut_at_clauses(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans of `text` no longer than max_chars where possible, cut between words."""
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        if cut <= start:
            break
        spans.append((start, cut))
        start = cut + 1
    spans.append((start, len(text)))
    return spans
