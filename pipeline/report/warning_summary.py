"""Repeated warnings, summarised: one long unpunctuated line can cut into thousands of
pieces, and thousands of identical warnings bury the one that matters.

The summary is structured data: `summarize` gives the lines a record keeps, each with the
kind of warning it is and how many warnings it stands for; a record's warnings are their
text (`summarize_repeats`). `read_lines` turns a record's warnings back into the same
structure, and `warning_kinds` adds them up by kind, so the report counts warnings from
here, never by parsing the text itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"\d+")
KEEP = 3  # warnings of one kind kept word for word
_COUNT_LINE = "... and {count} more warnings like: {pattern}"
_COUNT_LINE_READ = re.compile(r"^\.\.\. and (\d+) more warnings like: (.*)$", re.S)


def pattern_of(warning: str) -> str:
    """A warning's kind here: its text with every number written N."""
    return _NUMBER.sub("N", warning)


@dataclass(frozen=True)
class WarningLine:
    """One line of a record's warnings: a warning kept word for word (`text`), or one that
    counts the `count` further warnings of its kind."""

    pattern: str  # the kind (pattern_of)
    count: int = 1  # warnings the line stands for
    text: str | None = None  # None on a line that counts repeats

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        return _COUNT_LINE.format(count=self.count, pattern=self.pattern)


@dataclass
class WarningKind:
    """The warnings of one kind: how many, and those kept word for word."""

    pattern: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


def summarize(warnings: list[str], keep: int = KEEP) -> list[WarningLine]:
    """Warnings that differ only in their numbers: the first `keep` kept, the rest counted
    in one line where the next would be. Order and every distinct warning are kept."""
    totals = Counter(map(pattern_of, warnings))
    seen: Counter[str] = Counter()
    lines: list[WarningLine] = []
    for warning in warnings:
        kind = pattern_of(warning)
        seen[kind] += 1
        if seen[kind] <= keep:
            lines.append(WarningLine(kind, 1, warning))
        elif seen[kind] == keep + 1:
            lines.append(WarningLine(kind, totals[kind] - keep))
    return lines


def summarize_repeats(warnings: list[str], keep: int = KEEP) -> list[str]:
    """The warnings a record keeps, as text (see `summarize`)."""
    return [str(line) for line in summarize(warnings, keep)]


def read_lines(warnings: Iterable[Any]) -> list[WarningLine]:
    """A record's warnings, as `summarize_repeats` wrote them, back as WarningLines."""
    lines = []
    for warning in map(str, warnings):
        counted = _COUNT_LINE_READ.match(warning)
        if counted:
            lines.append(WarningLine(counted.group(2), int(counted.group(1))))
        else:
            lines.append(WarningLine(pattern_of(warning), 1, warning))
    return lines


def warning_kinds(lines: Iterable[WarningLine]) -> list[WarningKind]:
    """Lines added up by kind, in the order each kind first appears."""
    kinds: dict[str, WarningKind] = {}
    for line in lines:
        kind = kinds.setdefault(line.pattern, WarningKind(line.pattern))
        kind.count += line.count
        if line.text is not None:
            kind.examples.append(line.text)
    return list(kinds.values())


def warning_count(lines: Iterable[WarningLine]) -> int:
    """How many warnings the lines stand for."""
    return sum(line.count for line in lines)
