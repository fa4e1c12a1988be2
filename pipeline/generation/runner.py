"""Many inputs through one backend: token-budget batches, settings groups, required tokens
and out-of-memory halving, written once for every backend."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from pipeline.generation.backend import BackendCapabilities, Generated, PerItem, RequiredTokens
from pipeline.generation.batching import token_budget_batches
from pipeline.generation.settings import group_by_settings

logger = logging.getLogger(__name__)


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

    capabilities = BackendCapabilities()  # a subclass that can force tokens says so

    def __init__(self, *, max_batch_tokens: int, max_batch_items: int):
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_items = max_batch_items
        self.oom_retries = 0

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        settings: dict[str, Any],
        per_item: PerItem | None = None,
        required: Sequence[RequiredTokens] | None = None,
    ) -> list[Generated]:
        """Generate for each id list; `per_item` may adjust settings per input (length caps),
        `required` (one per input) holds token sequences to force into its output."""
        rows = self._required_rows(required, len(ids))
        beams = int(settings.get("num_beams") or 1)
        results: list[Generated | None] = [None] * len(ids)
        for batch in self.batches([len(x) for x in ids], beams):
            for group_settings, members in group_by_settings(batch, settings, per_item):
                outputs = self._run(ids, members, group_settings, rows)
                for index, out in zip(members, outputs, strict=True):
                    results[index] = out
        return [r for r in results if r is not None]

    def batches(self, lengths: list[int], beams: int) -> Iterator[list[int]]:
        """Indices of the inputs, batch by batch (the caller generates each before the next)."""
        budget = max(1, self.max_batch_tokens // beams)
        yield from token_budget_batches(lengths, budget, self.max_batch_items)

    def generate_batch(
        self,
        batch: list[Sequence[int]],
        settings: dict[str, Any],
        required: list[RequiredTokens] | None = None,
    ) -> list[Generated]:
        """One padded batch through the model; `required` (one per row) only when some row
        has requirements and the capabilities say the backend forces them."""
        raise NotImplementedError

    def free_memory(self) -> None:
        """Give cached device memory back before a retry."""

    def _required_rows(
        self, required: Sequence[RequiredTokens] | None, count: int
    ) -> Sequence[RequiredTokens] | None:
        """`required` if any input has requirements (None otherwise); refused when this
        backend cannot force them, so that no requirement is dropped unseen."""
        if required is None or not any(r.sequences for r in required):
            return None
        if len(required) != count:
            raise ValueError(f"{len(required)} required-token entries for {count} inputs")
        if not self.capabilities.forces_required_tokens:
            raise ValueError(f"{type(self).__name__} cannot force required tokens")
        return required

    def _run(
        self,
        ids: Sequence[Sequence[int]],
        members: list[int],
        settings: dict[str, Any],
        required: Sequence[RequiredTokens] | None,
    ) -> list[Generated]:
        rows = [required[i] for i in members] if required is not None else None
        if rows is not None and not any(r.sequences for r in rows):
            rows = None  # no row of this batch has requirements
        try:
            return self.generate_batch([ids[i] for i in members], settings, rows)
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
            return self._run(ids, members[:half], settings, required) + self._run(
                ids, members[half:], settings, required
            )
