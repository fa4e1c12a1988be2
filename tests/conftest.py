"""Shared fixtures: tiny models built once per test session, cached under pytest's cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import PipelineConfig, load_config
from tests.helpers import tiny_config_dict
from tests.support.make_tokenizers import tokenizer_files_digest

# The shared evaluation data beside the checkout (../shared/data/id-sentences): the package
# never guesses this path, so the tests name it (subprocesses inherit it). Only the tests of
# the splitter on gold data and of `id2en eval`'s default read it, and they skip, saying so,
# where it is absent (a clone on its own has no ../shared); the tiny models never read it.
SHARED_SENTENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "id-sentences"
if SHARED_SENTENCE_DATA.is_dir():
    os.environ.setdefault("ID2EN_SENTENCE_DATA", str(SHARED_SENTENCE_DATA))

# Bump when the builders' recipe changes; the committed tokenizer files are keyed by content.
BUILDER_VERSION = "3"


@pytest.fixture(scope="session")
def tiny_models(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with marian/ and bart/ tiny random-weight models (built once, reused)."""
    from tests.support.tiny_models import build_tiny_bart, build_tiny_marian

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    base = cache.mkdir("id2en-tiny-models") if cache else tmp_path_factory.mktemp("tiny")
    root = Path(base) / f"{BUILDER_VERSION}-{tokenizer_files_digest()[:12]}"
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
    """Counts the batches id2en's beam-search loop itself ran (not transformers' fallback).

    Through the public `lean_beam_search`: asked for scores, it returns (sequences, scores)
    from its own loop and the sequences alone from transformers'."""
    import pipeline.generation.beam_search as beam_search

    calls: list[int] = []
    original = beam_search.lean_beam_search

    def counting(*args: Any, return_scores: bool = False, **kwargs: Any) -> Any:
        output = original(*args, return_scores=True, **kwargs)
        if not isinstance(output, tuple):
            return output
        calls.append(1)
        return output if return_scores else output[0]

    monkeypatch.setattr(beam_search, "lean_beam_search", counting)
    return calls
