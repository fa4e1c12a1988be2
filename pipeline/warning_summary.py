"""Repeated warnings, summarised: one long unpunctuated line can cut into thousands of
pieces, and thousands of identical warnings bury the one that matters."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+")
KEEP = 3  # warnings of one kind kept word for word


def summarize_repeats(warnings: list[str], keep: int = KEEP) -> list[str]:
    """Warnings that differ only in their numbers: the first `keep` kept, the rest counted
    in one line. Order and every distinct warning are kept."""
    kinds: dict[str, int] = {}
    for warning in warnings:
        key = _NUMBER.sub("N", warning)
        kinds[key] = kinds.get(key, 0) + 1
    out: list[str] = []
    seen: dict[str, int] = {}
    for warning in warnings:
        key = _NUMBER.sub("N", warning)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= keep:
            out.append(warning)
        elif seen[key] == keep + 1:
            out.append(f"... and {kinds[key] - keep} more warnings like: {key}")
    return out
