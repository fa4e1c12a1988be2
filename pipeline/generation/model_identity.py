"""What a configured model name stands for, without loading it: which exact weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.config import ModelSource

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".h5", ".msgpack", ".spm", ".json", ".model")
_WEIGHT_SAMPLE = 1 << 20  # bytes read from each end of a big (weights) file
LOCAL_IDENTITY = "sha256:"  # a local folder's identity: its content, wherever it lies


def model_fingerprint(model: str, revision: str | None) -> str:
    """Identify a model's exact weights: the revision, or for a local folder its files.

    A local folder has no revision, and a rebuilt model at the same path must not reuse old
    translations, so its files' names, sizes and modification times stand in for one.
    """
    path = Path(model)
    if not path.is_dir():
        return f"{model}@{revision or 'default'}"
    parts = [
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in sorted(path.iterdir())
        if p.is_file() and p.suffix in _WEIGHT_SUFFIXES
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return f"{path.resolve()}@{revision or 'local'}:{digest}"


def model_identity(source: ModelSource) -> str | None:
    """What the model name resolves to, without loading it: a local folder's file digest,
    or the hub commit the cache holds. None when unknown (not downloaded yet)."""
    folder = Path(source.model)
    if folder.is_dir():
        return LOCAL_IDENTITY + _folder_digest(folder)
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(
            source.model, "config.json", cache_dir=source.cache_dir, revision=source.revision
        )
    except Exception:  # an odd name or cache layout: identity unknown, not an error
        return None
    return f"commit:{Path(found).parent.name}" if isinstance(found, str) else None


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}\n".encode())
        with path.open("rb") as handle:
            if size <= 2 * _WEIGHT_SAMPLE:
                digest.update(handle.read())
            else:  # weights: the header and both ends tell two checkpoints apart
                digest.update(handle.read(_WEIGHT_SAMPLE))
                handle.seek(size - _WEIGHT_SAMPLE)
                digest.update(handle.read())
    return digest.hexdigest()[:16]
