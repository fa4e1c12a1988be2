"""Stages by registered name. Names map to "module:attribute" plus the backend the stage
holds, so validating a config never imports torch, transformers or CTranslate2."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig
    from pipeline.types import Article

FAMILIES = ("split", "translate", "summarize")


@dataclass(frozen=True)
class StageSpec:
    target: str  # "package.module:Class"
    backend: str | None = None  # for model stages: "torch" or "ctranslate2"


_REGISTRY: dict[str, dict[str, StageSpec]] = {
    "split": {"split.rules": StageSpec("pipeline.splitter.stage:RuleSplitStage")},
    "translate": {
        # Any transformers seq2seq translation model (MarianMT by default), on torch.
        "translate.seq2seq": StageSpec("pipeline.translate.stage:TranslateStage", "torch"),
        "translate.ctranslate2": StageSpec(
            "pipeline.translate.stage:TranslateStage", "ctranslate2"
        ),
    },
    "summarize": {
        "summarize.seq2seq": StageSpec("pipeline.summarize.stage:SummarizeStage", "torch"),
        # The same map-reduce stage on CTranslate2 (BART/distilbart converted once).
        "summarize.ctranslate2": StageSpec(
            "pipeline.summarize.stage:SummarizeStage", "ctranslate2"
        ),
        "summarize.extractive": StageSpec("pipeline.summarize.stage:ExtractiveSummarizeStage"),
    },
}
# Older names, still accepted in configs; a config is read with the current name.
ALIASES = {"translate.marian": "translate.seq2seq"}


class Stage(Protocol):
    """A stage maps a batch of articles to the same articles, filled in further."""

    name: str

    def __call__(self, articles: list[Article]) -> list[Article]: ...

    def load(self) -> None:
        """Load what the stage needs (models) now; a stage without models does nothing."""
        ...


def register(family: str, name: str, target: str, backend: str | None = None) -> None:
    """Add a stage implementation ("package.module:Class") under a name."""
    if family not in FAMILIES:
        raise ValueError(f"unknown stage family {family!r}; expected one of {FAMILIES}")
    _REGISTRY[family][name] = StageSpec(target, backend)


def stage_names(family: str) -> list[str]:
    return sorted(_REGISTRY[family])


def canonical_name(name: str | None) -> str | None:
    return ALIASES.get(name, name) if name is not None else None


def check_stage_names(config: PipelineConfig, source: str) -> None:
    for family in FAMILIES:
        name = getattr(config.stages, family)
        if name is not None and name not in _REGISTRY[family]:
            aliases = [f"{old} (= {new})" for old, new in ALIASES.items() if old.startswith(family)]
            raise ConfigError(
                f"invalid config {source}:\n  stages.{family}: unknown stage {name!r}; "
                f"registered: {', '.join(stage_names(family) + aliases)}, or null to skip"
            )


def build_stage(family: str, config: PipelineConfig) -> Stage | None:
    name = getattr(config.stages, family)
    if name is None:
        return None
    spec = _REGISTRY[family][name]
    module_name, _, attr = spec.target.partition(":")
    factory: Callable[..., Stage] = getattr(importlib.import_module(module_name), attr)
    kwargs: dict[str, Any] = {"name": name, "backend": spec.backend} if spec.backend else {}
    return factory(config, **kwargs)
