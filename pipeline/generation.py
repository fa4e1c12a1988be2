"""Batched tokenize -> generate -> decode, shared by the translate and summarize stages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.batching import (
    MemoryBudget,
    longest_first,
    next_batch_end,
    prior_bytes_per_token,
    token_budget_batches,
)
from pipeline.models import LoadedModel

logger = logging.getLogger(__name__)


@dataclass
class Generated:
    text: str
    output_tokens: int
    hit_length_limit: bool  # stopped at max length without an end-of-sequence token


def generation_kwargs(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The model's defaults with config fields laid over them one by one."""
    merged = {**defaults, **overrides}
    # generate() prefers max_new_tokens over max_length; when the user sets max_new_tokens,
    # unset the model's max_length explicitly so the two never disagree behind their back.
    if "max_new_tokens" in overrides and "max_length" not in overrides:
        merged["max_length"] = None
    min_len, max_new = merged.get("min_length"), merged.get("max_new_tokens")
    if min_len is not None and max_new is not None and min_len > max_new:
        merged["min_length"] = max_new
    return merged


def token_ids(
    tokenizer: Any, texts: Sequence[str], *, truncate_to: int | None = None
) -> list[list[int]]:
    """Token ids with the tokenizer's special tokens; cut only when `truncate_to` asks."""
    kwargs: dict[str, Any] = {"truncation": True, "max_length": truncate_to} if truncate_to else {}
    return list(tokenizer(list(texts), **kwargs)["input_ids"])


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    oom_type = getattr(torch.cuda, "OutOfMemoryError", ())
    return isinstance(exc, oom_type) or "out of memory" in str(exc).lower()


class Generator:
    """Runs generate() over many inputs in token-budget batches, halving on out-of-memory."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_batch_tokens: int,
        max_batch_items: int,
        adapt_to_memory: bool = False,
        search_loop: str = "id2en",
    ):
        self.loaded = loaded
        self.search_loop = search_loop
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_items = max_batch_items
        self.oom_retries = 0
        # On CUDA, shrink the budget to what free memory holds (see MemoryBudget).
        self.memory_budget: MemoryBudget | None = None
        if adapt_to_memory and getattr(loaded.device, "type", "cpu") == "cuda":
            self.memory_budget = MemoryBudget(max_batch_tokens, _prior_bytes(loaded))

    def token_ids(self, texts: Sequence[str], *, truncate_to: int | None = None) -> list[list[int]]:
        return token_ids(self.loaded.tokenizer, texts, truncate_to=truncate_to)

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        gen: dict[str, Any],
        per_item: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> list[Generated]:
        """Generate for each id list; `per_item` may adjust settings per input (length caps)."""
        beams = int(gen.get("num_beams") or 1)
        lengths = [len(x) for x in ids]
        results: list[Generated | None] = [None] * len(ids)
        for batch in self._batches(lengths, beams):
            groups = group_by_settings(batch, gen, per_item)
            for settings, members in groups:
                for index, out in zip(members, self._run(ids, members, settings), strict=True):
                    results[index] = out
        return [r for r in results if r is not None]

    def _batches(self, lengths: list[int], beams: int) -> Iterator[list[int]]:
        """Token-budget batches; with a memory budget, each is sized when it is due."""
        if self.memory_budget is None:
            budget = max(1, self.max_batch_tokens // beams)
            yield from token_budget_batches(lengths, budget, self.max_batch_items)
            return
        order, start = longest_first(lengths), 0
        while start < len(order):
            tokens = min(self.max_batch_tokens, self.memory_budget.budget(_free_cuda_bytes()))
            end = next_batch_end(
                order, lengths, start, max(1, tokens // beams), self.max_batch_items
            )
            batch = list(order[start:end])
            before = _cuda_peak_reset()
            yield batch  # the caller generates it before asking for the next one
            peak = _cuda_peak() - before
            padded = max(lengths[i] for i in batch) * len(batch) * beams
            self.memory_budget.observe(padded, peak)
            start = end

    def _run(
        self, ids: Sequence[Sequence[int]], members: list[int], gen: dict[str, Any]
    ) -> list[Generated]:
        try:
            return self._generate_once([ids[i] for i in members], gen)
        except RuntimeError as exc:
            if not is_out_of_memory(exc) or len(members) == 1:
                raise
            self._free_memory()
            self.oom_retries += 1
            self.max_batch_tokens = max(64, self.max_batch_tokens // 2)
            logger.warning(
                "out of memory on a batch of %d; retrying in halves (budget now %d tokens)",
                len(members),
                self.max_batch_tokens,
            )
            half = len(members) // 2
            return self._run(ids, members[:half], gen) + self._run(ids, members[half:], gen)

    def _free_memory(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _generate_once(self, batch: list[Sequence[int]], gen: dict[str, Any]) -> list[Generated]:
        import torch

        loaded, tok = self.loaded, self.loaded.tokenizer
        padded = tok.pad({"input_ids": [list(x) for x in batch]}, return_tensors="pt")
        on_gpu = loaded.device.type == "cuda"
        inputs = {
            k: (
                v.pin_memory().to(loaded.device, non_blocking=True)
                if on_gpu
                else v.to(loaded.device)
            )
            for k, v in padded.items()
        }
        if self.search_loop == "id2en":
            from pipeline.beam_search import lean_beam_search

            gen = {**gen, "custom_generate": lean_beam_search}
        with torch.inference_mode():
            output = loaded.model.generate(**inputs, **gen)
        sequences = output.cpu() if on_gpu else output
        texts = tok.batch_decode(sequences, skip_special_tokens=True)
        return [
            _describe_output(seq, text, gen, loaded)
            for seq, text in zip(sequences, texts, strict=True)
        ]


def _prior_bytes(loaded: LoadedModel) -> float:
    config = loaded.model.config
    element = loaded.dtype.itemsize if hasattr(loaded.dtype, "itemsize") else 4
    return prior_bytes_per_token(
        layers=int(getattr(config, "decoder_layers", None) or getattr(config, "num_layers", 12)),
        d_model=int(getattr(config, "d_model", None) or getattr(config, "hidden_size", 1024)),
        ffn=int(getattr(config, "decoder_ffn_dim", None) or 4096),
        vocab=int(getattr(config, "vocab_size", 50000)),
        dtype_bytes=int(element),
    )


def _free_cuda_bytes() -> int:
    """Free device memory plus what torch holds cached but unused (it can reuse that)."""
    import torch

    free, _ = torch.cuda.mem_get_info()
    return int(free + torch.cuda.memory_reserved() - torch.cuda.memory_allocated())


def _cuda_peak_reset() -> int:
    import torch

    torch.cuda.reset_peak_memory_stats()
    return int(torch.cuda.memory_allocated())


def _cuda_peak() -> int:
    import torch

    return int(torch.cuda.max_memory_allocated())


def group_by_settings(
    batch: list[int],
    gen: dict[str, Any],
    per_item: Callable[[int, dict[str, Any]], dict[str, Any]] | None,
) -> list[tuple[dict[str, Any], list[int]]]:
    """Split a batch into groups that share generation settings (per-item length caps)."""
    if per_item is None:
        return [(gen, batch)]
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for index in batch:
        settings = per_item(index, gen)
        groups.setdefault(repr(sorted(settings.items())), (settings, []))[1].append(index)
    return list(groups.values())


def _describe_output(
    sequence: Any, text: str, gen: dict[str, Any], loaded: LoadedModel
) -> Generated:
    pad = loaded.model.generation_config.pad_token_id
    tokens = [int(t) for t in sequence]
    while len(tokens) > 1 and tokens[-1] == pad:  # batch padding after an early end
        tokens.pop()
    # Length is the only stop besides end-of-sequence, and forced_eos puts an EOS on a cut
    # output too, so an output that reached the limit is the honest signal of truncation.
    new_tokens = len(tokens) - 1  # the first token is the decoder start
    if gen.get("max_new_tokens") is not None:
        hit = new_tokens >= int(gen["max_new_tokens"])
    else:
        hit = gen.get("max_length") is not None and len(tokens) >= int(gen["max_length"])
    return Generated(text=text.strip(), output_tokens=new_tokens, hit_length_limit=hit)
