"""A hub that cannot be reached is found out once, quickly, and said once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import ModelSource
from pipeline.generation.models import hub_unreachable, is_offline, load_seq2seq

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


def _offline_env(hf_home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env.update(HF_ENDPOINT=UNREACHABLE, HF_HOME=str(hf_home))
    return env


@pytest.mark.slow
def test_translate_without_a_reachable_hub_fails_at_once_with_one_message(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "translate", "Presiden meresmikan jembatan."],
        env=_offline_env(tmp_path / "hf-home"),
        capture_output=True,
        text=True,
        timeout=45,  # the hub's own retries took ~50 s before; the probe makes it seconds
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert not any("Retrying in" in line or "thrown while requesting" in line for line in lines)
    assert sum(line.startswith("id2en: ") for line in lines) == 1
    message = done.stderr
    assert f"could not reach the Hugging Face hub at {UNREACHABLE}" in message
    assert "Helsinki-NLP/opus-mt-id-en" in message
    assert len(lines) <= 4, message


@pytest.mark.slow
def test_models_download_without_a_reachable_hub_fails_at_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "models", "download", "-c", "default"],
        env=_offline_env(tmp_path / "hf-home"),
        capture_output=True,
        text=True,
        timeout=45,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 3, done.stderr
    assert "Retrying in" not in done.stderr
    assert f"could not reach the Hugging Face hub at {UNREACHABLE}" in done.stderr


def _hub_cache_holding(model_folder: Path, cache: Path, repo_id: str) -> Path:
    """A Hugging Face cache laid out as a download leaves it: refs/main names the snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    shutil.copytree(model_folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return cache


def test_an_unreachable_hub_still_loads_what_the_cache_holds(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", UNREACHABLE)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    cache = _hub_cache_holding(tiny_models / "marian", tmp_path / "hub", "id2en-test/marian")
    source = ModelSource(model="id2en-test/marian", cache_dir=str(cache))
    assert hub_unreachable(source) is not None
    assert is_offline(source)
    loaded = load_seq2seq(source, device="cpu")
    assert loaded.name == "id2en-test/marian"


def test_a_local_folder_never_probes_the_hub(
    tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.generation import hub_access

    def fail(endpoint: str | None = None) -> str | None:
        raise AssertionError("probed the hub for a local folder")

    monkeypatch.setattr(hub_access, "unreachable_reason", fail)
    source = ModelSource(model=str(tiny_models / "marian"))
    assert hub_unreachable(source) is None
    assert not is_offline(source)


def test_hub_warnings_are_printed_once(tmp_path: Path) -> None:
    script = (
        "from pipeline.cli.main import main\n"
        "main(['config', 'list'])\n"
        "from huggingface_hub.utils import logging as hub_logging\n"
        "hub_logging.get_logger('huggingface_hub.utils._http').warning('hub says hello')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stderr.count("hub says hello") == 1, done.stderr
