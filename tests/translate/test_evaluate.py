"""`id2en eval` scores each variant side by side and reports bad data clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipeline.cli.main import EXIT_OK, EXIT_USAGE, main
from pipeline.translate.evaluate import load_pairs
from tests.helpers import tiny_config_dict

# References are placeholders: BLEU of tiny random models is only checked for its range.
ROWS = [
    {"text": "Hujan turun di Bogor.", "text_en": "reference one"},
    {"text": "Kalimat tanpa rujukan."},
    {"text": "Harga beras naik lagi.", "text_en": "reference two"},
]


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_rows_without_reference_are_passed_over(tmp_path: Path) -> None:
    pairs = load_pairs(write_rows(tmp_path / "d.jsonl", ROWS))
    assert pairs == [
        ("Hujan turun di Bogor.", "reference one"),
        ("Harga beras naik lagi.", "reference two"),
    ]
    assert load_pairs(tmp_path / "d.jsonl", limit=1) == pairs[:1]


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "text_en": "b"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"d\.jsonl:2: not a JSON line"):
        load_pairs(path)


def test_eval_prints_one_row_per_variant(
    tmp_path: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(tiny_config_dict(tiny_models)))
    data = write_rows(tmp_path / "d.jsonl", ROWS)
    code = main(
        [
            "eval",
            "-c",
            str(config),
            "--data",
            str(data),
            "--variant",
            "greedy=translate.num_beams=1",
        ]
    )
    assert code == EXIT_OK
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:5] == ["variant", "sents", "BLEU", "chrF", "score"]
    assert lines[-1].startswith("score: the model's mean log-probability per output token")
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == {"base", "greedy"}
    assert rows["base"][1] == "2"
    assert 0.0 <= float(rows["base"][2]) <= 100.0
    assert float(rows["base"][4]) <= 0.0 and float(rows["greedy"][4]) <= 0.0  # log-probs
    assert rows["base"][4] != rows["greedy"][4]  # a variant's scores are its own
    assert rows["base"][6] == "1.00"


def test_eval_without_data_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--data", str(tmp_path / "none.jsonl")]) == EXIT_USAGE
    assert "no evaluation data" in capsys.readouterr().err
