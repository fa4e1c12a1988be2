"""Stages by registered name. Names map to "module:attribute" so validating a config
never imports torch or transformers."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig
    from pipeline.types import Article

FAMILIES = ("split", "translate", "summarize")

_REGISTRY: dict[str, dict[str, str]] = {
    "split": {"split.rules": "pipeline.stages.split:RuleSplitStage"},
    "translate": {
        "translate.marian": "pipeline.stages.translate:TorchTranslateStage",
        "translate.ctranslate2": "pipeline.stages.translate_ct2:CTranslate2TranslateStage",
    },
    "summarize": {
        "summarize.seq2seq": "pipeline.stages.summarize:Seq2SeqSummarizeStage",
        "summarize.extractive": "pipeline.stages.summarize:ExtractiveSummarizeStage",
    },
}


class Stage(Protocol):
    """A stage maps a batch of articles to the same articles, filled in further."""

    name: str

    def __call__(self, articles: list[Article]) -> list[Article]: ...


def register(family: str, name: str, target: str) -> None:
    """Add a stage implementation ("package.module:Class") under a name."""
    if family not in FAMILIES:
        raise ValueError(f"unknown stage family {family!r}; expected one of {FAMILIES}")
    _REGISTRY[family][name] = target


def stage_names(family: str) -> list[str]:
    return sorted(_REGISTRY[family])


def check_stage_names(config: PipelineConfig, source: str) -> None:
    from pipeline.config import ConfigError

    for family in FAMILIES:
        name = getattr(config.stages, family)
        if name is not None and name not in _REGISTRY[family]:
            raise ConfigError(
                f"invalid config {source}:\n  stages.{family}: unknown stage {name!r}; "
                f"registered: {', '.join(stage_names(family))}, or null to skip"
            )


def build_stage(family: str, config: PipelineConfig) -> Stage | None:
    name = getattr(config.stages, family)
    if name is None:
        return None
    module_name, _, attr = _REGISTRY[family][name].partition(":")
    factory: Callable[[PipelineConfig], Stage] = getattr(importlib.import_module(module_name), attr)
    return factory(config)
