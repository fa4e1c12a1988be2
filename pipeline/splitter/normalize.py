"""Character-level clean-up applied to an article before it is split.

The split stage stores the normalised text in the record, so sentence offsets index into
exactly that string. Line structure is kept: re-joining wrapped lines is the splitter's
job, because it needs to see where lines end to tell a wrap from a headline.
"""

from __future__ import annotations

import unicodedata

# Space-like characters that look like a space but are not " ".
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u202f\u205f\u3000"
# Invisible characters that carry nothing for translation (ZWJ/ZWNJ stay: emoji, scripts).
_INVISIBLE = "\u00ad\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067"
_INVISIBLE += "\u2068\u2069\ufeff"
# Line and page separators become newlines; a page or paragraph separator a blank line.
_BREAKS = {"\x0b": "\n", "\x85": "\n", "\u2028": "\n", "\x0c": "\n\n", "\u2029": "\n\n"}


def _table() -> dict[int, str | None]:
    # C0 and C1 control characters are dropped, except the ones mapped below.
    table: dict[int, str | None] = {c: None for c in (*range(0x20), *range(0x7F, 0xA0))}
    del table[ord("\n")]
    table.update({ord(c): " " for c in _SPACES})
    table.update({ord(c): None for c in _INVISIBLE})
    table.update({ord(c): s for c, s in _BREAKS.items()})
    return table


_TABLE = _table()


def normalize_text(raw: str) -> str:
    """NFC; CRLF/CR -> LF; tabs and odd spaces -> " "; control and invisible chars removed.

    Newlines and blank lines are kept (they separate paragraphs, headlines and list items).
    """
    text = unicodedata.normalize("NFC", raw)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TABLE)
