"""The translate stage: sentences pooled across a batch of articles, fitted to the model's
window, translated once each (this run's memory, then the persistent cache, then the
backend), checked by the guards, and put back in order.

Registered as translate.seq2seq (torch backend; the old name translate.marian is an alias)
and translate.ctranslate2 (CTranslate2 backend): one stage, two backends.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pipeline.config import PipelineConfig, TranslateSettings
from pipeline.generation.backends import BackendKind
from pipeline.guards import (
    SAFER_DECODING,
    GuardFinding,
    check_translation,
    guard_settings,
    record_findings,
    retry_flagged,
)
from pipeline.model_stage import ModelStage
from pipeline.splitter import cut_at_clauses
from pipeline.translate.cache import TranslationCache, TranslationLike, namespace_key
from pipeline.translate.shortlist import Shortlist
from pipeline.types import Article

logger = logging.getLogger(__name__)


@dataclass
class TranslateStats:
    """Where this stage's translations came from, over its lifetime (a run)."""

    requested: int = 0  # texts asked for, repeats included
    unique: int = 0  # distinct texts among them
    memo_hits: int = 0  # already translated earlier in this run
    cache_hits: int = 0  # found in the persistent cache
    generated: int = 0  # sent to the model


@dataclass
class _Unit:
    """One sentence of one article, as the pieces that fit the model's window."""

    article: Article
    index: int
    pieces: list[str]


class TranslateStage(ModelStage):
    family = "translate"
    task = "translation"
    settings: TranslateSettings

    def __init__(
        self, config: PipelineConfig, *, name: str | None = None, backend: BackendKind = "torch"
    ):
        super().__init__(config, name=name, backend=backend)
        self.stats = TranslateStats()
        # Recent translations (namespace, text) -> output: repeats across the batches of
        # one run (datelines, boilerplate) are translated once. Bounded, so memory is too.
        self._memo: OrderedDict[tuple[str, str], TranslationLike] = OrderedDict()
        self._ids: dict[str, list[int]] = {}  # token ids computed while fitting the window
        path = self.settings.cache_path
        self.cache = TranslationCache(path) if path else None
        self._shortlist: Shortlist | None = None

    def vocabulary_shortlist(self) -> Shortlist | None:
        if self._shortlist is None and self.settings.shortlist:
            self._shortlist = Shortlist.load(self.settings.shortlist)
        return self._shortlist

    @property
    def generation_settings(self) -> dict[str, Any]:
        settings = super().generation_settings
        settings.setdefault("use_cache", True)  # the KV cache: never recompute past steps
        return settings

    def _namespace(self) -> str:
        """The cache key part besides the sentence; settings are read afresh each call."""
        described = self.backend.describe()
        key, description = namespace_key(
            described["model"],
            described["revision"],
            self.backend.backend_id,
            self.generation_settings,
        )
        if self.cache is not None:
            self.cache.register(key, description)
        return key

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
        try:
            self._fit_to_window(units)
            texts = [piece for unit in units for piece in unit.pieces]
            translated = self.translate_texts(texts)
        finally:
            self._ids.clear()
        self._assign(units, translated)
        if self.config.guards.enabled:
            self._guard(units)
        done = [a for a in articles if a.error is None]
        self.record(done, time.perf_counter() - started, [len(a.sentences) for a in done])
        return articles

    def translate_texts(self, texts: list[str]) -> dict[str, TranslationLike]:
        """Translate each distinct text once: from this run's memory, then the persistent
        cache, then the model. Returns text -> translation (a Generated or cached entry)."""
        unique = list(dict.fromkeys(texts))
        self.stats.requested += len(texts)
        self.stats.unique += len(unique)
        space = self._namespace()
        dedupe = self.settings.dedupe
        found = self._recall(space, unique) if dedupe else self._from_cache(space, unique)
        todo = [t for t in (unique if dedupe else texts) if t not in found]
        fresh: dict[str, TranslationLike] = {}
        if todo:
            fresh = dict(zip(todo, self._generate(todo), strict=True))
            self.stats.generated += len(todo)
            if self.cache is not None:
                self.cache.put_many(space, fresh)
        self._remember(space, fresh)
        logger.debug(
            "translate: %d texts, %d distinct, %d recalled, %d generated",
            len(texts),
            len(unique),
            len(found),
            len(todo),
        )
        return found | fresh

    def recall(self, text: str) -> TranslationLike | None:
        """This run's translation of `text`, if it is still in memory."""
        return self._memo.get((self._namespace(), text))

    def _generate(self, texts: list[str]) -> list[TranslationLike]:
        backend = self.backend
        known = self._ids
        missing = [t for t in texts if t not in known]
        fresh_ids = backend.token_ids(missing) if missing else []
        ids_by_text = dict(zip(missing, fresh_ids, strict=True)) | known
        ids = [ids_by_text[t] for t in texts]
        return list(backend.generate(ids, self.generation_settings))

    def _recall(self, namespace: str, texts: list[str]) -> dict[str, TranslationLike]:
        memo = self._memo
        found: dict[str, TranslationLike] = {}
        for text in texts:
            hit = memo.get((namespace, text))
            if hit is not None:
                memo.move_to_end((namespace, text))
                found[text] = hit
        self.stats.memo_hits += len(found)
        rest = [t for t in texts if t not in found]
        return found | self._from_cache(namespace, rest)

    def _from_cache(self, namespace: str, texts: list[str]) -> dict[str, TranslationLike]:
        if self.cache is None or not texts:
            return {}
        hits = self.cache.get_many(namespace, texts)
        self.stats.cache_hits += len(hits)
        self._remember(namespace, hits)
        return dict(hits)

    def _remember(self, namespace: str, outputs: dict[str, TranslationLike]) -> None:
        limit = self.settings.dedupe_memory if self.settings.dedupe else 0
        if limit <= 0:
            return
        memo = self._memo
        for text, output in outputs.items():
            memo[(namespace, text)] = output
            memo.move_to_end((namespace, text))
        while len(memo) > limit:
            memo.popitem(last=False)

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
        ids = self.backend.token_ids(sources)
        fits = [(s, i) for s, i in zip(sources, ids, strict=True) if len(i) <= window]
        if not fits:
            return {}
        outputs = self.backend.generate(
            [i for _, i in fits], self.generation_settings | SAFER_DECODING
        )
        return {s: o.text for (s, _), o in zip(fits, outputs, strict=True)}

    def _fit_to_window(self, units: list[_Unit]) -> None:
        """Cut sentences over the model's window at clause boundaries, never silently."""
        window = self.window
        texts = [u.article.sentences[u.index].text for u in units]
        all_ids = self.backend.token_ids(texts)
        self._ids.update(zip(texts, all_ids, strict=True))  # reused when translating
        lengths = [len(ids) for ids in all_ids]
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
            if all(len(ids) <= window for ids in self.backend.token_ids(pieces)):
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
