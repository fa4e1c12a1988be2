"""The token-budget batcher: never over budget, never drops or repeats an item."""

from __future__ import annotations

import random

import pytest
import torch

from pipeline.generation.batching import (
    MemoryBudget,
    padded_tokens,
    prior_bytes_per_token,
    restore_order,
    token_budget_batches,
)


@pytest.mark.parametrize("seed", range(30))
def test_batches_fit_the_budget_and_keep_every_item(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.randint(1, 120) for _ in range(rng.randint(0, 300))]
    budget = rng.choice([50, 64, 200, 1000, 6000])
    max_items = rng.choice([None, 1, 7, 64])
    batches = token_budget_batches(lengths, budget, max_items)

    seen = sorted(i for batch in batches for i in batch)
    assert seen == list(range(len(lengths)))  # each item exactly once
    for batch in batches:
        assert batch, "no empty batches"
        if len(batch) > 1:  # a lone item longer than the budget still runs, alone
            assert padded_tokens(lengths, batch) <= budget
        if max_items is not None:
            assert len(batch) <= max_items


def test_batches_are_longest_first_so_padding_stays_small() -> None:
    lengths = [3, 50, 4, 49, 5, 48, 6]
    batches = token_budget_batches(lengths, 100)
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(lengths, reverse=True)
    assert batches[0] == [1, 3]  # 50 and 49: a third item would need 3 x 50 > 100


def test_an_item_over_the_budget_gets_a_batch_of_its_own() -> None:
    assert token_budget_batches([500, 2, 3], 100) == [[0], [2, 1]]


def test_restore_order_undoes_the_sorting() -> None:
    lengths = [5, 1, 9, 3, 7]
    batches = token_budget_batches(lengths, 12)
    results = [[f"out{i}" for i in batch] for batch in batches]
    assert restore_order(batches, results) == [f"out{i}" for i in range(5)]


def test_memory_budget_follows_free_memory_within_floor_and_ceiling() -> None:
    budget = MemoryBudget(ceiling=48_000, prior_bytes_per_token=100_000.0)
    gib = 1 << 30
    assert budget.budget(80 * gib) == 48_000  # plenty free: the configured ceiling
    assert budget.budget(1 * gib) == int(gib * 0.8 / 100_000)  # pressure: shrinks
    assert budget.budget(1000) == 64  # never below the floor
    budget.observe(tokens=1000, peak_bytes=400_000_000)  # measured: 400 kB per token
    assert budget.budget(1 * gib) == int(gib * 0.8 / 400_000)
    budget.observe(tokens=1000, peak_bytes=100_000_000)  # a cheaper batch does not relax it
    assert budget.observed_bytes_per_token == 400_000


def test_prior_estimate_is_in_a_sane_range_for_opus_mt() -> None:
    per_token = prior_bytes_per_token(layers=6, d_model=512, ffn=2048, vocab=54_796, dtype_bytes=2)
    assert 50_000 < per_token < 1_000_000


def test_generator_sizes_each_batch_from_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA path, simulated: batches shrink as free memory drops, none is lost."""
    from pipeline.generation import torch_backend as generation

    calls: list[int] = []

    def mem_get_info() -> tuple[int, int]:  # plenty for two batches, then scarce
        calls.append(1)
        return (10**12 if len(calls) <= 2 else 200_000), 10**12

    # torch's public CUDA memory calls, as a device would answer them
    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda *a, **k: 0)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda *a, **k: 0)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda *a, **k: None)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a, **k: 4_000_000)
    generator = generation.TorchBackend.__new__(generation.TorchBackend)
    generator.max_batch_tokens, generator.max_batch_items = 4000, None
    generator.memory_budget = MemoryBudget(ceiling=4000, prior_bytes_per_token=10.0)
    rng = random.Random(1)
    lengths = [rng.randint(5, 60) for _ in range(200)]
    batches = list(generator.batches(lengths, beams=2))
    assert sorted(i for b in batches for i in b) == list(range(200))
    budgets = generator.memory_budget.history
    assert budgets[0] == 4000 and budgets[-1] < 4000  # shrank once memory got scarce
    for batch, budget in zip(batches, budgets, strict=True):
        if len(batch) > 1:
            assert padded_tokens(lengths, batch) * 2 <= budget
