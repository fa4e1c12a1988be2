"""Invalid Unicode from JSON escapes is replaced and reported, never a crashed write."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config import load_config
from pipeline.engines.local import run_folder
from tests.helpers import tiny_config_dict


def test_lone_surrogates_in_a_jsonl_row_are_replaced_and_reported(
    tmp_path: Path, tiny_models: Path
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    rows = (
        '{"id": "a\\udc00", "text": "Halo \\ud800 dunia. Apa kabar?"}\n'
        '{"id": "b", "text": "Baik."}\n'
    )
    (root / "rows.jsonl").write_text(rows, encoding="utf-8")
    config = load_config(tiny_config_dict(tiny_models, stages={"summarize": None}))
    report = run_folder(config, root, tmp_path / "out")
    assert (report.done, report.failed) == (2, 0)
    records = [json.loads(line) for line in (tmp_path / "out/records.jsonl").open()]
    first = next(r for r in records if r["id"] == "rows/a\ufffd")
    assert "\ufffd" in first["text"]
    assert "replaced 1 lone UTF-16 surrogate(s) (invalid Unicode) with U+FFFD" in first["warnings"]
