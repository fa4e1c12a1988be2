"""The seam between the stages and the inference libraries: a typed Backend protocol.

A stage holds a backend and asks it for token ids and generations; it never touches a
torch model or a CTranslate2 translator. Two backends implement it: transformers/torch
(pipeline.generation.torch_backend) and CTranslate2 (pipeline.generation.ctranslate2_backend).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Adjusts generation settings for one input (by its index), e.g. a length cap.
PerItem = Callable[[int, dict[str, Any]], dict[str, Any]]


@dataclass
class Generated:
    """One output of a generation, as the stages read it."""

    text: str
    output_tokens: int
    hit_length_limit: bool  # stopped at max length without an end-of-sequence token


class Backend(Protocol):
    """What a translate or summarize stage needs from an inference library."""

    tokenizer: Any  # the model's Hugging Face tokenizer (both backends use it)
    generation_defaults: dict[str, Any]  # the model's own generate() settings, by task
    max_input_tokens: int  # the encoder's window
    oom_retries: int  # batches retried in halves after running out of memory

    @property
    def backend_id(self) -> str:
        """What besides model and settings decides the outputs: library, precision, ..."""
        ...

    def token_ids(self, texts: Sequence[str], *, truncate_to: int | None = None) -> list[list[int]]:
        """Token ids with the tokenizer's special tokens; cut only when asked."""
        ...

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        settings: dict[str, Any],
        per_item: PerItem | None = None,
    ) -> list[Generated]:
        """One output per input, in input order, with transformers' generate() settings."""
        ...

    def describe(self) -> dict[str, Any]:
        """Model, revision, device, precision and backend id, for each record's meta."""
        ...
