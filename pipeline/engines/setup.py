"""Checks a run makes before its first article: a broken setup is one clear error (exit 2
or 3), not the same failure recorded on every article."""

from __future__ import annotations

from typing import Any

from pipeline.api import Pipeline
from pipeline.errors import ConfigError
from pipeline.generation.model_stage import ModelStage
from pipeline.translate.cache import TranslationCache

# generate() fields that must be whole numbers of at least this much.
_AT_LEAST = {
    "num_beams": 1,
    "num_beam_groups": 1,
    "num_return_sequences": 1,
    "max_new_tokens": 1,
    "max_length": 1,
    "min_new_tokens": 0,
    "min_length": 0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "top_k": 0,
}
# Fields that must be numbers above zero.
_POSITIVE = ("temperature", "repetition_penalty", "top_p")


def check_setup(pipe: Pipeline, *, load_models: bool = True) -> None:
    """Settings first (cheap), then the cache files, then every model (exit 3 if one
    fails). Without `load_models` (the Ray driver, whose workers load them), only the
    configured generation settings are checked."""
    for family, stage in pipe.stages:
        if isinstance(stage, ModelStage):
            check_generation(family, stage.settings.overrides())
    for _, stage in pipe.stages:
        cache = getattr(stage, "cache", None)
        if isinstance(cache, TranslationCache):
            cache.check()
    if not load_models:
        return
    pipe.load()
    for family, stage in pipe.stages:
        if isinstance(stage, ModelStage):
            check_generation(family, stage.generation_settings)


def check_generation(family: str, settings: dict[str, Any]) -> None:
    """Generation settings generate() would fail on (or divide by zero over) mid-run."""
    problems = [
        f"{family}.{name} = {settings[name]!r}: must be a whole number >= {least}"
        for name, least in _AT_LEAST.items()
        if settings.get(name) is not None and not _whole_at_least(settings[name], least)
    ]
    problems += [
        f"{family}.{name} = {settings[name]!r}: must be a number above 0"
        for name in _POSITIVE
        if settings.get(name) is not None and not _positive(settings[name])
    ]
    if problems:
        raise ConfigError(
            "invalid generation settings (the model's defaults with the config's on top):\n  "
            + "\n  ".join(problems)
            + "\nfix them in the config or with --set, e.g. --set "
            + f"{family}.num_beams=4"
        )


def _whole_at_least(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
