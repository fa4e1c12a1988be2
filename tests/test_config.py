"""Config files validate; bad keys, types, stage names and overrides give clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import CONFIG_DIR, ConfigError, available_configs, load_config

CONFIG_FILES = sorted(CONFIG_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=[p.stem for p in CONFIG_FILES])
def test_every_shipped_config_validates(path: Path) -> None:
    config = load_config(path)
    assert config.translate.model
    assert config.stages.split == "split.rules"


def test_shipped_configs_include_the_documented_ones() -> None:
    assert {"default", "tiny", "gpu", "cpu-fast", "quality"} <= set(available_configs())


def test_default_config_uses_the_product_models() -> None:
    config = load_config("default")
    assert config.translate.model == "Helsinki-NLP/opus-mt-id-en"
    assert config.summarize.model == "sshleifer/distilbart-cnn-12-6"
    assert config.run.device == "auto"


def test_unknown_key_names_key_file_and_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("translate:\n  num_beam: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "translate.num_beam: unknown key" in message
    assert "did you mean 'num_beams'" in message


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("translation:\n  num_beams: 3\n")
    with pytest.raises(ConfigError, match=r"translation: unknown key \(did you mean 'translate'"):
        load_config(path)


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("run:\n  batch_articles: many\n")
    with pytest.raises(ConfigError, match=r"run\.batch_articles: .*integer.*'many'"):
        load_config(path)


def test_unknown_stage_name_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("default", ["stages.translate=translate.google"])
    assert "stages.translate: unknown stage 'translate.google'" in str(info.value)
    assert "translate.marian" in str(info.value)


def test_stage_set_to_null_is_skipped() -> None:
    config = load_config("default", ["stages.summarize=null"])
    assert config.stages.summarize is None
    from pipeline.api import Pipeline

    families = [family for family, _ in Pipeline(config).stages]
    assert families == ["split", "translate"]


def test_dotted_overrides_parse_values_as_yaml() -> None:
    config = load_config(
        "default",
        ["translate.num_beams=2", "run.formats=[jsonl, parquet]", "summarize.length_penalty=1.5"],
    )
    assert config.translate.num_beams == 2
    assert config.run.formats == ["jsonl", "parquet"]
    assert config.summarize.length_penalty == 1.5


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("translate.num_beams", "expected SECTION.KEY=VALUE"),
        ("=3", "expected SECTION.KEY=VALUE"),
        ("translate.num_beams=[1", "not valid YAML"),
        ("translate.model.x=1", "'model' is not a section"),
        ("run.device=gpu", "must be auto, cpu, cuda, cuda:N or mps"),
    ],
)
def test_bad_overrides_give_clear_errors(override: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config("default", [override])


def test_missing_config_file_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"not found.*default"):
        load_config("no-such-config")


def test_relative_model_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.yaml"
    path.parent.mkdir()
    path.write_text("translate:\n  model: ./models/marian\n")
    assert load_config(path).translate.model == str(tmp_path / "sub" / "models" / "marian")


def test_generation_overrides_only_carry_fields_that_were_set() -> None:
    config = load_config("default", ["translate.num_beams=3", "translate.extra={top_k: 5}"])
    assert config.translate.overrides() == {"num_beams": 3, "top_k": 5}
    assert load_config("default").summarize.overrides() == {}


def test_config_show_round_trips(tmp_path: Path) -> None:
    config = load_config("default", ["translate.num_beams=3"])
    path = tmp_path / "resolved.yaml"
    path.write_text(config.to_yaml())
    assert load_config(path) == config


def test_the_old_stage_name_is_read_as_the_new_one() -> None:
    config = load_config("default", ["stages.translate=translate.marian"])
    assert config.stages.translate == "translate.seq2seq"
    assert load_config("default").stages.translate == "translate.seq2seq"
