"""Summarizers beyond BART: T5 (a `summarize: ` prefix from task_specific_params, a
512-token window) and Pegasus (128 positions here), on both backends, map-reducing at
their own windows with their checkpoints' generation defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.main import EXIT_OK, main
from pipeline.config import load_config
from pipeline.summarize.stage import SummarizeStage
from tests.helpers import tiny_config_dict
from tests.summarize.test_stage import english_article
from tests.support.tiny_models import (
    TINY_PEGASUS_SUMMARIZATION,
    TINY_T5_SUMMARIZATION,
    build_tiny_pegasus,
    build_tiny_t5_summarizer,
)

WINDOWS = {"t5": 512, "pegasus": 128}
DEFAULTS = {"t5": TINY_T5_SUMMARIZATION, "pegasus": TINY_PEGASUS_SUMMARIZATION}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("summarizers")
    build_tiny_t5_summarizer(root / "t5")
    build_tiny_pegasus(root / "pegasus")
    return root


def stage(models: Path, family: str, backend: str = "torch", **summarize: Any) -> SummarizeStage:
    settings = {"model": str(models / family), "num_beams": 2, **summarize}
    if backend == "ctranslate2":
        settings |= {"ct2_model_dir": str(models / "ct2"), "ct2_compute_type": "float32"}
    config = load_config(tiny_config_dict(models, summarize=settings))
    name = f"summarize.{'seq2seq' if backend == 'torch' else 'ctranslate2'}"
    return SummarizeStage(config, name=name, backend=backend)  # type: ignore[arg-type]


def test_t5_inputs_open_with_its_task_prefix(models: Path) -> None:
    backend = stage(models, "t5").backend
    ids = backend.token_ids(["The river project was discussed."])[0]
    assert backend.decode(ids, skip_special_tokens=True).startswith("summarize: The river")
    assert "prefix" not in backend.generation_defaults  # a prefix is input, not a setting
    plain = stage(models, "pegasus").backend
    assert plain.decode(plain.token_ids(["The river."])[0], skip_special_tokens=True) == (
        "The river."
    )


@pytest.mark.parametrize("family", list(WINDOWS))
def test_window_and_generation_defaults_come_from_the_model(models: Path, family: str) -> None:
    summarizer = stage(models, family, num_beams=None)
    assert summarizer.window == WINDOWS[family]
    settings = summarizer.generation_settings
    expected = {k: v for k, v in DEFAULTS[family].items() if k != "prefix"}
    assert {k: settings[k] for k in expected} == expected


@pytest.mark.slow
@pytest.mark.parametrize("family", list(WINDOWS))
@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
def test_long_text_is_map_reduced_at_the_models_window(
    models: Path, family: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "ctranslate2":
        pytest.importorskip("ctranslate2")
    summarizer = stage(models, family, backend)
    window = summarizer.window
    inputs: list[int] = []
    generate = summarizer.backend.generate

    def spying(ids: Any, *args: Any, **kwargs: Any) -> Any:
        inputs.extend(len(x) for x in ids)
        return generate(ids, *args, **kwargs)

    monkeypatch.setattr(summarizer.backend, "generate", spying)
    article = english_article(3 * window // 16)
    english = " ".join(s.en or "" for s in article.sentences)
    assert summarizer.backend.count_tokens([english])[0] > 2 * window
    summarizer([article])
    assert article.error is None and article.summary
    info = article.meta["summary"]
    assert info["strategy"] == "chunk" and info["levels"] >= 2
    assert len(info["partial_summaries"][0]) >= 2
    assert inputs and max(inputs) <= window  # every chunk fits, the prefix counted
    assert max(inputs) > window // 2  # and chunks fill the window, not a smaller one


@pytest.mark.slow
@pytest.mark.parametrize("family", list(WINDOWS))
def test_ctranslate2_summaries_agree_with_torch(models: Path, family: str) -> None:
    pytest.importorskip("ctranslate2")
    texts = [s.en or "" for s in english_article(4).sentences]
    torch_out = stage(models, family).backend
    ct2_out = stage(models, family, "ctranslate2").backend
    settings = stage(models, family).generation_settings
    ids = torch_out.token_ids(texts)
    assert max(len(x) for x in ids) <= WINDOWS[family]
    # CTranslate2 bans repeated n-grams before its softmax: transformers' renormalize_logits
    # (tests/summarize/test_ctranslate2.py shows the difference on BART).
    expected = torch_out.generate(ids, settings | {"renormalize_logits": True})
    got = ct2_out.generate(ids, settings)
    assert got == expected  # text, tokens counted, limit hit
    # torch rescores an output once, without the n-gram bans' renormalisation (see
    # TorchBackend._rescore): close, not equal, under renormalize_logits.
    assert [g.score for g in got] == pytest.approx([e.score for e in expected], abs=2e-2)


@pytest.mark.parametrize("family", list(WINDOWS))
@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
def test_the_model_folder_is_the_only_summarize_setting(
    models: Path,
    tiny_models: Path,
    family: str,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`id2en summarize --set summarize.model=FOLDER` on the default config: prefix, window
    and generation defaults come from the model (the translator is the tiny opus-mt,
    its output cut short to keep the test quick)."""
    if backend == "ctranslate2":
        pytest.importorskip("ctranslate2")
    monkeypatch.setenv("ID2EN_CACHE", str(tmp_path / "cache"))  # the converted model
    args = ["summarize", "--set", f"summarize.model={models / family}"]
    args += ["--set", f"translate.model={tiny_models / 'marian'}"]
    args += ["--set", "translate.max_new_tokens=12"]
    if backend == "ctranslate2":
        args += ["--set", "stages.summarize=summarize.ctranslate2"]
    text = "Presiden membahas rencana anggaran baru. Petani menolak jembatan kecil."
    assert main([*args, text]) == EXIT_OK
    assert capsys.readouterr().out.strip()  # a summary
    if backend == "ctranslate2":
        assert list((tmp_path / "cache" / "ctranslate2").iterdir())  # it ran converted
