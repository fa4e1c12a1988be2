"""Length-sorted batches under a token budget; callers restore order by index."""

from __future__ import annotations

from collections.abc import Sequence


def token_budget_batches(
    lengths: Sequence[int], max_tokens: int, max_items: int | None = None
) -> list[list[int]]:
    """Group item indices into batches whose padded size (longest x count) fits max_tokens.

    Items are sorted longest first so each batch pads little and an out-of-memory
    error, if any, shows up on the first batch. An item longer than the budget on its
    own still gets a batch of one: nothing is ever dropped.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        candidate_longest = max(longest, lengths[index])
        too_many = max_items is not None and len(current) >= max_items
        if current and (candidate_longest * (len(current) + 1) > max_tokens or too_many):
            batches.append(current)
            current, candidate_longest = [], lengths[index]
        current.append(index)
        longest = candidate_longest
    if current:
        batches.append(current)
    return batches


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
