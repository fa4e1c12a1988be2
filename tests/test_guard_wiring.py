"""Guards on translated sentences: findings become warnings and counts; one safer retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Pipeline
from pipeline.guards import GuardFinding
from tests.conftest import tiny_config_dict

TEXT = "Presiden meresmikan jembatan baru. Warga menyambut baik pembangunan itu."


def flag_first_sentence(calls: list[tuple[str, str]]):
    def check(source: str, output: str, settings: object) -> list[GuardFinding]:
        calls.append((source, output))
        if source.startswith("Presiden") and len(calls) <= 2:
            return [GuardFinding("copy", "output copies the source: 90% of words")]
        return []

    return check


def test_flagged_sentence_is_retried_and_the_retry_recorded(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr("pipeline.stages.translate.check_translation", flag_first_sentence(calls))
    pipe = Pipeline.from_config(tiny_config_dict(tiny_models, stages={"summarize": None}))
    article = pipe(TEXT)
    assert "sentence 0: retried with safer decoding after: copy" in article.warnings
    assert not any(w.startswith("sentence 1: retried") for w in article.warnings)
    # checked once per sentence, then the retry output of the flagged one once more
    assert [source for source, _ in calls].count(article.sentences[0].text) == 2


def test_without_retry_the_finding_is_a_warning_and_counted(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.stages.translate.check_translation", flag_first_sentence([]))
    config = tiny_config_dict(tiny_models, stages={"summarize": None}, guards={"retry": False})
    article = Pipeline.from_config(config)(TEXT)
    assert "sentence 0: copy: output copies the source: 90% of words" in article.warnings
    assert article.meta["guards"] == {"copy": 1}


def test_guards_off_means_no_guard_warnings(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.stages.translate.check_translation", flag_first_sentence([]))
    config = tiny_config_dict(tiny_models, stages={"summarize": None}, guards={"enabled": False})
    article = Pipeline.from_config(config)(TEXT)
    assert not any("copy" in w for w in article.warnings)
    assert "guards" not in article.meta


def test_real_tiny_model_output_passes_through_the_guards(tiny_models: Path) -> None:
    """Whatever the random model says, every guard warning is well formed and counted."""
    config = tiny_config_dict(tiny_models, guards={"retry": False})
    article = Pipeline.from_config(config)(TEXT)
    kinds = {"repetition", "copy", "empty", "length_ratio", "summary_longer"}
    guard_warnings = [w for w in article.warnings if w.split(": ")[1:2] in [[k] for k in kinds]]
    assert sum(article.meta.get("guards", {}).values()) == len(guard_warnings)
    for warning in guard_warnings:
        where = warning.split(": ")[0]
        assert where == "summary" or where.startswith("sentence ")
