"""translate.ctranslate2 on a folder that already holds a CTranslate2 model (quickmt's
layout: model.bin, CTranslate2's config.json, src.spm.model / tgt.spm.model), used as it
is: no conversion, no transformers files, its own SentencePiece models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.main import EXIT_OK, main
from pipeline.config import ModelSource, load_config
from pipeline.errors import ModelLoadError
from pipeline.generation.ctranslate2_models import local_model_path
from pipeline.generation.model_identity import LOCAL_IDENTITY, model_identity
from pipeline.generation.models import download_models
from tests.generation.test_multilingual import stage
from tests.helpers import SENTENCES

pytest.importorskip("ctranslate2")


@pytest.fixture(scope="module")
def native(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Marian converted once, with its SentencePiece models beside it and the
    source end token added by CTranslate2 (as native exports do) instead of a tokenizer."""
    from pipeline.generation.ctranslate2_models import converter_class

    root = tmp_path_factory.mktemp("native")
    folder = root / "quickmt-tiny"
    converter_class()(str(tiny_models / "marian")).convert(str(folder), quantization="float32")
    shutil.copyfile(tiny_models / "marian" / "source.spm", folder / "src.spm.model")
    shutil.copyfile(tiny_models / "marian" / "target.spm", folder / "tgt.spm.model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"add_source_eos": True}))
    return folder


def test_a_native_folder_translates_as_the_converted_model(
    tiny_models: Path, native: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not [p for p in native.iterdir() if p.name.startswith(("tokenizer", "vocab.json"))]
    converted = stage(tiny_models, "marian", "ctranslate2", num_beams=2).translate_texts(SENTENCES)

    def no_conversion(*args: Any) -> Any:
        raise AssertionError("a native folder must not be converted")

    monkeypatch.setattr("pipeline.generation.ctranslate2_backend.ensure_converted", no_conversion)
    # The tiny Marian's generation config forces </s> at the limit; the native folder has
    # none, so it is given here to compare like with like.
    translator = stage(
        native.parent, native.name, "ctranslate2", num_beams=2, extra={"forced_eos_token_id": 0}
    )
    outputs = translator.translate_texts(SENTENCES)
    for text in SENTENCES:
        assert outputs[text] == converted[text]
        assert outputs[text].score == pytest.approx(converted[text].score, abs=5e-4)
    assert translator.backend.describe()["model"] == str(native)


def test_the_quality_preset_runs_quickmt_as_it_ships(
    native: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-c quality`: quickmt-id-en on CTranslate2 at full precision; here with the tiny
    native folder and the tiny BART in the two model settings, nothing else changed."""
    config = load_config("quality")
    assert config.stages.translate == "translate.ctranslate2"
    assert config.translate.model == "quickmt/quickmt-id-en"
    assert config.translate.ct2_compute_type == "float32"
    models = ["--set", f"translate.model={native}", "--set", f"summarize.model={tiny_models}/bart"]
    assert main(["summarize", "-c", "quality", *models, "Saya membeli buku."]) == EXIT_OK
    assert capsys.readouterr().out.strip()  # a summary of the English


def test_a_native_folder_has_a_content_identity(native: Path, tmp_path: Path) -> None:
    identity = model_identity(ModelSource(model=str(native)))
    assert identity is not None and identity.startswith(LOCAL_IDENTITY)
    copy = Path(shutil.copytree(native, tmp_path / "copy"))
    assert model_identity(ModelSource(model=str(copy))) == identity  # content, not place
    (copy / "tgt.spm.model").write_bytes(b"changed")
    assert model_identity(ModelSource(model=str(copy))) != identity


def test_a_native_folder_without_sentencepiece_models_is_a_clear_error(
    native: Path, tmp_path: Path
) -> None:
    bare = Path(shutil.copytree(native, tmp_path / "bare"))
    (bare / "src.spm.model").unlink()
    with pytest.raises(ModelLoadError, match="no SentencePiece models to tokenize with"):
        _ = stage(tmp_path, "bare", "ctranslate2").backend


# quickmt/quickmt-id-en's files (its hub listing): a CTranslate2 model, and the eole
# training checkpoint (eole-model/, 824 MB) that id2en never reads.
QUICKMT_FILES = [
    ".gitattributes",
    "README.md",
    "config.json",
    "eole-config.yaml",
    "model.bin",
    "source_vocabulary.json",
    "src.spm.model",
    "target_vocabulary.json",
    "tgt.spm.model",
    "training-id.md",
    ".ipynb_checkpoints/README-checkpoint.md",
    "eole-model/config.json",
    "eole-model/en.spm.model",
    "eole-model/id.spm.model",
    "eole-model/model.00.safetensors",
    "eole-model/vocab.json",
]


def test_a_hub_download_skips_what_id2en_never_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways a hub model is fetched (the CTranslate2 backend, `id2en models download`)
    leave quickmt's eole-model/ behind."""
    import huggingface_hub
    from huggingface_hub.utils import filter_repo_objects

    fetched: list[list[str]] = []

    def snapshot_download(repo_id: str, **kwargs: Any) -> str:
        fetched.append(list(filter_repo_objects(QUICKMT_FILES, **_patterns(kwargs))))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr("pipeline.generation.models.hub_unreachable", lambda source: None)
    source = ModelSource(model="quickmt/quickmt-id-en")
    local_model_path(source)
    download_models([source])
    needed = {"config.json", "model.bin", "src.spm.model", "tgt.spm.model"}
    for files in fetched:
        assert needed <= set(files)
        assert not [f for f in files if f.startswith(("eole-model/", ".ipynb_checkpoints/"))]
    assert len(fetched) == 2


def _patterns(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.get(k) for k in ("allow_patterns", "ignore_patterns")}
