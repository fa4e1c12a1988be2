"""Guards on translated sentences: findings become warnings and counts; one safer retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Pipeline
from pipeline.guards import GuardFinding
from tests.helpers import tiny_config_dict

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
    monkeypatch.setattr("pipeline.translate.stage.check_translation", flag_first_sentence(calls))
    pipe = Pipeline.from_config(tiny_config_dict(tiny_models, stages={"summarize": None}))
    article = pipe(TEXT)
    assert "sentence 0: retried with safer decoding after: copy" in article.warnings
    assert not any(w.startswith("sentence 1: retried") for w in article.warnings)
    # checked once per sentence, then the retry output of the flagged one once more
    assert [source for source, _ in calls].count(article.sentences[0].text) == 2


def test_without_retry_the_finding_is_a_warning_and_counted(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.translate.stage.check_translation", flag_first_sentence([]))
    config = tiny_config_dict(tiny_models, stages={"summarize": None}, guards={"retry": False})
    article = Pipeline.from_config(config)(TEXT)
    assert "sentence 0: copy: output copies the source: 90% of words" in article.warnings
    assert article.meta["guards"] == {"copy": 1}


def test_guards_off_means_no_guard_warnings(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.translate.stage.check_translation", flag_first_sentence([]))
    config = tiny_config_dict(tiny_models, stages={"summarize": None}, guards={"enabled": False})
    article = Pipeline.from_config(config)(TEXT)
    assert not any("copy" in w for w in article.warnings)
    assert "guards" not in article.meta


def test_real_tiny_model_output_passes_through_the_guards(tiny_models: Path) -> None:
    """Real outputs through the real checks: with a length band no translation can meet,
    every sentence is flagged, each warning names its sentence, and the counts match."""
    band = {"retry": False, "length_ratio_min": 50.0, "length_ratio_max": 60.0}
    config = tiny_config_dict(tiny_models, stages={"summarize": None}, guards=band)
    article = Pipeline.from_config(config)(TEXT)
    flagged = [w for w in article.warnings if w.split(": ")[1:2] in (["length_ratio"], ["empty"])]
    where = sorted(w.split(": ")[0] for w in flagged)
    assert where == [f"sentence {i}" for i in range(len(article.sentences))]
    assert len(article.sentences) == 2
    counts = article.meta["guards"]
    assert counts.get("length_ratio", 0) + counts.get("empty", 0) == len(flagged)
    kinds = {"repetition", "copy", "empty", "length_ratio"}
    assert sum(counts.values()) == sum(1 for w in article.warnings if w.split(": ")[1] in kinds)


def test_a_retried_summary_is_warned_about_as_kept(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary's score and length-limit warnings are of the retry that replaced it."""
    checked: list[str] = []

    def flag_first(source: str, output: str, settings: object) -> list[GuardFinding]:
        checked.append(output)
        return [GuardFinding("copy", "summary copies the text")] if len(checked) == 1 else []

    monkeypatch.setattr("pipeline.summarize.stage.check_summary", flag_first)
    guards = {"min_score": 0.0}  # every mean log-probability is under 0: always warned
    pipe = Pipeline.from_config(tiny_config_dict(tiny_models, guards=guards))
    article = pipe(TEXT)
    assert "summary: retried with safer decoding after: copy" in article.warnings
    assert article.summary == checked[1] != checked[0]
    score = article.meta["summary"]["score"]
    low = [w for w in article.warnings if w.startswith("summary: low confidence")]
    assert low == [f"summary: low confidence: score {score:.3f} < guards.min_score 0.0"]
