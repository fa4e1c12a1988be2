"""Model loading: device/dtype choice, lazy and cached loading, download errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pipeline.cli.main import EXIT_OK, main
from pipeline.config import ModelSource
from pipeline.errors import EXIT_MODEL
from pipeline.generation.models import (
    ModelLoadError,
    download_models,
    load_seq2seq,
    resolve_device,
    resolve_dtype,
)


def test_cpu_device_and_fp32_by_default() -> None:
    device = resolve_device("cpu")
    assert device.type == "cpu"
    assert resolve_dtype("auto", device) == torch.float32
    assert resolve_dtype("bfloat16", device) == torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_a_gpu_says_how_to_fix() -> None:
    with pytest.raises(ModelLoadError, match=r"sees no CUDA GPU.*device: cpu"):
        resolve_device("cuda:0")


def test_loading_twice_returns_the_same_objects(tiny_models: Path) -> None:
    source = ModelSource(model=str(tiny_models / "marian"), local_files_only=True)
    first = load_seq2seq(source, device="cpu", task="translation")
    second = load_seq2seq(source, device="cpu", task="translation")
    assert first is second
    assert first.max_input_tokens == 512
    assert not first.model.training


def test_local_folder_needs_no_download(tiny_models: Path) -> None:
    source = ModelSource(model=str(tiny_models / "bart"))
    assert download_models([source]) == [str(tiny_models / "bart")]


def test_download_failure_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as info:
        download_models([ModelSource(model="no-such-org/no-such-model")])
    assert "no-such-org/no-such-model" in str(info.value)
    assert "fix:" in str(info.value)


def test_models_download_command(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "models",
        "download",
        "--set",
        f"translate.model={tiny_models / 'marian'}",
        "--set",
        f"summarize.model={tiny_models / 'bart'}",
    ]
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        f"{tiny_models / 'marian'}: {tiny_models / 'marian'} (a local folder: nothing to download)"
        in out
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["models", "download", "--set", "stages.summarize=null"]) == EXIT_MODEL
    assert "Helsinki-NLP/opus-mt-id-en" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["translate", "-c", "tiny", "Halo."], ["models", "download", "-c", "tiny"]]
)
def test_tiny_config_without_its_models_names_the_command_that_builds_them(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .tiny-models/ here
    assert main(command) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "'.tiny-models/marian' does not exist" in err
    assert "`python -m tests.support.tiny_models .tiny-models`" in err
