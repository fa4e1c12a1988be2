"""What the model-backed stages share: lazy loading and a batched generator."""

from __future__ import annotations

from typing import Any

from pipeline.config import GenerationOverrides, ModelSource, PipelineConfig
from pipeline.generation import Generator, generation_kwargs
from pipeline.models import LoadedModel, load_seq2seq, set_threads
from pipeline.types import Article


class ModelStage:
    name = "model"
    task: str | None = None

    def __init__(self, config: PipelineConfig, settings: Any):
        self.config = config
        self.settings = settings
        self._loaded: LoadedModel | None = None
        self._generator: Generator | None = None

    # Loading waits for the first batch so that building a pipeline stays cheap.
    @property
    def loaded(self) -> LoadedModel:
        if self._loaded is None:
            source: ModelSource = self.settings
            set_threads(self.config.run.threads)
            self._loaded = load_seq2seq(
                source,
                device=self.config.run.device,
                dtype=self.config.run.dtype,
                task=self.task,
                quantize=getattr(self.settings, "quantize", "none"),
            )
        return self._loaded

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = Generator(
                self.loaded,
                max_batch_tokens=self.settings.max_batch_tokens,
                max_batch_items=getattr(self.settings, "max_batch_sentences", 64),
                search_loop=self.settings.search_loop,
            )
        return self._generator

    @property
    def generation_settings(self) -> dict[str, Any]:
        overrides: GenerationOverrides = self.settings
        return generation_kwargs(self.loaded.generation_defaults, overrides.overrides())

    @property
    def window(self) -> int:
        return self.settings.max_input_tokens or self.loaded.max_input_tokens

    def describe(self) -> dict[str, Any]:
        """What made this stage's outputs, for each record's meta.models."""
        return self.loaded.describe() | {"stage": self.name}

    def record(
        self, articles: list[Article], family: str, elapsed: float, weights: list[int]
    ) -> None:
        """Model description and this stage's share of the batch time, on each article."""
        description = self.describe()
        total = sum(weights) or 1
        for article, weight in zip(articles, weights, strict=True):
            article.meta.setdefault("models", {})[family] = description
            timings = article.meta.setdefault("timings", {})
            key = f"{family}_s"
            timings[key] = round(timings.get(key, 0.0) + elapsed * weight / total, 4)
