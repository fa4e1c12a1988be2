"""One guard loop for both model stages: check every output, retry the flagged ones once
with safer decoding, keep a retry only where it is cleaner, and warn about what is left.

Findings are recorded on the output an item finally holds. A stage that replaces outputs
for other reasons (required terms forced) does so before the loop, and warns about
anything else it reads from an output (its score, the length limit) after it, from the
output its `accept` was handed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic

from pipeline.config import PipelineConfig
from pipeline.guards.checks import GuardFinding, GuardSettings
from pipeline.guards.retry import Output, guard_settings, record_findings, retry_flagged
from pipeline.types import Article

# (source, output, settings) -> findings: check_translation, check_summary.
Check = Callable[[str, str, GuardSettings], list[GuardFinding]]


@dataclass(frozen=True)
class Guarded(Generic[Output]):
    """One output under guard, and how its stage takes a retry's output instead."""

    key: str  # what a retry generates from: a sentence, a summary's final input
    source: str  # what the output is checked against
    output: str
    article: Article
    where: str  # how its warnings begin: "sentence 3", "summary"
    accept: Callable[[Output], None]


def guard_outputs(
    items: Sequence[Guarded[Output]],
    check: Check,
    retry: Callable[[list[str]], Mapping[str, Output]],
    config: PipelineConfig,
) -> None:
    """Warn about (and count) each item's findings; with guards.retry, the flagged keys are
    retried once together (`retry` maps flagged keys to what it generated, leaving out a key
    it skipped), and a retry with fewer findings replaces their outputs."""
    settings = guard_settings(config)
    flagged: dict[str, list[GuardFinding]] = {}
    sources: dict[str, str] = {}  # a key -> the first flagged source it was checked against
    found: list[Guarded[Output]] = []
    for item in items:
        findings = check(item.source, item.output, settings)
        if findings:
            flagged[item.key] = findings
            sources.setdefault(item.key, item.source)
            found.append(item)
    fixed: dict[str, tuple[Output, list[GuardFinding]]] = {}
    if config.guards.retry:
        fixed = retry_flagged(flagged, retry, lambda key, text: check(sources[key], text, settings))
    for item in found:
        findings = flagged[item.key]
        if item.key not in fixed:
            record_findings(item.article, item.where, findings)
            continue
        output, remaining = fixed[item.key]
        item.accept(output)
        kinds = ", ".join(f.kind for f in findings)
        item.article.warn(f"{item.where}: retried with safer decoding after: {kinds}")
        record_findings(item.article, item.where, remaining)
