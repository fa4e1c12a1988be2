"""The command line of trusted runs (issue 12): config names, translate -f, control
characters, -v anywhere, --workers and eval arguments."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from pipeline.api import Pipeline
from pipeline.cli.main import EXIT_FAILED_ARTICLES, EXIT_OK, EXIT_USAGE, build_parser, main
from pipeline.cli.terminal import safe
from pipeline.config import CONFIG_DIR, find_config
from tests.helpers import SENTENCES, tiny_config_dict

ESCAPE = "\x1b]0;HACKED\x07\x1b[2J"  # retitle the terminal window, then clear the screen


@pytest.fixture()
def config_file(tmp_path: Path, tiny_models: Path) -> Path:
    path = tmp_path / "tiny-config.yaml"
    data = tiny_config_dict(tiny_models, stages={"summarize": "summarize.extractive"})
    path.write_text(yaml.safe_dump(data))
    return path


# -- 7. config names and paths -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_file_or_folder_named_like_a_config_does_not_hide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if kind == "file":
        Path("tiny").write_text("not: a config\n")
    else:
        Path("tiny").mkdir()
    assert find_config("tiny") == CONFIG_DIR / "tiny.yaml"
    assert Pipeline.from_config("tiny").config.translate.local_files_only  # the packaged one


def test_a_path_argument_picks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("tiny.yaml").write_text(yaml.safe_dump({"translate": {"num_beams": 7}}))
    caplog.set_level(logging.INFO, logger="pipeline.config")
    assert find_config("./tiny.yaml") == Path("./tiny.yaml")
    assert Pipeline.from_config("./tiny.yaml").config.translate.num_beams == 7
    assert Pipeline.from_config("tiny.yaml").config.translate.num_beams == 7
    assert f"the file {tmp_path / 'tiny.yaml'}" in caplog.text  # says which was used


# -- 8. translate -f and summarize -f read as run reads ------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_translate_file_decodes_like_run(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    path = tmp_path / "berita.txt"
    path.write_bytes(f"{SENTENCES[0]} Harga naik 5€ “kata” warga.".encode(encoding))
    assert main(["translate", "-f", str(path), "-c", str(config_file), "--json"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["text"].startswith(SENTENCES[0]) and "5€ “kata”" in record["text"]


def test_translate_file_translates_the_visible_text_of_html(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "page.html.txt"
    path.write_text(
        f"<!DOCTYPE html><html><head><script>var x = 1;</script></head>"
        f"<body><p>{SENTENCES[0]}</p></body></html>"
    )
    assert main(["translate", "-f", str(path), "-c", str(config_file), "--json"]) == EXIT_OK
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["text"] == SENTENCES[0]
    assert "input is an HTML page" in captured.err


@pytest.mark.parametrize("command", ["translate", "summarize"])
def test_a_missing_file_is_a_usage_error_without_resume_advice(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "nope.txt"
    assert main([command, "-f", str(missing), "-c", str(config_file)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{missing}: cannot read the file" in err and "resume" not in err


# -- 10. control characters never reach the terminal raw -----------------------------------


def test_control_characters_in_ids_are_escaped_on_the_terminal(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    rows = [{"id": f"evil{ESCAPE}\nfake", "text": ""}, {"id": "ok", "text": SENTENCES[0]}]
    (root / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert main(["run", str(root), "-o", str(out), "-c", str(config_file)]) == (
        EXIT_FAILED_ARTICLES
    )
    captured = capsys.readouterr()
    assert "\x1b" not in captured.err + captured.out and "\x07" not in captured.err
    assert "failed rows/evil\\x1b]0;HACKED\\x07\\x1b[2J\\x0afake: read:" in captured.err


def test_safe_keeps_text_and_newlines_but_not_controls() -> None:
    assert safe("Harga naik 😀 di 東京\n\tdua") == "Harga naik 😀 di 東京\n\tdua"
    assert safe("a\x1b[31mb\x9bc\u202ed") == "a\\x1b[31mb\\x9bc\\u202ed"
    assert safe("a\nb", newlines=False) == "a\\x0ab"


# -- -v after the subcommand; --workers 0; eval arguments ----------------------------------


def test_verbose_is_accepted_before_and_after_the_subcommand() -> None:
    parser = build_parser()
    assert parser.parse_args(["-v", "config", "list"]).verbose == 1
    assert parser.parse_args(["config", "list", "-vv"]).verbose == 2
    assert parser.parse_args(["run", "in", "-o", "out", "-v"]).verbose == 1
    assert parser.parse_args(["run", "in", "-o", "out"]).verbose == 0


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_workers_below_one_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "in", "-o", "out", "--engine", "ray", "--workers", value])
    assert caught.value.code == EXIT_USAGE
    assert "--workers" in capsys.readouterr().err


def test_workers_below_one_is_refused_by_the_api(tmp_path: Path, tiny_models: Path) -> None:
    from pipeline.config import load_config
    from pipeline.engines.ray import run_folder_ray
    from pipeline.errors import ConfigError

    config = load_config(tiny_config_dict(tiny_models))
    with pytest.raises(ConfigError, match="--workers must be at least 1, not 0"):
        run_folder_ray(config, tmp_path, tmp_path / "out", workers=0)


@pytest.mark.parametrize(
    "rows",
    [[], [{"text": "Saya membeli buku."}], [{"text": "Saya membeli buku.", "text_en": None}]],
)
def test_eval_without_any_pair_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[dict[str, str]]
) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert main(["eval", "--data", str(data)]) == EXIT_USAGE
    assert "no rows with both 'text' and 'text_en'" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_eval_limit_below_one_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["eval", "--data", str(tmp_path / "x.jsonl"), "--limit", limit])
    assert caught.value.code == EXIT_USAGE
    assert "--limit: must be at least 1" in capsys.readouterr().err
