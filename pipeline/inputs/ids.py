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
    other = f"id {first.id!r} is also the id of {item.where}, recorded as {new_id!r}"
    return renamed, Clash(first, other)


def _free_id(item: InputItem, owner_of: OwnerOf) -> str:
    """A longer id that says where the article came from: "a.md", "feed/7~line12"."""
    base = f"{item.id}~line{item.line}" if item.line else f"{item.id}{item.path.suffix}"
    candidate, number = base, 2
    while owner_of(id_key(candidate)) is not None:
        candidate, number = f"{base}~{number}", number + 1
    return candidate


def with_note(item: InputItem, note: str) -> InputItem:
    return dataclasses.replace(item, notes=(*item.notes, note))


def unique_ids(items: Iterable[InputItem]) -> list[InputItem]:
    """`items` (in path order) with unique ids, held in memory."""
    owners: dict[str, Owner] = {}
    out: list[InputItem] = []
    for item in items:
        item, clash = assign_id(item, owners.get)
        if clash is not None:
            position = clash.owner.position
            out[position] = with_note(out[position], clash.note)
        owners[id_key(item.id)] = Owner(len(out), item.id, item.where)
        out.append(item)
    return out
