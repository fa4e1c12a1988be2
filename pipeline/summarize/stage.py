"""The summarize stages: summarize.seq2seq (abstractive, on a backend; text over the model's
window is map-reduced, narrowed to its most central sentences, truncated or refused, as
summarize.long_input says) and summarize.extractive (no model)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import PipelineConfig, SummarizeSettings
from pipeline.generation.backend import Generated
from pipeline.generation.model_stage import ModelStage
from pipeline.guards import (
    SAFER_DECODING,
    Guarded,
    check_summary,
    guard_outputs,
)
from pipeline.summarize.chunks import Chunker
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
    output: Generated | None = None  # the summary the article holds

    def hold(self, output: Generated) -> None:
        """Take a guard retry's summary in place of the article's."""
        self.output = output
        self.article.summary = output.text
        self.article.meta["summary"]["score"] = output.score


class SummarizeStage(ModelStage):
    family = "summarize"
    task = "summarization"
    settings: SummarizeSettings

    @property
    def chunker(self) -> Chunker:
        """Token counts and cuts for this stage's backend and window."""
        return Chunker(self.backend, self.window)

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
        held = [job for job in finished if job.output is not None]
        if self.config.guards.enabled:
            self._guard(held)
        for job in held:  # after the guards, so that they describe the summary kept
            self._warn_about_output(job)
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
        tokens = self.chunker.count(text)
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
            job.chunks = [self.chunker.truncate(text)]
            article.warn(
                f"summary input truncated: {tokens} tokens > {self.window}-token window; "
                f"only the first {self.window} tokens were summarized"
            )
            return job
        if strategy == "select":
            return self._select(job, article, sentences)
        job.chunks = self.chunker.pack(sentences)
        return job

    def _select(self, job: _Job, article: Article, sentences: list[str]) -> _Job | None:
        """One pass over the most central sentences that fill the window, in their order."""
        positions = [i for i, s in enumerate(article.sentences) if s.en]  # as english_sentences
        chunker = self.chunker
        pieces = chunker.pieces(sentences)
        budget = chunker.budget()
        while True:
            chosen = select_within_budget(
                [p.text for p in pieces], [p.tokens for p in pieces], budget
            )
            chunk = " ".join(pieces[i].text for i in chosen)
            chunk_tokens = chunker.count(chunk)
            over = chunk_tokens - self.window
            if over <= 0 or not chosen:
                break
            budget -= over  # the per-sentence estimate ran short: ask for less
        if not chosen:
            job.chunks, job.strategy = [chunker.truncate(job.source_text)], "truncate"
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
        chunker = self.chunker
        joined = " ".join(p for p in job.levels[-1] if p)
        previous = sum(chunker.count(c) for c in job.chunks)
        tokens = chunker.count(joined)
        if tokens <= self.window:
            job.chunks = [joined]
            return True
        if len(job.levels) >= MAX_REDUCE_LEVELS or tokens >= previous:
            # The partials no longer shrink: summarize their first window, and say so.
            job.chunks = [chunker.truncate(joined)]
            job.article.warn(
                f"map-reduce stopped shrinking at level {len(job.levels)} "
                f"({tokens} tokens); the last pass summarized the first {self.window} tokens"
            )
            return True
        job.chunks = chunker.pack(job.levels[-1])
        return True

    def _guard(self, jobs: list[_Job]) -> None:
        items = [
            Guarded(
                job.final_input,
                job.source_text,
                job.article.summary or "",
                job.article,
                "summary",
                job.hold,
            )
            for job in jobs
        ]
        guard_outputs(items, check_summary, self._retry_safer, self.config)

    def _retry_safer(self, inputs: list[str]) -> dict[str, Generated]:
        return self._summarize_chunks(inputs, SAFER_DECODING)

    def _finish(self, job: _Job, output: Generated) -> None:
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
        job.output = output

    def _warn_about_output(self, job: _Job) -> None:
        """Warnings read from the summary the article holds: its score, the length limit."""
        article, output = job.article, job.output
        if output is None:
            return
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

    def _summarize_chunks(
        self, chunks: list[str], extra: dict[str, Any] | None = None
    ) -> dict[str, Generated]:
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
