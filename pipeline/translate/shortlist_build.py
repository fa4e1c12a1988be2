"""Build a vocabulary shortlist file (`translate.shortlist`) from sentence pairs.

Pairs come from parallel data (JSONL rows with `text` and `text_en`, as `id2en eval` reads)
or from an earlier id2en run's records (each Indonesian sentence beside the full-vocabulary
model's English): the second needs no parallel data at all, and lists exactly the tokens
this model produces for this kind of text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.translate.shortlist import build_shortlist, write_shortlist


@dataclass
class ShortlistSummary:
    pairs: int = 0
    fixed: int = 0
    source_pieces: int = 0
    unlisted_runs: int = 0  # records from runs that themselves used a shortlist (skipped)


def pairs_from_run(out_dir: Path, summary: ShortlistSummary) -> Iterator[tuple[str, str]]:
    """(Indonesian sentence, English) from a run's finished records.

    Records translated with a shortlist already are passed over: a shortlist built from
    shortlisted outputs could only shrink.
    """
    from pipeline.output.records import iter_records

    for record in iter_records(out_dir):
        if record.get("status") != "ok":
            continue
        models = (record.get("meta") or {}).get("models") or {}
        translate = models.get("translate") or {}
        backend = str(translate.get("backend") or translate.get("engine") or "")  # 0.1: engine
        if "shortlist" in backend:
            summary.unlisted_runs += 1
            continue
        for sentence in record.get("sentences") or []:
            source, english = sentence.get("text"), sentence.get("en")
            if isinstance(source, str) and isinstance(english, str) and english.strip():
                yield source, english


def tokenized(tokenizer: Any, pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[list, list]]:
    """Source and target pieces, as the model's tokenizer splits each side."""
    for source, target in pairs:
        source_ids = tokenizer(source, add_special_tokens=False)["input_ids"]
        target_ids = tokenizer(text_target=target, add_special_tokens=False)["input_ids"]
        yield (
            tokenizer.convert_ids_to_tokens(source_ids),
            tokenizer.convert_ids_to_tokens(target_ids),
        )


def build_shortlist_file(
    tokenizer: Any,
    pairs: Iterable[tuple[str, str]],
    output: Path,
    *,
    frequent: int,
    per_source: int,
    summary: ShortlistSummary | None = None,
) -> ShortlistSummary:
    summary = summary or ShortlistSummary()
    counted = list(tokenized(tokenizer, pairs))
    summary.pairs = len(counted)
    if not counted:
        raise InputError("no sentence pairs to build a shortlist from")
    fixed, mapping = build_shortlist(counted, frequent=frequent, per_source=per_source)
    write_shortlist(output, fixed, mapping)
    summary.fixed, summary.source_pieces = len(fixed), len(mapping)
    return summary
