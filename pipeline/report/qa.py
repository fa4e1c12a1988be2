"""The report's QA section: each article's QA flags (pipeline.qa: numbers, quotes,
protected spans, glossary, guards), shown beside its least confident sentences."""

from __future__ import annotations

import html
from typing import Any


def qa_flags(sentences: list[dict[str, Any]]) -> str:
    """A table of every flag on the article's sentences, in sentence order ("" if none)."""
    rows = "".join(
        f"<tr><td class='num'>{n}</td><td>{_esc(flag.get('check'))}</td>"
        f"<td>{_esc(flag.get('message'))}</td><td lang='id'>{_esc(sentence.get('text'))}</td>"
        f"<td lang='en'>{_esc(sentence.get('en'))}</td></tr>"
        for n, sentence in enumerate(sentences)
        for flag in sentence.get("flags") or []
        if isinstance(flag, dict)
    )
    if not rows:
        return ""
    return (
        "<section class='least qa'><h3>QA flags</h3><table class='least'>"
        "<thead><tr><th class='num'>#</th><th>check</th><th>what</th><th>Indonesian</th>"
        f"<th>English</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p class='note'>the same checks as <code>id2en check</code>, on the final English"
        "</p></section>"
    )


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))
