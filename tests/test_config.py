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


def alias_bomb(levels: int) -> str:
    """A few hundred bytes of YAML whose aliases expand to 9**levels strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    return "\n".join(lines) + f"\ntranslate:\n  num_beams: *a{levels - 1}\n"


class TestHostileYaml:
    def test_an_alias_bomb_is_refused_before_it_expands(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from pipeline.cli.main import main

        path = tmp_path / "bomb.yaml"
        path.write_text(alias_bomb(9), encoding="utf-8")  # 9**9: 387 million strings
        assert len(path.read_bytes()) < 600
        with pytest.raises(ConfigError, match=r"aliases expand to more than 10,000 values"):
            load_config(path)
        assert main(["config", "validate", str(path)]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and len(err) < 1000

    def test_an_alias_that_contains_itself_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "loop.yaml"
        path.write_text("run: &r\n  itself: *r\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="contains itself"):
            load_config(path)

    def test_anchors_that_repeat_a_few_settings_still_work(self, tmp_path: Path) -> None:
        path = tmp_path / "anchors.yaml"
        path.write_text(
            "translate: &decoding\n  num_beams: 2\n  max_new_tokens: 64\n"
            "summarize:\n  <<: *decoding\n  num_beams: 3\n",
            encoding="utf-8",
        )
        config = load_config(path)
        assert (config.translate.num_beams, config.summarize.num_beams) == (2, 3)
        assert config.summarize.max_new_tokens == 64

    def test_an_override_value_is_held_to_the_same_bound(self) -> None:
        with pytest.raises(ConfigError, match=r"aliases expand"):
            load_config(None, [f"translate.num_beams={_flow_bomb(6)}"])

    def test_a_long_bad_value_is_cut_in_the_message_saying_so(self) -> None:
        with pytest.raises(ConfigError) as caught:
            load_config(None, {"translate.num_beams": ["beam"] * 5000})
        message = str(caught.value)
        assert "translate.num_beams" in message
        assert len(message) < 1500
        assert "characters, cut here)" in message

    def test_many_problems_are_listed_up_to_a_readable_number(self) -> None:
        overrides = {f"run.nope{n}": 1 for n in range(200)}
        with pytest.raises(ConfigError) as caught:
            load_config(None, overrides)
        message = str(caught.value)
        assert message.count("unknown key") == 20
        assert "... and 180 more problems" in message


def _flow_bomb(levels: int) -> str:
    """alias_bomb as one flow-style YAML value (a --set value is one line)."""
    items = ['&a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        items.append(f"&a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    return "[" + ", ".join(items) + "]"
