"""The summarize stages: summarize.seq2seq (abstractive, on a backend; text over the model's
window is map-reduced, narrowed to its most central sentences, truncated or refused, as
summarize.long_input says) and summarize.extractive (no model)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import PipelineConfig, SummarizeSettings
from pipeline.guards import (
    SAFER_DECODING,
    GuardFinding,
    check_summary,
    guard_settings,
    record_findings,
    retry_flagged,
)
from pipeline.model_stage import ModelStage
from pipeline.splitter import cut_at_clauses
from pipeline.summarize.extractive import select_within_budget
from pipeline.types import Article

logger = logging.getLogger(__name__)

MAX_REDUCE_LEVELS = 6


def english_sentences(article: Article) -> list[str]:
    return [s.en for s in article.sentences if s.en]


@dataclass
class _Job:
    """One article's way through map-reduce: the current level's chunks."""

    article: Article
    source_text: str
    chunks: list[str]
    input_tokens: int
    levels: list[list[str]] = field(default_factory=list)
    final_input: str = ""
    strategy: str = "single"  # or the long_input strategy that fitted it to the window
    selected: list[int] = field(default_factory=list)  # select: article.sentences indices


@dataclass(frozen=True)
class _Piece:
    """A sentence, or a clause of one over the window, and its tokens inside a chunk."""

    text: str
    tokens: int  # after another piece (a space before it)
    first_tokens: int  # opening a chunk (no space before it: byte-level BPE counts differ)
    sentence: int  # index into the sentences it was cut from


class SummarizeStage(ModelStage):
    family = "summarize"
    task = "summarization"
    settings: SummarizeSettings

    def __call__(self, articles: list[Article]) -> list[Article]:
        started = time.perf_counter()
        jobs = [job for a in articles if (job := self._plan(a)) is not None]
        finished = list(jobs)
        while jobs:
            outputs = self._summarize_chunks([c for job in jobs for c in job.chunks])
            next_jobs = []
            for job in jobs:
                partials = [outputs[c] for c in job.chunks]
                if len(job.chunks) == 1:
                    self._finish(job, partials[0])
                else:
                    job.levels.append([p.text for p in partials])
                    if self._next_level(job):
                        next_jobs.append(job)
            jobs = next_jobs
        if self.config.guards.enabled:
            self._guard([job for job in finished if job.article.summary is not None])
        done = [a for a in articles if a.error is None and a.summary is not None]
        self.record(done, time.perf_counter() - started, [len(a.text) for a in done])
        return articles

    # -- planning -----------------------------------------------------------------

    def _plan(self, article: Article) -> _Job | None:
        if article.error is not None or article.summary is not None:
            return None
        sentences = english_sentences(article)
        if not sentences:
            article.warn("no summary: there is no English text (is the translate stage off?)")
            return None
        text = " ".join(sentences)
        tokens = self._count(text)
        minimum = int(self.generation_settings.get("min_length") or 0)
        if tokens < minimum:
            article.summary = text
            article.warn(
                f"summary is the English text itself: {tokens} tokens is under the "
                f"summary's minimum length ({minimum})"
            )
            return None
        job = _Job(article, text, [text], tokens)
        if tokens <= self.window:
            return job
        strategy = job.strategy = self.settings.long_input
        if strategy == "error":
            article.error = (
                f"summarize: the English text is {tokens} tokens, over the model's "
                f"{self.window}-token window, and summarize.long_input is 'error'; "
                "set it to 'chunk' (map-reduce), 'select' or 'truncate'"
            )
            return None
        if strategy == "truncate":
            job.chunks = [self._truncate(text)]
            article.warn(
                f"summary input truncated: {tokens} tokens > {self.window}-token window; "
                f"only the first {self.window} tokens were summarized"
            )
            return job
        if strategy == "select":
            return self._select(job, article, sentences)
        job.chunks = self._pack(sentences)
        return job

    def _select(self, job: _Job, article: Article, sentences: list[str]) -> _Job | None:
        """One pass over the most central sentences that fill the window, in their order."""
        positions = [i for i, s in enumerate(article.sentences) if s.en]  # as english_sentences
        pieces = self._pieces(sentences)
        budget = self._chunk_budget()
        while True:
            chosen = select_within_budget(
                [p.text for p in pieces], [p.tokens for p in pieces], budget
            )
            chunk = " ".join(pieces[i].text for i in chosen)
            chunk_tokens = self._count(chunk)
            over = chunk_tokens - self.window
            if over <= 0 or not chosen:
                break
            budget -= over  # the per-sentence estimate ran short: ask for less
        if not chosen:
            job.chunks, job.strategy = [self._truncate(job.source_text)], "truncate"
            article.warn(
                f"summary input truncated: no sentence fits the {self.window}-token window; "
                f"only the first {self.window} of {job.input_tokens} tokens were summarized"
            )
            return job
        job.chunks = [chunk]
        job.selected = sorted({positions[pieces[i].sentence] for i in chosen})
        article.warn(
            f"summary input selected: {job.input_tokens} tokens > {self.window}-token window; "
            f"the {len(job.selected)} of {len(positions)} sentences most central to the "
            f"article ({chunk_tokens} tokens) were summarized (summarize.long_input: select)"
        )
        return job

    def _next_level(self, job: _Job) -> bool:
        """Join the partial summaries; chunk again while they still exceed the window."""
        joined = " ".join(p for p in job.levels[-1] if p)
        previous = sum(self._count(c) for c in job.chunks)
        tokens = self._count(joined)
        if tokens <= self.window:
            job.chunks = [joined]
            return True
        if len(job.levels) >= MAX_REDUCE_LEVELS or tokens >= previous:
            # The partials no longer shrink: summarize their first window, and say so.
            job.chunks = [self._truncate(joined)]
            job.article.warn(
                f"map-reduce stopped shrinking at level {len(job.levels)} "
                f"({tokens} tokens); the last pass summarized the first {self.window} tokens"
            )
            return True
        job.chunks = self._pack(job.levels[-1])
        return True

    def _guard(self, jobs: list[_Job]) -> None:
        settings = guard_settings(self.config)
        flagged: dict[str, list[GuardFinding]] = {}
        by_input: dict[str, list[_Job]] = {}
        for job in jobs:
            findings = check_summary(job.source_text, job.article.summary or "", settings)
            if findings:
                flagged[job.final_input] = findings
                by_input.setdefault(job.final_input, []).append(job)

        def check(final_input: str, summary: str) -> list[GuardFinding]:
            return check_summary(by_input[final_input][0].source_text, summary, settings)

        fixed: dict[str, tuple[str, list[GuardFinding]]] = {}
        if self.config.guards.retry:
            fixed = retry_flagged(flagged, self._retry_safer, check)
        for final_input, findings in flagged.items():
            for job in by_input[final_input]:
                if final_input in fixed:
                    job.article.summary, remaining = fixed[final_input]
                    job.article.meta["summary"]["score"] = self._retry_scores.get(final_input)
                    kinds = ", ".join(f.kind for f in findings)
                    job.article.warn(f"summary: retried with safer decoding after: {kinds}")
                    record_findings(job.article, "summary", remaining)
                else:
                    record_findings(job.article, "summary", findings)

    def _retry_safer(self, inputs: list[str]) -> dict[str, str]:
        outputs = self._summarize_chunks(inputs, SAFER_DECODING)
        self._retry_scores = {text: outputs[text].score for text in inputs}
        return {text: outputs[text].text for text in inputs}

    def _finish(self, job: _Job, output: Any) -> None:
        article = job.article
        job.final_input = job.chunks[0]
        article.summary = output.text
        article.meta["summary"] = {
            "strategy": job.strategy,
            "input_tokens": job.input_tokens,
            "levels": len(job.levels) + 1,
            "partial_summaries": job.levels,
            # Mean log-probability per token of the final summary (Generated.score).
            "score": output.score,
        }
        if job.strategy == "select":
            article.meta["summary"]["selected_sentences"] = job.selected
        floor = self.config.guards.min_score
        if self.config.guards.enabled and floor is not None and (output.score or 0.0) < floor:
            article.warn(
                f"summary: low confidence: score {output.score:.3f} < guards.min_score {floor}"
            )
        if output.hit_length_limit:
            article.warn(
                f"summary stopped at the maximum length ({output.output_tokens} tokens) "
                "and may end mid-sentence"
            )

    # -- tokens -------------------------------------------------------------------

    def _count(self, text: str) -> int:
        return len(self.backend.token_ids([text])[0])

    def _truncate(self, text: str) -> str:
        ids = self.backend.token_ids([text], truncate_to=self.window)[0]
        return self.backend.tokenizer.decode(ids, skip_special_tokens=True)

    def _pack(self, sentences: list[str]) -> list[str]:
        """The fewest chunks of whole sentences, in order, each within the window.

        Every chunk is counted again whole before it is used, so no chunk is ever cut at
        the window; a sentence over the window is cut at clauses (see _pieces), and a clause
        still over it at token boundaries (_fit).
        """
        budget = self._chunk_budget()
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for piece in self._pieces(sentences):
            cost = piece.tokens if current else piece.first_tokens
            if current and used + cost > budget:
                chunks += self._fit(current)
                current, used, cost = [], 0, piece.first_tokens
            current.append(piece.text)
            used += cost
        if current:
            chunks += self._fit(current)
        return chunks

    def _pieces(self, sentences: list[str]) -> list[_Piece]:
        """Sentences, those over the window cut at clauses, with their token counts as they
        sit inside a chunk (after a space, without the begin/end tokens a chunk has once)."""
        budget = self._chunk_budget()
        counted = self._inner_counts(sentences)
        parts: list[tuple[str, int]] = []  # (text, index of its sentence)
        for index, (sentence, tokens) in enumerate(zip(sentences, counted, strict=True)):
            if tokens <= budget:
                parts.append((sentence, index))
                continue
            max_chars = max(8, int(len(sentence) * budget / tokens * 0.8))
            for a, b in cut_at_clauses(sentence, max_chars):
                part = sentence[a:b].strip()
                if part:
                    parts.append((part, index))
        texts = [text for text, _ in parts]
        inner, first = self._inner_counts(texts), self._inner_counts(texts, after_space=False)
        return [
            _Piece(text, tokens, opening, index)
            for (text, index), tokens, opening in zip(parts, inner, first, strict=True)
        ]

    def _inner_counts(self, texts: list[str], *, after_space: bool = True) -> list[int]:
        """Tokens of each text inside a chunk, without the begin/end tokens it has once."""
        prefix = " " if after_space else ""
        counted = self.backend.tokenizer([prefix + t for t in texts], add_special_tokens=False)
        return [len(ids) for ids in counted["input_ids"]]

    def _fit(self, texts: list[str]) -> list[str]:
        """`texts` joined into chunks that the window holds whole (usually one)."""
        joined = " ".join(texts)
        if self._count(joined) <= self.window:
            return [joined]
        if len(texts) > 1:  # the per-sentence estimate ran short: split the group
            half = len(texts) // 2
            return self._fit(texts[:half]) + self._fit(texts[half:])
        # One clause over the window (no clause boundary fits): cut between tokens.
        budget = self._chunk_budget()
        ids = self.backend.tokenizer(joined, add_special_tokens=False)["input_ids"]
        step = max(1, budget - 8)  # decoding and encoding again can merge a few tokens
        return [
            self.backend.tokenizer.decode(ids[i : i + step]).strip()
            for i in range(0, len(ids), step)
        ]

    def _special_tokens(self) -> int:
        """Begin/end tokens the tokenizer adds to every input."""
        return self._count("")

    def _chunk_budget(self) -> int:
        """Tokens of text one input can hold: the window less its begin/end tokens."""
        return self.window - self._special_tokens()

    def _summarize_chunks(
        self, chunks: list[str], extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        unique = list(dict.fromkeys(chunks))
        ids = self.backend.token_ids(unique, truncate_to=self.window)
        ratio = self.settings.max_length_ratio

        def relative(index: int, gen: dict[str, Any]) -> dict[str, Any]:
            if ratio is None:
                return gen
            cap = max(1, int(len(ids[index]) * ratio))
            limit = gen.get("max_new_tokens") or gen.get("max_length") or cap
            adjusted = {**gen, "max_length": None, "max_new_tokens": min(cap, int(limit))}
            adjusted["min_length"] = min(int(gen.get("min_length") or 0), cap)
            return adjusted

        settings = self.generation_settings | (extra or {})
        outputs = self.backend.generate(ids, settings, per_item=relative)
        return dict(zip(unique, outputs, strict=True))


class ExtractiveSummarizeStage:
    """Picks the most central English sentences: no model, fast on any length."""

    name = "summarize.extractive"

    def __init__(self, config: PipelineConfig):
        self.settings = config.summarize

    def load(self) -> None:
        """Nothing to load: no model."""

    def __call__(self, articles: list[Article]) -> list[Article]:
        from pipeline.summarize.extractive import extractive_summary

        for article in articles:
            if article.error is not None or article.summary is not None:
                continue
            started = time.perf_counter()
            sentences = english_sentences(article)
            if not sentences:
                article.warn("no summary: there is no English text (is the translate stage off?)")
                continue
            chosen = extractive_summary(sentences, max_sentences=self.settings.extractive_sentences)
            article.summary = " ".join(sentences[i] for i in chosen)
            article.meta["summary"] = {"strategy": "extractive", "sentences": list(chosen)}
            article.meta.setdefault("models", {})["summarize"] = {"stage": self.name}
            timings = article.meta.setdefault("timings", {})
            timings["summarize_s"] = round(time.perf_counter() - started, 4)
        return articles
