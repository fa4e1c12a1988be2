"""translate.marian: sentences pooled across a batch of articles, translated with generate()."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pipeline.config import PipelineConfig
from pipeline.guards import GuardFinding, check_translation
from pipeline.splitter import cut_at_clauses
from pipeline.stages.base import ModelStage
from pipeline.stages.checks import SAFER_DECODING, guard_settings, record_findings, retry_flagged
from pipeline.types import Article

logger = logging.getLogger(__name__)


@dataclass
class _Unit:
    """One sentence of one article, as the pieces that fit the model's window."""

    article: Article
    index: int
    pieces: list[str]


class TorchTranslateStage(ModelStage):
    name = "translate.marian"
    task = "translation"

    def __init__(self, config: PipelineConfig):
        super().__init__(config, config.translate)

    def __call__(self, articles: list[Article]) -> list[Article]:
        started = time.perf_counter()
        units = [
            _Unit(article, i, [])
            for article in articles
            if article.error is None
            for i, sentence in enumerate(article.sentences)
            if sentence.en is None
        ]
        if not units:
            return articles
        self._fit_to_window(units)
        texts = [piece for unit in units for piece in unit.pieces]
        translated = self.translate_texts(texts)
        self._assign(units, translated)
        if self.config.guards.enabled:
            self._guard(units)
        done = [a for a in articles if a.error is None]
        self.record(
            done, "translate", time.perf_counter() - started, [len(a.sentences) for a in done]
        )
        return articles

    def translate_texts(self, texts: list[str]) -> dict[str, Any]:
        """Translate each distinct text once; returns text -> Generated."""
        unique = list(dict.fromkeys(texts)) if self.settings.dedupe else texts
        generator = self.generator
        outputs = generator.generate(generator.token_ids(unique), self.generation_settings)
        return dict(zip(unique, outputs, strict=True))

    def _guard(self, units: list[_Unit]) -> None:
        settings = guard_settings(self.config)

        def check(source: str, output: str) -> list[GuardFinding]:
            return check_translation(source, output, settings)

        flagged: dict[str, list[GuardFinding]] = {}
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            findings = check(sentence.text, sentence.en or "")
            if findings:
                flagged[sentence.text] = findings
        fixed: dict[str, tuple[str, list[GuardFinding]]] = {}
        if self.config.guards.retry:
            fixed = retry_flagged(flagged, self._retry_safer, check)
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            findings = flagged.get(sentence.text)
            if not findings:
                continue
            where = f"sentence {unit.index}"
            if sentence.text in fixed:
                sentence.en, remaining = fixed[sentence.text]
                kinds = ", ".join(f.kind for f in findings)
                unit.article.warn(f"{where}: retried with safer decoding after: {kinds}")
                record_findings(unit.article, where, remaining)
            else:
                record_findings(unit.article, where, findings)

    def _retry_safer(self, sources: list[str]) -> dict[str, str]:
        """Whole sentences again, with loop-breaking decoding (pieces over the window skip)."""
        window = self.window
        ids = self.generator.token_ids(sources)
        fits = [(s, i) for s, i in zip(sources, ids, strict=True) if len(i) <= window]
        if not fits:
            return {}
        outputs = self.generator.generate(
            [i for _, i in fits], self.generation_settings | SAFER_DECODING
        )
        return {s: o.text for (s, _), o in zip(fits, outputs, strict=True)}

    def _fit_to_window(self, units: list[_Unit]) -> None:
        """Cut sentences over the model's window at clause boundaries, never silently."""
        window = self.window
        texts = [u.article.sentences[u.index].text for u in units]
        lengths = [len(ids) for ids in self.generator.token_ids(texts)]
        for unit, text, length in zip(units, texts, lengths, strict=True):
            if length <= window:
                unit.pieces = [text]
                continue
            unit.pieces = self._cut(text, length, window)
            sentence = unit.article.sentences[unit.index]
            note = (
                f"translated in {len(unit.pieces)} pieces cut at clause boundaries: "
                f"{length} tokens > {window}-token model window"
            )
            sentence.cut = f"{sentence.cut}; {note}" if sentence.cut else note
            unit.article.warn(f"sentence {unit.index}: {note}")

    def _cut(self, text: str, length: int, window: int) -> list[str]:
        chars_per_token = len(text) / max(1, length)
        for shrink in (0.9, 0.7, 0.5, 0.3, 0.15):
            max_chars = max(8, int(window * chars_per_token * shrink))
            pieces = [text[a:b].strip() for a, b in cut_at_clauses(text, max_chars)]
            pieces = [p for p in pieces if p]
            if all(len(ids) <= window for ids in self.generator.token_ids(pieces)):
                return pieces
        # Text with no spaces at all (a URL, a base64 blob): cut it by characters.
        step = max(1, int(window * chars_per_token * 0.15))
        return [text[i : i + step] for i in range(0, len(text), step)]

    def _assign(self, units: list[_Unit], translated: dict[str, Any]) -> None:
        for unit in units:
            outputs = [translated[p] for p in unit.pieces]
            sentence = unit.article.sentences[unit.index]
            sentence.en = " ".join(o.text for o in outputs if o.text)
            for output in outputs:
                if output.hit_length_limit:
                    unit.article.warn(
                        f"sentence {unit.index}: translation stopped at the maximum length "
                        f"({output.output_tokens} tokens) and may be cut short"
                    )
