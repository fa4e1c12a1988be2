"""Output guards wired into the stages: findings become warnings, optionally one retry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from pipeline.config import PipelineConfig
from pipeline.guards.checks import GuardFinding, GuardSettings
from pipeline.types import Article

# Decoding that breaks most loops without changing fluent output much: no 3-gram may
# repeat, and tokens already produced are made less likely.
SAFER_DECODING = {"no_repeat_ngram_size": 3, "repetition_penalty": 1.3}


class Scored(Protocol):
    """A generated output as the guards read it (pipeline.generation.Generated is one)."""

    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float | None: ...


def guard_settings(config: PipelineConfig) -> GuardSettings:
    band = (config.guards.length_ratio_min, config.guards.length_ratio_max)
    return GuardSettings(length_ratio_band=band)


def record_findings(article: Article, where: str, findings: Sequence[GuardFinding]) -> None:
    """One warning per finding, and a per-kind count the run report adds up."""
    counts = article.meta.setdefault("guards", {})
    for finding in findings:
        article.warn(f"{where}: {finding.kind}: {finding.message}")
        counts[finding.kind] = counts.get(finding.kind, 0) + 1


# What a stage's retry generates (pipeline.generation.Generated): the stage's `accept`
# gets it back whole, so it can read more of it than the guards do.
Output = TypeVar("Output", bound=Scored)


def retry_flagged(
    flagged: Mapping[str, list[GuardFinding]],
    retry: Callable[[list[str]], Mapping[str, Output]],
    check: Callable[[str, str], list[GuardFinding]],
) -> dict[str, tuple[Output, list[GuardFinding]]]:
    """Re-run flagged keys with safer decoding; keep a retry only if it has fewer findings.
    Returns key -> (the retry's output, its findings)."""
    if not flagged:
        return {}
    retried = retry(list(flagged))
    better: dict[str, tuple[Output, list[GuardFinding]]] = {}
    for key, findings in flagged.items():
        candidate = retried.get(key)
        if candidate is None:
            continue
        new_findings = check(key, candidate.text)
        if len(new_findings) < len(findings):
            better[key] = (candidate, new_findings)
    return better
