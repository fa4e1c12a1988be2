"""CTranslate2 models: the library, device and compute type, and converting a Hugging Face
model once into a cache folder keyed by model, revision and stored weight type."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ModelSource
from pipeline.errors import ModelLoadError
from pipeline.generation.model_identity import model_fingerprint
from pipeline.generation.models import SKIPPED_HUB_FILES, is_offline, load_error
from pipeline.output.atomic import atomic_folder

logger = logging.getLogger(__name__)

# Stored weight type per compute type: never store narrower than the compute type reads.
STORED = {
    "int8": "int8",
    "int8_float32": "int8",
    "int8_float16": "int8",
    "int8_bfloat16": "int8",
    "int16": "int16",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
}


def import_ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as exc:
        raise ModelLoadError(
            "the CTranslate2 backend needs the ctranslate2 package: "
            "pip install 'id2en[ctranslate2]' (or pip install ctranslate2)"
        ) from exc
    return ctranslate2


@dataclass(frozen=True)
class CT2Device:
    type: str  # "cpu" or "cuda"
    index: int = 0

    def __str__(self) -> str:
        return self.type if self.type == "cpu" else f"{self.type}:{self.index}"


def resolve_ct2_device(spec: str) -> CT2Device:
    ct2 = import_ctranslate2()
    gpus = ct2.get_cuda_device_count()
    if spec == "auto":
        return CT2Device("cuda") if gpus > 0 else CT2Device("cpu")
    if spec == "cpu":
        return CT2Device("cpu")
    if spec.startswith("cuda"):
        index = int(spec[5:]) if spec.startswith("cuda:") else 0
        if index >= gpus:
            raise ModelLoadError(
                f"device {spec!r} asked for, but CTranslate2 sees {gpus} CUDA device(s); "
                "use device: cpu or install a CUDA-enabled ctranslate2 wheel"
            )
        return CT2Device("cuda", index)
    raise ModelLoadError(f"translate.ctranslate2 runs on cpu or cuda, not {spec!r}")


def resolve_compute_type(spec: str, device: CT2Device) -> str:
    """'auto': int8 on CPU, int8_float16 on CUDA (fast, and near fp16 quality for Marian)."""
    if spec == "auto":
        return "int8" if device.type == "cpu" else "int8_float16"
    if spec not in STORED:
        raise ModelLoadError(
            f"translate.ct2_compute_type {spec!r} is not one of auto, {', '.join(STORED)}"
        )
    supported = import_ctranslate2().get_supported_compute_types(device.type, device.index)
    if spec not in supported:
        raise ModelLoadError(
            f"translate.ct2_compute_type {spec!r} is not supported on {device}; "
            f"this machine supports: {', '.join(sorted(supported))} (or use 'auto')"
        )
    return spec


def local_model_path(source: ModelSource) -> Path:
    """The model as a local folder: as given, or the pinned snapshot in the HF cache."""
    if Path(source.model).is_dir():
        return Path(source.model)
    from huggingface_hub import snapshot_download

    offline = is_offline(source)
    try:
        path = snapshot_download(
            source.model,
            revision=source.revision,
            cache_dir=source.cache_dir,
            local_files_only=offline,
            ignore_patterns=SKIPPED_HUB_FILES,
        )
    except Exception as exc:  # missing, offline or no access: one clear message
        raise load_error(source, exc) from exc
    return Path(path)


def is_native_folder(folder: Path) -> bool:
    """A folder that already holds a CTranslate2 model (model.bin, and a config.json that
    is CTranslate2's, not a transformers model's): used as it is, never converted."""
    if not (folder / "model.bin").is_file():
        return False
    config = read_json(folder / "config.json")
    return "model_type" not in config and "architectures" not in config


def native_tokenizer(source: ModelSource, folder: Path) -> Any:
    """A CTranslate2-native folder's own SentencePiece models as its tokenizer."""
    from pipeline.generation.sentencepiece_pair import (
        SPM_NAMES,
        SentencePiecePair,
        find_sentencepiece_models,
    )

    models = find_sentencepiece_models(folder)
    if models is None:
        names = ", ".join(f"{a} + {b}" if a != b else a for a, b in SPM_NAMES)
        raise ModelLoadError(
            f"{source.model} holds a CTranslate2 model but no SentencePiece models to "
            f"tokenize with ({folder}); looked for {names}\n"
            "  fix: put the model's source/target SentencePiece files beside model.bin "
            "under one of those names"
        )
    config = read_json(folder / "config.json")
    return SentencePiecePair(
        *models, eos=str(config.get("eos_token", "</s>")), unk=str(config.get("unk_token", "<unk>"))
    )


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, or {} when it is missing or not an object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def default_ct2_root() -> Path:
    """$ID2EN_CACHE/ctranslate2, else the user cache (XDG_CACHE_HOME or ~/.cache)/id2en/..."""
    if os.environ.get("ID2EN_CACHE"):
        return Path(os.environ["ID2EN_CACHE"]) / "ctranslate2"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "id2en" / "ctranslate2"


def converted_dir(root: Path, model: str, revision: str | None, stored: str) -> Path:
    """One folder per (model weights, revision, stored weight type)."""
    fingerprint = model_fingerprint(model, revision)
    digest = hashlib.sha256(f"{fingerprint}|{stored}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", Path(model).name if Path(model).is_dir() else model)
    return root / f"{slug.strip('-')}-{stored}-{digest}"


def ensure_converted(model_path: Path, target: Path, stored: str) -> Path:
    """Convert once; a finished folder is reused (concurrent converters race harmlessly)."""
    ct2 = import_ctranslate2()

    def convert(temp: Path) -> None:
        logger.info("converting %s to CTranslate2 (%s) in %s", model_path, stored, target)
        converter = converter_class()(str(model_path))
        converter.convert(str(temp), quantization=stored, force=True)

    return atomic_folder(target, convert, lambda folder: ct2.contains_model(str(folder)))


def with_vocabulary_map(model_dir: Path, vmap: Path, digest: str) -> Path:
    """A sibling of the converted folder with `vmap` as its vmap.txt.

    The weights are linked, not copied or re-converted: one conversion serves any number
    of shortlists.
    """

    def link(temp: Path) -> None:
        for item in model_dir.iterdir():
            (temp / item.name).symlink_to(item.resolve())
        shutil.copyfile(vmap, temp / "vmap.txt")

    target = model_dir.with_name(f"{model_dir.name}-vmap-{digest}")
    return atomic_folder(target, link, lambda folder: (folder / "vmap.txt").exists())


# Config attributes CTranslate2's converters read that transformers 5 no longer keeps,
# with the value every checkpoint of that architecture had: BART is post-norm (transformers
# 4 had `normalize_before=False` on BartConfig; 5.x dropped the unused field, and
# ctranslate2 4.x's BartLoader reads it); Pegasus is pre-norm with no embedding norm.
LEGACY_CONFIG_DEFAULTS = {
    "bart": {"normalize_before": False},
    "pegasus": {"normalize_before": True, "normalize_embedding": False},
}


def with_language_tokens(tokenizer: Any) -> Any:
    """M2M100Tokenizer with its __xx__ language tokens in get_vocab(), where ctranslate2's
    M2M-100 loader looks for them (transformers 5 no longer lists them as additional
    special tokens, so the converted vocabulary would lack them)."""
    languages = getattr(tokenizer, "lang_token_to_id", None)
    if not languages:
        return tokenizer
    vocabulary = {**tokenizer.get_vocab(), **languages}
    tokenizer.get_vocab = lambda: dict(vocabulary)
    return tokenizer


def with_start_token(tokenizer: Any) -> Any:
    """A tokenizer without a bos_token gets its cls_token (<s>) as one: transformers 5's
    MBart50Tokenizer has no bos_token unless a saved file names it, and the converter writes
    the missing token as null, which ctranslate2.Translator then cannot load."""
    if getattr(tokenizer, "bos_token", None) is None and getattr(tokenizer, "cls_token", None):
        tokenizer.bos_token = tokenizer.cls_token
    return tokenizer


def converter_class() -> type:
    """ctranslate2's TransformersConverter, with LEGACY_CONFIG_DEFAULTS filled in on load."""
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):  # type: ignore[misc]  # untyped library class
        def load_tokenizer(
            self, tokenizer_class: Any, model_name_or_path: str, **kwargs: Any
        ) -> Any:
            tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            return with_start_token(with_language_tokens(tokenizer))

        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            defaults = LEGACY_CONFIG_DEFAULTS.get(getattr(model.config, "model_type", ""), {})
            for name, value in defaults.items():
                if not hasattr(model.config, name):
                    setattr(model.config, name, value)
            scaled = getattr(model.config, "scale_decoder_outputs", None)
            if scaled is not None:
                # transformers 5 ties T5's head always and keeps "scale the decoder outputs"
                # (T5 v1.0 yes, v1.1/MADLAD/Flan-T5 no) here; ctranslate2 4.x reads that
                # from tie_word_embeddings, which 5.x forces to True.
                model.config.tie_word_embeddings = bool(scaled)
            return model

    return Converter
