"""The records that travel through every stage: one Article holding its Sentences."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pipeline.inputs.language import SKIPPED

Status = Literal["ok", "failed", "skipped"]


def status_of(error: str | None, meta: Mapping[str, Any]) -> Status:
    """failed when there is an error; skipped when not processed (not Indonesian, with
    run.non_indonesian: skip); else ok. Articles and records alike say it this way."""
    if error:
        return "failed"
    return "skipped" if SKIPPED in meta else "ok"


@dataclass
class Sentence:
    """One Indonesian sentence of an article and, once translated, its English."""

    text: str  # Indonesian, whitespace-normalised (wrapped lines re-joined by one space)
    paragraph: int  # paragraph index within the article, so English paragraphs can be rebuilt
    start: int  # character offsets into the string that was split (Article.text)
    end: int
    en: str | None = None  # filled by the translate stage
    # Set when this unit is a piece of a longer sentence cut at a clause boundary,
    # e.g. "cut at clause boundary: 612 chars > 400". No cut is ever silent.
    cut: str | None = None
    # "id", "en" (an English quote or title inside the article) or "zxx" (no words:
    # numbers, URLs, emoji). "en" and "zxx" sentences are copied to `en` unchanged.
    lang: str | None = None
    # The model's confidence: the chosen hypothesis' mean log-probability per output
    # token (<= 0; closer to 0 is surer). None when no model produced `en`.
    score: float | None = None
    # What the English must keep, with offsets into `text`: [{"start", "end", "kind"}],
    # kind "url" | "email" | "handle" | "hashtag" | "term" | "en-quote" | "number".
    spans: list[dict[str, Any]] = field(default_factory=list)
    # The QA checks' findings on the final English: [{"check", "message"}] (pipeline.qa).
    flags: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sentence:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Article:
    """An article on its way through the pipeline, and the record written for it."""

    id: str  # stable: path relative to the input root without suffix (or given by the caller)
    text: str
    source: str | None = None  # where it was read from, if anywhere
    sentences: list[Sentence] = field(default_factory=list)
    summary: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set when the article failed; the run goes on
    meta: dict[str, Any] = field(default_factory=dict)  # models, timings, partial summaries

    @property
    def english(self) -> str | None:
        """The English text rebuilt paragraph by paragraph, or None before translation."""
        if not self.sentences or any(s.en is None for s in self.sentences):
            return None
        paragraphs: dict[int, list[str]] = {}
        for s in self.sentences:
            paragraphs.setdefault(s.paragraph, []).append(s.en or "")
        return "\n\n".join(
            " ".join(part for part in parts if part) for _, parts in sorted(paragraphs.items())
        )

    @property
    def status(self) -> Status:
        """ok | failed | skipped, as the article's record says (`status_of`)."""
        return status_of(self.error, self.meta)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "text": self.text,
            "sentences": [s.to_dict() for s in self.sentences],
            "english": self.english,
            "summary": self.summary,
            "warnings": list(self.warnings),
            "error": self.error,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(
            id=data["id"],
            text=data.get("text", ""),
            source=data.get("source"),
            sentences=[Sentence.from_dict(s) for s in data.get("sentences") or []],
            summary=data.get("summary"),
            warnings=list(data.get("warnings") or []),
            error=data.get("error"),
            meta=dict(data.get("meta") or {}),
        )

    def _repr_html_(self) -> str:
        """Side-by-side Indonesian | English table for notebooks."""
        esc = html.escape
        rows = "".join(
            f"<tr><td>{i}</td><td>{s.paragraph}</td><td>{esc(s.text)}</td>"
            f"<td>{esc(s.en) if s.en is not None else '<i>not translated</i>'}</td>"
            f"<td>{esc(s.lang or '')}</td>"
            f"<td>{'' if s.score is None else f'{s.score:.3f}'}</td>"
            f"<td title='{esc(' | '.join(str(f.get('message')) for f in s.flags))}'>"
            f"{esc(', '.join(str(f.get('check')) for f in s.flags))}</td></tr>"
            for i, s in enumerate(self.sentences)
        )
        parts = [f"<div><b>{esc(self.id)}</b>"]
        if self.error:
            parts.append(f"<p style='color:#b00'>error: {esc(self.error)}</p>")
        parts.append(
            "<table><thead><tr><th>#</th><th>¶</th><th>Indonesian</th><th>English</th>"
            "<th>lang</th><th title='mean log-probability per output token'>score</th>"
            "<th title='QA checks that flag the English (id2en check)'>QA</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        if self.summary is not None:
            parts.append(f"<p><b>Summary:</b> {esc(self.summary)}</p>")
        if self.warnings:
            items = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
            parts.append(f"<p style='color:#a60'><b>Warnings</b></p><ul>{items}</ul>")
        parts.append("</div>")
        return "".join(parts)
