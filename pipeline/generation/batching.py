"""Length-sorted batches under a token budget; callers restore order by index.

The budget counts *padded* tokens (longest item x items), because that is what the model
computes on. Sorting by length first keeps the padding small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


def longest_first(lengths: Sequence[int]) -> list[int]:
    """Indices by decreasing length (stable), so an out-of-memory shows on the first batch."""
    return sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))


def next_batch_end(
    order: Sequence[int],
    lengths: Sequence[int],
    start: int,
    max_tokens: int,
    max_items: int | None = None,
) -> int:
    """End (exclusive) of the batch that begins at order[start] and fits the budget.

    A batch always holds at least one item: one longer than the budget alone still runs
    (as a batch of one) rather than being dropped.
    """
    end, longest = start, 0
    while end < len(order):
        candidate = max(longest, lengths[order[end]])
        count = end - start + 1
        full = max_items is not None and count > max_items
        if end > start and (candidate * count > max_tokens or full):
            break
        longest, end = candidate, end + 1
    return end


def token_budget_batches(
    lengths: Sequence[int], max_tokens: int, max_items: int | None = None
) -> list[list[int]]:
    """Group item indices into batches whose padded size (longest x count) fits max_tokens.

    Items are sorted longest first so each batch pads little and an out-of-memory error,
    if any, shows up on the first batch. Nothing is ever dropped.

    >>> token_budget_batches([5, 40, 8, 38], max_tokens=80)
    [[1, 3], [2, 0]]
    """
    order = longest_first(lengths)
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        end = next_batch_end(order, lengths, start, max_tokens, max_items)
        batches.append(list(order[start:end]))
        start = end
    return batches


def padded_tokens(lengths: Sequence[int], batch: Sequence[int]) -> int:
    return max((lengths[i] for i in batch), default=0) * len(batch)


def restore_order(batches: Sequence[Sequence[int]], results: Sequence[Sequence[str]]) -> list[str]:
    """Put per-batch results back at their items' original positions."""
    total = sum(len(b) for b in batches)
    out: list[str | None] = [None] * total
    for batch, batch_results in zip(batches, results, strict=True):
        for index, result in zip(batch, batch_results, strict=True):
            out[index] = result
    missing = [i for i, r in enumerate(out) if r is None]
    if missing:
        raise RuntimeError(f"batching lost items {missing[:5]}")
    return [r for r in out if r is not None]


@dataclass
class MemoryBudget:
    """A token budget that follows free accelerator memory, capped by the configured one.

    Each finished batch reports its peak memory above the pre-batch level; the worst
    bytes-per-token seen so far, times the memory free now (with headroom), gives the next
    budget. Until a batch has been measured, `prior_bytes_per_token` (a deliberately
    pessimistic estimate from the model's sizes) stands in.
    """

    ceiling: int
    prior_bytes_per_token: float
    floor: int = 64
    headroom: float = 0.8  # leave a fifth for fragmentation and other tenants
    observed_bytes_per_token: float | None = None
    history: list[int] = field(default_factory=list)

    def observe(self, tokens: int, peak_bytes: int) -> None:
        if tokens <= 0 or peak_bytes <= 0:
            return
        per_token = peak_bytes / tokens
        worst = self.observed_bytes_per_token or 0.0
        self.observed_bytes_per_token = max(worst, per_token)

    def budget(self, free_bytes: int) -> int:
        per_token = self.observed_bytes_per_token or self.prior_bytes_per_token
        fit = int(free_bytes * self.headroom / max(per_token, 1.0))
        value = max(self.floor, min(self.ceiling, fit))
        self.history.append(value)
        return value


def prior_bytes_per_token(
    *, layers: int, d_model: int, ffn: int, vocab: int, dtype_bytes: int, out_ratio: float = 1.5
) -> float:
    """Pessimistic generation memory per padded source token per beam row.

    Counts the cross- and self-attention KV caches (outputs up to out_ratio x the input),
    the FFN activations, and the float32 logits rows (several live copies during search),
    spread over a short 8-token row so short sentences are not underestimated.
    """
    kv = 2 * layers * d_model * dtype_bytes * (1 + out_ratio)
    activations = 4 * (d_model + ffn) * dtype_bytes
    logits = 4 * vocab * 4 / 8
    return 2.0 * (kv + activations + logits)
