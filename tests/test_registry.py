"""What the registry says about a stage: whether it holds a model, which config section it
reads; old names are read as their current ones."""

from __future__ import annotations

import pytest

from pipeline import registry
from pipeline.config import PipelineConfig


def test_the_registry_says_which_stages_hold_a_model() -> None:
    holding = {
        name
        for family in registry.FAMILIES
        for name in registry.stage_names(family)
        if registry.holds_model(name)
    }
    assert holding == {
        "translate.seq2seq",
        "translate.ctranslate2",
        "summarize.seq2seq",
        "summarize.ctranslate2",
    }
    assert registry.holds_model("translate.marian")  # an old name, read as its current one
    assert registry.holds_model(None) is False  # a stage that is off
    with pytest.raises(KeyError, match=r"unknown stage 'translate\.nope'"):
        registry.holds_model("translate.nope")


def test_each_stage_names_the_config_section_it_reads() -> None:
    config = PipelineConfig()
    for family in registry.FAMILIES:
        for name in registry.stage_names(family):
            spec = registry.stage_spec(name)
            assert spec.settings == family
            assert getattr(config, spec.settings) is not None
            assert spec.holds_model == (spec.backend is not None)
