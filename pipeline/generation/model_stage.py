"""What the model-backed stages share: a lazily opened backend and the model's settings."""

from __future__ import annotations

from typing import Any

from pipeline.config import PipelineConfig, SummarizeSettings, TranslateSettings
from pipeline.generation.backend import Backend, VocabularyShortlist
from pipeline.generation.backends import BackendKind, open_backend
from pipeline.generation.settings import generation_kwargs
from pipeline.types import Article


class ModelStage:
    """A stage that holds a Backend; the backend is opened on the first batch, so that
    building a pipeline (and validating a config) stays cheap."""

    family = "model"  # the config section the stage reads: "translate" or "summarize"
    task: str | None = None  # the checkpoint's task_specific_params key, if any

    def __init__(
        self, config: PipelineConfig, *, name: str | None = None, backend: BackendKind = "torch"
    ):
        self.config = config
        self.settings: TranslateSettings | SummarizeSettings = getattr(config, self.family)
        self.name = name or f"{self.family}.seq2seq"
        self.backend_kind = backend  # which backend to open; stages ask its capabilities
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = open_backend(
                self.backend_kind,
                self.settings,
                self.config.run,
                task=self.task,
                shortlist=self.vocabulary_shortlist(),
            )
        return self._backend

    def load(self) -> None:
        """Open the backend now (models load), rather than on the first batch."""
        _ = self.backend

    def vocabulary_shortlist(self) -> VocabularyShortlist | None:
        """A shortlist for the output layer, if this stage has one (translation does)."""
        return None

    @property
    def generation_settings(self) -> dict[str, Any]:
        return generation_kwargs(self.backend.generation_defaults, self.settings.overrides())

    @property
    def window(self) -> int:
        return self.settings.max_input_tokens or self.backend.max_input_tokens

    def describe(self) -> dict[str, Any]:
        """What made this stage's outputs, for each record's meta.models."""
        return self.backend.describe() | {"stage": self.name}

    def record(self, articles: list[Article], elapsed: float, weights: list[int]) -> None:
        """Model description and this stage's share of the batch time, on each article."""
        description = self.describe()
        total = sum(weights) or 1
        for article, weight in zip(articles, weights, strict=True):
            article.meta.setdefault("models", {})[self.family] = description
            timings = article.meta.setdefault("timings", {})
            key = f"{self.family}_s"
            timings[key] = round(timings.get(key, 0.0) + elapsed * weight / total, 4)
