"""Unique article ids: the first input in path order keeps an id; another input with the
same id, also ignoring case and Unicode normalisation (so records stay apart on macOS and
Windows), is recorded under a longer one ("a.md", "feed/7~line12"), and both say so.

Inputs arrive one at a time (a run's plan streams them), so the decision needs only the
ids already taken: `assign_id` asks `owner_of` about them, whatever holds them (a dict for
a list of inputs, the plan's on-disk table for a run).
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Callable, Iterable
from typing import NamedTuple

from pipeline.inputs.items import InputItem

logger = logging.getLogger(__name__)


class Owner(NamedTuple):
    """The input that holds an id: its position (in a list, or in the plan) and names."""

    position: int
    id: str
    where: str


class Clash(NamedTuple):
    """An input came second to `owner`'s id: `note` goes to the owner's warnings."""

    owner: Owner
    note: str


OwnerOf = Callable[[str], Owner | None]  # an id key -> the input holding it, if any


def id_key(article_id: str) -> str:
    """What two ids must differ in to be two records: more than case or normalisation."""
    return unicodedata.normalize("NFC", article_id).casefold()


def assign_id(item: InputItem, owner_of: OwnerOf) -> tuple[InputItem, Clash | None]:
    """`item` under an id no earlier input holds; with the clash when it had to change."""
    first = owner_of(id_key(item.id))
    if first is None:
        return item, None
    new_id = _free_id(item, owner_of)
    note = f"id {item.id!r} is also the id of {first.where}; recorded as {new_id!r}"
    logger.warning("%s: %s", item.where, note)
    renamed = dataclasses.replace(item, id=new_id, notes=(*item.notes, note))
    other = f"{_clash_prefix(first.id)}{item.where}, recorded as {new_id!r}"
    return renamed, Clash(first, other)


def _clash_prefix(owner_id: str) -> str:
    """How a clash's note on the input keeping the id begins (clash_noted counts them)."""
    return f"id {owner_id!r} is also the id of "


def _free_id(item: InputItem, owner_of: OwnerOf) -> str:
    """A longer id that says where the article came from: "a.md", "feed/7~line12"."""
    base = f"{item.id}~line{item.line}" if item.line else f"{item.id}{item.path.suffix}"
    candidate, number = base, 2
    while owner_of(id_key(candidate)) is not None:
        candidate, number = f"{base}~{number}", number + 1
    return candidate


# The input keeping an id names the first few that clashed with it, then says more did:
# a table whose id column repeats one value must not give one record 100,000 warnings.
MAX_CLASH_NOTES = 5


def clash_noted(owner: InputItem, note: str) -> tuple[str, ...]:
    """The owner's notes with a clash's `note`: one per clash up to MAX_CLASH_NOTES, then
    one saying that more inputs have the id (each of their own records names the owner)."""
    notes = owner.notes
    clashes = sum(1 for n in notes if n.startswith(_clash_prefix(owner.id)))
    if clashes < MAX_CLASH_NOTES:
        return (*notes, note)
    more = f"id {owner.id!r} is the id of more inputs too; each of their records names this one"
    return notes if more in notes else (*notes, more)


def unique_ids(items: Iterable[InputItem]) -> list[InputItem]:
    """`items` (in path order) with unique ids, held in memory."""
    owners: dict[str, Owner] = {}
    out: list[InputItem] = []
    for item in items:
        item, clash = assign_id(item, owners.get)
        if clash is not None:
            owner = out[clash.owner.position]
            out[clash.owner.position] = dataclasses.replace(
                owner, notes=clash_noted(owner, clash.note)
            )
        owners[id_key(item.id)] = Owner(len(out), item.id, item.where)
        out.append(item)
    return out
