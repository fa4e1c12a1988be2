"""Developer tools: offline tiny/random model folders for tests and benchmarks.

Builders are imported lazily so ``pipeline.devtools.corpus`` (and ``python -m
pipeline.devtools.tiny_models``) do not pay for, or double-import, torch/transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "build_random_distilbart",
    "build_random_marian",
    "build_tiny_bart",
    "build_tiny_marian",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("pipeline.devtools.tiny_models"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
