"""Stages by registered name. Names map to "module:attribute", the backend the stage holds
(if it holds a model) and the config section it reads, so validating a config never imports
torch, transformers or CTranslate2."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig
    from pipeline.generation.backends import BackendKind
    from pipeline.types import Article

# The config section a stage reads its settings from (a PipelineConfig attribute).
SettingsSection = Literal["split", "translate", "summarize"]
FAMILIES: tuple[SettingsSection, ...] = ("split", "translate", "summarize")


@dataclass(frozen=True)
class StageSpec:
    target: str  # "package.module:Class"
    settings: SettingsSection  # config.split (SplitSettings), .translate or .summarize
    backend: BackendKind | None = None  # the backend a model stage opens

    @property
    def holds_model(self) -> bool:
        """Whether the stage loads a model (and so has model settings that matter)."""
        return self.backend is not None


_REGISTRY: dict[str, dict[str, StageSpec]] = {
    "split": {"split.rules": StageSpec("pipeline.splitter.stage:RuleSplitStage", "split")},
    "translate": {
        # Any transformers seq2seq translation model (MarianMT by default), on torch.
        "translate.seq2seq": StageSpec(
            "pipeline.translate.stage:TranslateStage", "translate", "torch"
        ),
        "translate.ctranslate2": StageSpec(
            "pipeline.translate.stage:TranslateStage", "translate", "ctranslate2"
        ),
    },
    "summarize": {
        "summarize.seq2seq": StageSpec(
            "pipeline.summarize.stage:SummarizeStage", "summarize", "torch"
        ),
        # The same map-reduce stage on CTranslate2 (BART/distilbart converted once).
        "summarize.ctranslate2": StageSpec(
            "pipeline.summarize.stage:SummarizeStage", "summarize", "ctranslate2"
        ),
        # No model: it reads summarize.extractive_sentences.
        "summarize.extractive": StageSpec(
            "pipeline.summarize.stage:ExtractiveSummarizeStage", "summarize"
        ),
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


def register(
    family: str,
    name: str,
    target: str,
    backend: BackendKind | None = None,
    settings: SettingsSection | None = None,
) -> None:
    """Add a stage implementation ("package.module:Class") under a name; it reads the
    config section `settings` (its family's by default)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown stage family {family!r}; expected one of {FAMILIES}")
    section = settings or family  # `in FAMILIES` made it a SettingsSection
    _REGISTRY[family][name] = StageSpec(target, section, backend)


def stage_names(family: str) -> list[str]:
    return sorted(_REGISTRY[family])


def canonical_name(name: str | None) -> str | None:
    return ALIASES.get(name, name) if name is not None else None


def stage_spec(name: str) -> StageSpec:
    """The registration of a stage name (an old alias is read as its current name)."""
    current = ALIASES.get(name, name)
    for specs in _REGISTRY.values():
        if current in specs:
            return specs[current]
    raise KeyError(f"unknown stage {name!r}")


def holds_model(stage_name: str | None) -> bool:
    """Whether a configured stage loads a model; a stage that is off (None) holds none."""
    return stage_name is not None and stage_spec(stage_name).holds_model


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
    kwargs: dict[str, Any] = {"name": name, "backend": spec.backend} if spec.holds_model else {}
    return factory(config, **kwargs)
