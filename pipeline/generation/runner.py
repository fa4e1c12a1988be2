"""Many inputs through one backend: token-budget batches, settings groups and
out-of-memory halving, written once for every backend."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from pipeline.generation.backend import Generated, PerItem
from pipeline.generation.batching import token_budget_batches
from pipeline.generation.settings import group_by_settings

logger = logging.getLogger(__name__)


def token_ids(
    tokenizer: Any, texts: Sequence[str], *, truncate_to: int | None = None
) -> list[list[int]]:
    """Token ids with the tokenizer's special tokens; cut only when `truncate_to` asks."""
    kwargs: dict[str, Any] = {"truncation": True, "max_length": truncate_to} if truncate_to else {}
    return list(tokenizer(list(texts), **kwargs)["input_ids"])


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's out-of-memory error, from torch or from CTranslate2 (a plain RuntimeError)."""
    try:
        import torch

        oom_type: Any = getattr(torch.cuda, "OutOfMemoryError", ())
    except ImportError:
        oom_type = ()
    return isinstance(exc, oom_type) or "out of memory" in str(exc).lower()


class BatchedBackend:
    """The batching half of a Backend; a subclass generates one padded batch.

    Inputs are sorted by length and cut into batches of `max_batch_tokens` padded tokens
    (counted with beams) and at most `max_batch_items` inputs; outputs come back in input
    order. A batch that runs out of memory is retried in halves with a halved budget.
    """

    tokenizer: Any

    def __init__(self, *, max_batch_tokens: int, max_batch_items: int):
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_items = max_batch_items
        self.oom_retries = 0

    def token_ids(self, texts: Sequence[str], *, truncate_to: int | None = None) -> list[list[int]]:
        return token_ids(self.tokenizer, texts, truncate_to=truncate_to)

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        settings: dict[str, Any],
        per_item: PerItem | None = None,
    ) -> list[Generated]:
        """Generate for each id list; `per_item` may adjust settings per input (length caps)."""
        beams = int(settings.get("num_beams") or 1)
        results: list[Generated | None] = [None] * len(ids)
        for batch in self.batches([len(x) for x in ids], beams):
            for group_settings, members in group_by_settings(batch, settings, per_item):
                outputs = self._run(ids, members, group_settings)
                for index, out in zip(members, outputs, strict=True):
                    results[index] = out
        return [r for r in results if r is not None]

    def batches(self, lengths: list[int], beams: int) -> Iterator[list[int]]:
        """Indices of the inputs, batch by batch (the caller generates each before the next)."""
        budget = max(1, self.max_batch_tokens // beams)
        yield from token_budget_batches(lengths, budget, self.max_batch_items)

    def generate_batch(
        self, batch: list[Sequence[int]], settings: dict[str, Any]
    ) -> list[Generated]:
        """One padded batch through the model."""
        raise NotImplementedError

    def free_memory(self) -> None:
        """Give cached device memory back before a retry."""

    def _run(
        self, ids: Sequence[Sequence[int]], members: list[int], settings: dict[str, Any]
    ) -> list[Generated]:
        try:
            return self.generate_batch([ids[i] for i in members], settings)
        except RuntimeError as exc:
            if not is_out_of_memory(exc) or len(members) == 1:
                raise
            self.free_memory()
            self.oom_retries += 1
            self.max_batch_tokens = max(64, self.max_batch_tokens // 2)
            logger.warning(
                "out of memory on a batch of %d; retrying in halves (budget now %d tokens)",
                len(members),
                self.max_batch_tokens,
            )
            half = len(members) // 2
            return self._run(ids, members[:half], settings) + self._run(
                ids, members[half:], settings
            )
