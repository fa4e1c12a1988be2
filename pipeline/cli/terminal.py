"""Text for the terminal: ids and messages come from input files, and a control character
in them (an escape sequence in a .jsonl id) could retitle, recolour or clear the screen."""

from __future__ import annotations

import logging
import re

# C0 controls but tab and newline, DEL, C1 controls; and the bidi overrides that reorder
# what a line appears to say.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_NEWLINES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str, *, newlines: bool = True) -> str:
    """`text` with control characters shown as escapes (\\x1b); tabs kept, and newlines
    unless `newlines` is False (an id on one line must stay one line)."""
    pattern = _CONTROL if newlines else _CONTROL_AND_NEWLINES
    return pattern.sub(_escape, text)


class SafeFormatter(logging.Formatter):
    """A log formatter whose output cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record))
