"""Generation settings: the model's defaults with the config's overrides, and grouping."""

from __future__ import annotations

from typing import Any

from pipeline.generation.backend import PerItem


def generation_kwargs(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The model's defaults with config fields laid over them one by one.

    >>> generation_kwargs({"num_beams": 6, "max_length": 512}, {"max_new_tokens": 40})
    {'num_beams': 6, 'max_length': None, 'max_new_tokens': 40}
    """
    merged = {**defaults, **overrides}
    # generate() prefers max_new_tokens over max_length; when the user sets max_new_tokens,
    # unset the model's max_length explicitly so the two never disagree behind their back.
    if "max_new_tokens" in overrides and "max_length" not in overrides:
        merged["max_length"] = None
    min_len, max_new = merged.get("min_length"), merged.get("max_new_tokens")
    if min_len is not None and max_new is not None and min_len > max_new:
        merged["min_length"] = max_new
    return merged


def group_by_settings(
    batch: list[int], gen: dict[str, Any], per_item: PerItem | None
) -> list[tuple[dict[str, Any], list[int]]]:
    """Split a batch into groups that share generation settings (per-item length caps)."""
    if per_item is None:
        return [(gen, batch)]
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for index in batch:
        settings = per_item(index, gen)
        groups.setdefault(repr(sorted(settings.items())), (settings, []))[1].append(index)
    return list(groups.values())
