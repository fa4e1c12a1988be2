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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import PipelineConfig, TranslateSettings
from pipeline.errors import Id2enError
from pipeline.generation.backend import Backend, Generated, RequiredTokens
from pipeline.generation.backends import BackendKind, open_forcing_backend
from pipeline.generation.model_stage import ModelStage
from pipeline.guards import (
    SAFER_DECODING,
    Guarded,
    GuardFinding,
    GuardSettings,
    check_translation,
    guard_outputs,
    guard_settings,
)
from pipeline.inputs.language import sentence_language
from pipeline.qa.check import QaSettings, mask_quotes
from pipeline.qa.spans import EN_QUOTE, NUMBER, sentence_spans
from pipeline.qa.spans import requirements as sentence_requirements
from pipeline.splitter import cut_at_clauses
from pipeline.translate.cache import TranslationCache, TranslationLike, namespace_key
from pipeline.translate.glossary import Glossary, Requirement
from pipeline.translate.shortlist import Shortlist
from pipeline.types import Article, Sentence

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
    # What the sentence holds: its pieces' translations, or the one retry that replaced them.
    held: list[TranslationLike] = field(default_factory=list)

    def hold(self, output: Generated) -> None:
        """Take a retry's output (whole sentence) in place of the translation."""
        sentence = self.article.sentences[self.index]
        sentence.en, sentence.score = output.text, output.score
        self.held = [output]


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
        # Required terms: the glossary file (read now, so a bad file fails before any
        # model loads) and the built-in protected spans; forced during decoding where the
        # backend can (its capabilities), else checked and retried on one that can.
        self.glossary = Glossary.load(self.settings.glossary)
        self._target_ids: dict[str, tuple[int, ...]] = {}
        self._forcing_backend: Backend | None = None

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
        settings = self.generation_settings
        if self.settings.glossary:  # the glossary decides outputs too
            settings = settings | {"glossary": self.glossary.digest}
        key, description = namespace_key(
            described["model"], described["revision"], self.backend.backend_id, settings
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
            if sentence.en is None and not self._copied(sentence)
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
        # Outputs are replaced first (required terms forced, then the guards' safer retry),
        # and warned about after, so that every warning describes the output kept.
        self._force_missing_terms(units)
        if self.config.guards.enabled:
            self._guard(units)
        self._warn_missing_terms(units)
        self._warn_length_limits(units)
        self._record_qa(units)
        if self.config.guards.enabled:
            self._warn_low_scores(units)
        done = [a for a in articles if a.error is None]
        self.record(done, time.perf_counter() - started, [len(a.sentences) for a in done])
        return articles

    def _copied(self, sentence: Sentence) -> bool:
        """Copy an English or word-less sentence unchanged (translate.sentence_language)."""
        if sentence.lang is None:
            sentence.lang = sentence_language(sentence.text)
        if not self.settings.sentence_language or sentence.lang == "id":
            return False
        sentence.en = sentence.text
        return True

    def _record_qa(self, units: list[_Unit]) -> None:
        """Each sentence's spans, and the QA flags on its final English: the same
        check_pair as `id2en check` (pipeline.qa), so both agree on the same pairs."""
        guards = guard_settings(self.config) if self.config.guards.enabled else None
        qa = QaSettings(self.glossary, guards)
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            sentence.spans = [s.to_dict() for s in sentence_spans(sentence.text, self.glossary)]
            flags = qa.flags(sentence.text, sentence.en or "", sentence.lang) or []
            sentence.flags = [f.to_dict() for f in flags]

    def _warn_low_scores(self, units: list[_Unit]) -> None:
        floor = self.config.guards.min_score
        if floor is None:
            return
        for unit in units:
            score = unit.article.sentences[unit.index].score
            if score is not None and score < floor:
                unit.article.warn(
                    f"sentence {unit.index}: low confidence: score {score:.3f} < "
                    f"guards.min_score {floor}"
                )

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
        required = self._forced_here(texts)
        return list(backend.generate(ids, self.generation_settings, required=required))

    # -- required terms -----------------------------------------------------------------

    def _forced_here(self, texts: list[str]) -> list[RequiredTokens] | None:
        """Each text's required tokens, when this stage's backend forces them during
        decoding; without that, outputs are checked afterwards (_require_terms)."""
        if not self.backend.capabilities.forces_required_tokens:
            return None
        return self._required_tokens(self.backend, texts)

    def _required_tokens(
        self, backend: Backend, texts: list[str], more: Mapping[str, list[Requirement]] = {}
    ) -> list[RequiredTokens] | None:
        """Each text's renderings forced up front (all but numbers), plus `more` of its
        own, as target token sequences (None if none has any)."""
        rows = []
        for text in texts:
            renderings = [r.rendering for r in [*self._upfront(text), *more.get(text, [])]]
            sequences = tuple(seq for r in renderings if (seq := self._target(backend, r)))
            rows.append(RequiredTokens(tuple(dict.fromkeys(sequences))))
        return rows if any(row.sequences for row in rows) else None

    def _requirements(self, text: str) -> list[Requirement]:
        """What a sentence's English must hold: protected spans, English quotes, glossary
        terms, numbers (pipeline.qa.spans)."""
        return sentence_requirements(text, self.glossary)

    def _upfront(self, text: str) -> list[Requirement]:
        """The requirements forced in every decoding; a number only in a retry that
        found it missing (its English form is one of several right ones)."""
        return [r for r in self._requirements(text) if r.kind != NUMBER]

    def _target(self, backend: Backend, rendering: str) -> tuple[int, ...]:
        """A rendering as target-side token ids, as it reads inside a sentence."""
        if rendering not in self._target_ids:
            self._target_ids[rendering] = backend.target_token_ids(rendering)
        return self._target_ids[rendering]

    def _missing_terms(self, units: list[_Unit]) -> dict[str, list[Requirement]]:
        """Sentence text -> the required renderings its translation lacks (if any)."""
        missing: dict[str, list[Requirement]] = {}
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            needed = self._requirements(sentence.text)
            lacking = [r for r in needed if not r.met_by(sentence.en or "")]
            if lacking:
                missing[sentence.text] = lacking
        return missing

    def _force_missing_terms(self, units: list[_Unit]) -> None:
        """Retranslate the sentences that miss a required rendering with the renderings
        forced; a retry that has more of them replaces the translation."""
        missing = self._missing_terms(units)
        if not missing:
            return
        retried = self._force_required(missing)
        for unit, sentence, lacking in _flagged(units, missing):
            output = retried.get(sentence.text)
            # Every requirement counts: forcing one number must not lose another.
            needed = self._requirements(sentence.text)
            if output is not None and sum(not r.met_by(output.text) for r in needed) < len(lacking):
                unit.hold(output)
                unit.article.warn(f"sentence {unit.index}: retranslated with required terms forced")

    def _warn_missing_terms(self, units: list[_Unit]) -> None:
        """Warn by name about the required renderings the kept translation lacks."""
        missing = self._missing_terms(units)
        for unit, sentence, lacking in _flagged(units, missing):
            _warn_missing(unit.article, f"sentence {unit.index}", lacking, sentence.en or "")

    def _force_required(self, missing: Mapping[str, list[Requirement]]) -> dict[str, Generated]:
        """Whole sentences again on a backend that forces their renderings and their
        missing numbers' English forms, with room for them (pieces over the window are
        skipped)."""
        backend = self._forcing()
        if backend is None:
            return {}
        numbers = {s: [r for r in lacking if r.kind == NUMBER] for s, lacking in missing.items()}
        settings = self.generation_settings
        return self._generate_whole(
            backend, list(missing), settings, forced_only=True, more=numbers
        )

    def _generate_whole(
        self,
        backend: Backend,
        sources: list[str],
        settings: dict[str, Any],
        *,
        forced_only: bool = False,
        more: Mapping[str, list[Requirement]] = {},
    ) -> dict[str, Generated]:
        """The sources that fit the window whole, generated on `backend` with their required
        renderings forced where it can, and room for them (forced_only: nothing unless some
        are forced)."""
        fits = self._whole_sentences(backend, sources) if sources else []
        required = None
        if fits and backend.capabilities.forces_required_tokens:
            required = self._required_tokens(backend, [s for s, _ in fits], more)
        if required is not None:
            extra = max(len(seq) for row in required for seq in row.sequences)
            settings = _with_room(settings, extra=extra * 2)
        elif forced_only or not fits:
            return {}
        outputs = backend.generate([i for _, i in fits], settings, required=required)
        return {s: o for (s, _), o in zip(fits, outputs, strict=True)}

    def _forcing(self) -> Backend | None:
        """A backend that can force tokens: this stage's, or one opened for it."""
        if self.backend.capabilities.forces_required_tokens:
            return self.backend
        if self._forcing_backend is None:
            logger.info("translate: opening a backend that can force required terms")
            try:
                self._forcing_backend = open_forcing_backend(
                    self.settings, self.config.run, task=self.task
                )
            except Id2enError as exc:
                logger.warning("translate: cannot force required terms: %s", exc)
                return None
        return self._forcing_backend

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

    def _remember(self, namespace: str, outputs: Mapping[str, TranslationLike]) -> None:
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
        items = []
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            where = f"sentence {unit.index}"
            text, output = sentence.text, sentence.en or ""
            items.append(Guarded(text, text, output, unit.article, where, unit.hold))
        guard_outputs(items, _guard_check, self._retry_safer, self.config)

    def _whole_sentences(self, backend: Backend, sources: list[str]) -> list[tuple[str, list[int]]]:
        """(sentence, token ids) of the sources that fit the window whole: a retry
        translates whole sentences, so those cut into pieces are skipped."""
        ids = backend.token_ids(sources)
        return [(s, i) for s, i in zip(sources, ids, strict=True) if len(i) <= self.window]

    def _retry_safer(self, sources: list[str]) -> Mapping[str, Generated]:
        """Whole sentences again, with loop-breaking decoding (pieces over the window skip).
        Sentences with required terms go to a backend that forces them, so that a retry
        never loses a term the forced retranslation put in."""
        with_terms = {s for s in sources if self._upfront(s)}
        forcing = None
        if with_terms and not self.backend.capabilities.forces_required_tokens:
            forcing = self._forcing()
        settings = self.generation_settings | SAFER_DECODING
        if forcing is None:
            return self._generate_whole(self.backend, sources, settings)
        rest = [s for s in sources if s not in with_terms]
        terms = [s for s in sources if s in with_terms]
        return self._generate_whole(self.backend, rest, settings) | self._generate_whole(
            forcing, terms, settings
        )

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

    def _assign(self, units: list[_Unit], translated: Mapping[str, TranslationLike]) -> None:
        for unit in units:
            unit.held = [translated[p] for p in unit.pieces]
            sentence = unit.article.sentences[unit.index]
            sentence.en = " ".join(o.text for o in unit.held if o.text)
            sentence.score = _combined_score(unit.held)

    def _warn_length_limits(self, units: list[_Unit]) -> None:
        for unit in units:
            for output in unit.held:
                if output.hit_length_limit:
                    unit.article.warn(
                        f"sentence {unit.index}: translation stopped at the maximum length "
                        f"({output.output_tokens} tokens) and may be cut short"
                    )


def _combined_score(outputs: list[TranslationLike]) -> float | None:
    """One sentence's score from its pieces: the mean log-probability over all their tokens."""
    scores = [o.score for o in outputs]
    if not outputs or any(s is None for s in scores):
        return None
    tokens = [max(1, o.output_tokens) for o in outputs]
    total = sum(s * n for s, n in zip(scores, tokens, strict=True) if s is not None)
    return total / sum(tokens)


def _guard_check(source: str, output: str, settings: GuardSettings) -> list[GuardFinding]:
    """The output guards, looking past English quotes kept byte for byte (pipeline.qa)."""
    return check_translation(*mask_quotes(source, output), settings)


def _with_room(settings: dict[str, Any], extra: int) -> dict[str, Any]:
    """Settings whose length limit has `extra` more tokens, for forced renderings."""
    if settings.get("max_new_tokens") is not None:
        return settings | {"max_new_tokens": int(settings["max_new_tokens"]) + extra}
    if settings.get("max_length") is not None:
        return settings | {"max_length": int(settings["max_length"]) + extra}
    return settings


# What a requirement still missing after the retry is warned as, and counted under.
_MISSING = {
    NUMBER: ("number missing or changed in the translation", "number_mismatch"),
    EN_QUOTE: ("English quote not kept byte for byte", "quote_changed"),
}
_MISSING_TERM = ("required term missing from the translation", "missing_term")


def _warn_missing(article: Article, where: str, lacking: list[Requirement], english: str) -> None:
    """One warning per kind of requirement still missing, naming each (a number with what
    the English has instead), and a count per kind the run report adds up."""
    counts = article.meta.setdefault("guards", {}) if lacking else {}
    for message, key in dict.fromkeys([*_MISSING.values(), _MISSING_TERM]):
        group = [r for r in lacking if _MISSING.get(r.kind, _MISSING_TERM) == (message, key)]
        if group:
            names = ", ".join(r.explain(english) for r in group)
            article.warn(f"{where}: {message}: {names}")
            counts[key] = counts.get(key, 0) + len(group)


def _flagged(
    units: list[_Unit], by_text: Mapping[str, list[Requirement]]
) -> Iterator[tuple[_Unit, Sentence, list[Requirement]]]:
    """(unit, its sentence, what was found) for each unit whose sentence text was flagged."""
    for unit in units:
        sentence = unit.article.sentences[unit.index]
        found = by_text.get(sentence.text)
        if found:
            yield unit, sentence, found
