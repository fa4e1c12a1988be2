"""Memory and device faults, over-long input: the run finishes and nothing is dropped."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
import torch

from pipeline.api import Pipeline
from pipeline.config import load_config
from pipeline.engines.local import run_folder
from pipeline.generation.torch_backend import TorchBackend
from tests.helpers import tiny_config_dict
from tests.support.corpus import builtin_pairs

SENTENCES = [pair[0] for pair in builtin_pairs(400)]
# Words with no clause conjunction among them, so a cut can only fall between words.
WORDS = str.split("warga desa membangun jalan baru menuju pasar kota besar pada musim kemarau")


def _articles(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 9))) for _ in range(count)]


def _translate_only(models: Path, **sections: dict[str, Any]) -> Pipeline:
    return Pipeline.from_config(tiny_config_dict(models, stages={"summarize": None}, **sections))


# -- out of memory -------------------------------------------------------------------------


def _fail_big_batches(monkeypatch: pytest.MonkeyPatch, limit: int, error: Exception) -> list[int]:
    """Make generate() run out of memory on any batch of more than `limit` inputs."""
    real = TorchBackend.generate_batch
    served: list[int] = []

    def generate_once(self: TorchBackend, batch: list[Any], gen: dict[str, Any], *rest: Any) -> Any:
        if len(batch) > limit:
            raise error
        served.append(len(batch))
        return real(self, batch, gen, *rest)

    monkeypatch.setattr(TorchBackend, "generate_batch", generate_once)
    return served


@pytest.mark.parametrize(
    "error",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("CUDA error: out of memory"),
    ],
    ids=["OutOfMemoryError", "RuntimeError"],
)
def test_out_of_memory_retries_smaller_batches_with_the_same_outputs(
    tiny_models: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    texts = _articles(3)
    expected = _translate_only(tiny_models)(texts)
    served = _fail_big_batches(monkeypatch, 4, error)
    with caplog.at_level(logging.WARNING, logger="pipeline.generation.runner"):
        got = _translate_only(tiny_models)(texts)
    assert all(article.error is None for article in got)
    assert [[s.en for s in a.sentences] for a in got] == [
        [s.en for s in a.sentences] for a in expected
    ]
    assert served and max(served) <= 4
    assert "out of memory on a batch of" in caplog.text
    assert "retrying in halves" in caplog.text


def test_a_run_survives_out_of_memory_and_logs_it(
    tmp_path: Path,
    tiny_models: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for number, text in enumerate(_articles(3)):
        (root / f"a{number}.txt").write_text(text, encoding="utf-8")
    _fail_big_batches(monkeypatch, 4, torch.cuda.OutOfMemoryError("CUDA out of memory"))
    config = load_config(tiny_config_dict(tiny_models, stages={"summarize": None}))
    report = run_folder(config, root, tmp_path / "out")
    assert (report.done, report.failed) == (3, 0)
    assert "out of memory on a batch of" in caplog.text


def test_out_of_memory_on_a_single_sentence_fails_only_its_article(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = TorchBackend.generate_batch

    def generate_once(self: TorchBackend, batch: list[Any], gen: dict[str, Any], *rest: Any) -> Any:
        if any(len(ids) > 40 for ids in batch):  # only the long sentence's pieces
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real(self, batch, gen, *rest)

    monkeypatch.setattr(TorchBackend, "generate_batch", generate_once)
    long_one = " ".join(WORDS * 8) + "."
    texts = ["Harga beras naik lagi.", long_one, "Hujan turun di Bogor."]
    short, huge, other = _translate_only(tiny_models)(texts)
    assert short.error is None and other.error is None
    assert huge.error is not None and "OutOfMemoryError: CUDA out of memory" in huge.error


# -- over-long input -----------------------------------------------------------------------


def _unpunctuated(chars: int) -> str:
    words = [WORDS[i % len(WORDS)] for i in range(chars // 4)]
    return " ".join(words)[:chars].rsplit(" ", 1)[0]


def test_a_5000_char_sentence_without_punctuation_is_cut_between_words(
    tiny_models: Path,
) -> None:
    text = _unpunctuated(5000)
    article = _translate_only(tiny_models)(text)
    assert article.error is None and len(article.sentences) > 1
    assert all(len(s.text) <= 400 and s.en is not None for s in article.sentences)
    assert " ".join(s.text for s in article.sentences) == text  # nothing dropped
    cut = f"cut at word boundary: {len(text)} chars > 400"
    assert all(s.cut == cut for s in article.sentences)
    assert f"sentence 0: {cut}" in article.warnings


def test_a_sentence_over_the_model_window_is_translated_in_pieces(tiny_models: Path) -> None:
    pipe = _translate_only(tiny_models, split={"max_chars": None})
    article = pipe(_unpunctuated(5000))
    [sentence] = article.sentences
    assert sentence.en  # translated, not dropped
    assert sentence.cut is not None and "-token model window" in sentence.cut
    assert any(
        w.startswith("sentence 0: translated in ") and "pieces cut at clause boundaries" in w
        for w in article.warnings
    )


@pytest.mark.parametrize("strategy", ["chunk", "select", "truncate", "error"])
def test_summary_input_over_the_window_follows_the_long_input_strategy(
    tmp_path: Path, tiny_models: Path, strategy: str
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "long.txt").write_text(" ".join(_articles(1, seed=9)[0] for _ in range(6)))
    config = load_config(
        tiny_config_dict(tiny_models, summarize={"long_input": strategy, "max_new_tokens": 8})
    )
    run_folder(config, root, tmp_path / "out")
    record = json.loads((tmp_path / "out/records/long.json").read_text())
    assert "IndexError" not in (record["error"] or "")
    if strategy == "error":
        assert record["status"] == "failed"
        assert "over the model's 128-token window" in record["error"]
        assert "set it to 'chunk'" in record["error"]
    else:
        assert record["status"] == "ok" and record["summary"]
        assert record["meta"]["summary"]["input_tokens"] > 128
        assert record["meta"]["summary"]["strategy"] == strategy  # the record says how
    if strategy == "truncate":
        assert any(w.startswith("summary input truncated") for w in record["warnings"])
    if strategy == "select":
        assert any(w.startswith("summary input selected") for w in record["warnings"])


@pytest.mark.slow
def test_a_5_mb_article_completes(tmp_path: Path, tiny_models: Path) -> None:
    rng = random.Random(5)
    paragraphs, size = [], 0
    while size < 5_000_000:
        paragraphs.append(" ".join(rng.choice(SENTENCES) for _ in range(6)))
        size += len(paragraphs[-1]) + 2
    root = tmp_path / "in"
    root.mkdir()
    (root / "big.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    config = load_config(
        tiny_config_dict(tiny_models, stages={"summarize": "summarize.extractive"})
    )
    report = run_folder(config, root, tmp_path / "out")
    assert (report.done, report.failed) == (1, 0)
    record = json.loads((tmp_path / "out/records/big.json").read_text())
    assert len(record["sentences"]) > 80_000
    assert all(s["en"] is not None for s in record["sentences"])
    assert record["sentences"][-1]["paragraph"] == len(paragraphs) - 1
    assert record["summary"]
