"""Shared fixtures: tiny models built once per test session, cached under pytest's cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import PipelineConfig, load_config
from tests.helpers import tiny_config_dict

# The shared evaluation data beside the checkout (../shared/data/id-sentences): the package
# never guesses this path, so the tests name it (subprocesses inherit it).
os.environ.setdefault(
    "ID2EN_SENTENCE_DATA",
    str(Path(__file__).resolve().parents[2] / "shared" / "data" / "id-sentences"),
)

BUILDER_VERSION = "2"  # bump when the tiny models' recipe changes, to rebuild the cache


@pytest.fixture(scope="session")
def tiny_models(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with marian/ and bart/ tiny random-weight models (built once, reused)."""
    from pipeline.devtools.tiny_models import build_tiny_bart, build_tiny_marian

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    base = cache.mkdir("id2en-tiny-models") if cache else tmp_path_factory.mktemp("tiny")
    root = Path(base) / BUILDER_VERSION
    done = root / ".complete"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        build_tiny_marian(root / "marian")
        build_tiny_bart(root / "bart")
        done.touch()
    return root


@pytest.fixture()
def tiny_config(tiny_models: Path) -> PipelineConfig:
    return load_config(tiny_config_dict(tiny_models))


@pytest.fixture
def counted_search(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of id2en's beam-search loop itself (not transformers' fallback)."""
    import pipeline.generation.beam_search as beam_search

    calls: list[int] = []
    original = beam_search._search

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(beam_search, "_search", counting)
    return calls
