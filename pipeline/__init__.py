"""id2en: Indonesian -> English translation and summarization for folders of articles."""

from typing import Any

from pipeline.types import Article, Sentence

__version__ = "0.2.0"

__all__ = [
    "Article",
    "Pipeline",
    "Sentence",
    "__version__",
    "load_config",
    "load_records",
    "split_sentences",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import pipeline` must stay cheap (no torch) for the CLI's --help and config.
    if name == "Pipeline":
        from pipeline.api import Pipeline

        return Pipeline
    if name == "load_config":
        from pipeline.config import load_config

        return load_config
    if name == "split_sentences":
        from pipeline.splitter import split_sentences

        return split_sentences
    if name == "load_records":
        from pipeline.output.dataset import load_records

        return load_records
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
