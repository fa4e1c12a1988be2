"""The seam between the stages and the inference libraries: a typed Backend protocol.

A stage holds a backend and asks it for token ids and generations; it never touches a
torch model or a CTranslate2 translator. Two backends implement it: transformers/torch
(pipeline.generation.torch_backend) and CTranslate2 (pipeline.generation.ctranslate2_backend).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Adjusts generation settings for one input (by its index), e.g. a length cap.
PerItem = Callable[[int, dict[str, Any]], dict[str, Any]]


@dataclass
class Generated:
    """One output of a generation, as the stages read it."""

    text: str
    output_tokens: int
    hit_length_limit: bool  # stopped at max length without an end-of-sequence token
    # Confidence: the chosen hypothesis' log-probability divided by its output_tokens
    # (the end token counted): the mean log-probability per token, <= 0, the same
    # definition on every backend whatever the length_penalty (see mean_log_prob). Not part
    # of equality: two loops that agree on the output agree on it only up to rounding.
    score: float | None = field(default=None, compare=False)


def mean_log_prob(search_score: float, tokens: int, length_penalty: float) -> float:
    """A beam search's score -> mean log-probability per token.

    transformers (`sequences_scores`, id2en's loop) and CTranslate2 (`return_scores`) both
    rank finished hypotheses by sum(log p) / tokens ** length_penalty, tokens counting the
    end token; undoing the penalty makes scores comparable across settings and backends.
    """
    if tokens <= 0:
        return 0.0
    return float(search_score) * tokens ** (length_penalty - 1.0)


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
