"""The seam between the stages and the inference libraries: a typed Backend protocol.

A stage holds a backend and asks it for token counts, token ids, decoded text and
generations; it never touches a tokenizer, a torch model or a CTranslate2 translator, and
never asks which library it holds: what differs between backends is said by their
`capabilities`. Two backends implement it: transformers/torch
(pipeline.generation.torch_backend) and CTranslate2 (pipeline.generation.ctranslate2_backend).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# Adjusts generation settings for one input (by its index), e.g. a length cap.
PerItem = Callable[[int, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class BackendCapabilities:
    """What a backend can do beyond the Backend protocol's common ground."""

    # generate() forces each input's RequiredTokens into its output; a backend without it
    # refuses them, and a stage checks its outputs and retries elsewhere instead.
    forces_required_tokens: bool = False


@dataclass(frozen=True)
class RequiredTokens:
    """The target token sequences one input's output must hold (glossary terms, URLs)."""

    sequences: tuple[tuple[int, ...], ...] = ()


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
    scale: float = tokens ** (length_penalty - 1.0)
    return float(search_score) * scale


class VocabularyShortlist(Protocol):
    """Candidates for a batch's output layer, from its sources' tokens: what a backend reads
    from a shortlist (pipeline.translate.shortlist.Shortlist)."""

    digest: str
    path: Path | None  # the file, which CTranslate2 reads as its vocabulary map
    sizes: list[int]  # candidates per batch, appended by the torch backend

    def candidates(self, sources: Iterable[Sequence[str]]) -> set[str]: ...


class Backend(Protocol):
    """What a translate or summarize stage needs from an inference library."""

    generation_defaults: dict[str, Any]  # the model's own generate() settings, by task
    max_input_tokens: int  # the encoder's window
    oom_retries: int  # batches retried in halves after running out of memory

    @property
    def backend_id(self) -> str:
        """What besides model and settings decides the outputs: library, precision, ..."""
        ...

    @property
    def capabilities(self) -> BackendCapabilities:
        """What this backend can do that another may not (forcing required tokens)."""
        ...

    def token_ids(
        self,
        texts: Sequence[str],
        *,
        truncate_to: int | None = None,
        special_tokens: bool = True,
    ) -> list[list[int]]:
        """Source-side token ids, with the tokenizer's begin/end tokens unless
        `special_tokens` is False; cut to `truncate_to` tokens only when asked."""
        ...

    def count_tokens(self, texts: Sequence[str], *, special_tokens: bool = True) -> list[int]:
        """How many source-side tokens each text makes (see token_ids)."""
        ...

    def target_token_ids(self, text: str) -> tuple[int, ...]:
        """`text` as output-side token ids, as it reads inside a sentence (no special tokens)."""
        ...

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Token ids back to text."""
        ...

    def truncate(self, text: str, window: int) -> str:
        """The text its first `window` tokens (begin/end tokens counted) hold."""
        ...

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        settings: dict[str, Any],
        per_item: PerItem | None = None,
        required: Sequence[RequiredTokens] | None = None,
    ) -> list[Generated]:
        """One output per input, in input order, with transformers' generate() settings.
        `required` (one entry per input) asks for token sequences to be forced into the
        outputs; only a backend whose capabilities say so accepts it."""
        ...

    def describe(self) -> dict[str, Any]:
        """Model, revision, device, precision and backend id, for each record's meta."""
        ...
