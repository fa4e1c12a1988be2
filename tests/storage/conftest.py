"""What the object-storage tests share: a corpus with a Parquet table beside its files,
and the tiny models' config with the extractive summarizer (no abstractive model runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import PipelineConfig
from tests.helpers import extractive_config, write_files


def corpus_with_a_table(root: Path, files: dict[str, str]) -> Path:
    """`files` and a Parquet table, arsip.parquet (read through ranged reads on a store)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_files(root, files)
    rows = {"id": ["p1", "p2"], "text": ["Banjir surut di Jakarta.", "Pasar ramai sekali."]}
    pq.write_table(pa.table(rows), root / "arsip.parquet")
    return root


@pytest.fixture
def config(tiny_models: Path) -> PipelineConfig:
    return extractive_config(tiny_models, run={"batch_articles": 2})
