"""A run's inputs on disk, in order: the plan a run reads back batch by batch.

A table of millions of rows must not cost the driver an object per row (the Ray driver
grew ~2 KB per row holding them): every input goes into a SQLite table in a private
temporary database instead (`sqlite3.connect("")`: SQLite deletes its file when the
connection closes or the process ends, kill -9 included), and memory holds one batch.
What each file's inputs share (class, path, table options, label) is stored once.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from pipeline.inputs.ids import Owner, clash_noted, id_key
from pipeline.inputs.items import InputItem
from pipeline.output.records import record_name

_SCHEMA = """
CREATE TABLE items (
    seq INTEGER PRIMARY KEY,  -- the input's place in path order, from 0
    id BLOB NOT NULL,  -- UTF-8 (surrogatepass): sorts as Python sorts str
    key BLOB NOT NULL UNIQUE,  -- inputs.ids.id_key of the id
    record TEXT NOT NULL,  -- its record's name under records/ (output.records.record_name)
    todo INTEGER NOT NULL DEFAULT 1,
    has_record INTEGER NOT NULL DEFAULT 0,  -- found when planning, or written since
    source INTEGER NOT NULL,  -- what it shares with its file's inputs (_Source, in memory)
    line INTEGER,
    offset INTEGER,
    notes TEXT,
    digest TEXT,
    error TEXT
);
"""


def _blob(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text(blob: bytes) -> str:
    return blob.decode("utf-8", "surrogatepass")


@dataclasses.dataclass(frozen=True)
class _Source:
    """What the inputs of one file share."""

    kind: type[InputItem]
    shared: tuple[tuple[str, Any], ...]  # (field, value) of the fields not stored per row


_PER_ROW = ("id", "line", "offset", "notes", "digest", "error")


class PlanStore:
    """Inputs added in order (`add`), each with whether it is to do, read back by range."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # a private temporary file, gone when closed
        # Nothing here must survive a crash: no journal, no syncs.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)
        self._sources: dict[_Source, int] = {}
        self._protos: dict[int, _Source] = {}
        self.count = 0
        self._record_index = False
        self._last: tuple[tuple[Any, ...], int] | None = None

    def close(self) -> None:
        self.db.close()

    # -- writing ------------------------------------------------------------------------

    def add(self, item: InputItem) -> int | None:
        """Store `item` and return its place; None, storing nothing, when an earlier input
        holds its id (ignoring case and normalisation: inputs.ids.id_key)."""
        source = self._source_of(item)
        seq = self.count
        added = self.db.execute(
            "INSERT OR IGNORE INTO items"
            " (seq, id, key, record, source, line, offset, notes, digest, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                _blob(item.id),
                _blob(id_key(item.id)),
                record_name(item.id),
                source,
                item.line,
                item.offset,
                json.dumps(item.notes) if item.notes else None,
                item.digest,
                item.error,
            ),
        )
        if not added.rowcount:
            return None
        self.count += 1
        return seq

    def add_clash_note(self, seq: int, note: str) -> None:
        """The input at `seq` keeps its id; another had it too (inputs.ids.clash_noted)."""
        item = self.item(seq)
        notes = clash_noted(item, note)
        if notes != item.notes:
            self.db.execute("UPDATE items SET notes = ? WHERE seq = ?", (json.dumps(notes), seq))

    def set_done(self, seqs: list[int]) -> None:
        """These inputs are done already (a finished record made from the same source)."""
        self.db.executemany("UPDATE items SET todo = 0 WHERE seq = ?", [(s,) for s in seqs])

    def set_has_record(self, ids: list[str]) -> None:
        """These inputs (by id) have a record: found, or written by this run."""
        rows = [(_blob(id_key(article_id)),) for article_id in ids]
        self.db.executemany("UPDATE items SET has_record = 1 WHERE key = ?", rows)

    def _source_of(self, item: InputItem) -> int:
        # The common case: the next row of the same file (the same objects).
        same = (type(item), item.path, item.label, getattr(item, "options", None))
        last = self._last
        if last is not None and all(a is b for a, b in zip(same, last[0], strict=True)):
            return last[1]
        fields = dataclasses.fields(item)
        shared = tuple((f.name, getattr(item, f.name)) for f in fields if f.name not in _PER_ROW)
        source = _Source(type(item), shared)
        number = self._sources.get(source)
        if number is None:
            number = self._sources[source] = len(self._sources)
            self._protos[number] = source
        self._last = (same, number)
        return number

    # -- reading ------------------------------------------------------------------------

    def owner(self, key: str) -> Owner | None:
        """The input holding the id `key` (inputs.ids), if any."""
        row = self.db.execute("SELECT seq FROM items WHERE key = ?", (_blob(key),)).fetchone()
        if row is None:
            return None
        item = self.item(row[0])
        return Owner(row[0], item.id, item.where)

    def item(self, seq: int) -> InputItem:
        return next(self.items(seq, seq + 1))[1]

    def items(self, start: int, stop: int) -> Iterator[tuple[bool, InputItem]]:
        """(to do, input) of the inputs at places start..stop-1, in order."""
        rows = self.db.execute(
            "SELECT todo, source, id, line, offset, notes, digest, error FROM items"
            " WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, stop),
        ).fetchall()
        for todo, source, article_id, line, offset, notes, digest, error in rows:
            proto = self._protos[source]
            item = proto.kind(
                id=_text(article_id),
                line=line,
                offset=offset,
                notes=tuple(json.loads(notes)) if notes else (),
                digest=digest,
                error=error,
                **dict(proto.shared),
            )
            yield bool(todo), item

    def places_to_do(self, size: int) -> list[int]:
        """The numbers of the groups of `size` consecutive inputs with anything to do."""
        query = "SELECT DISTINCT seq / ? FROM items WHERE todo ORDER BY 1"
        return [row[0] for row in self.db.execute(query, (size,))]

    def sorted_ids(self) -> Iterator[str]:
        """The ids of the inputs with a record, sorted as Python sorts strings (UTF-8
        bytes sort by code point)."""
        query = "SELECT id FROM items WHERE has_record ORDER BY id"
        for (article_id,) in self.db.execute(query):
            yield _text(article_id)

    def has_record(self, record: str) -> bool:
        """Whether `record` (a record's name under records/) belongs to one of the inputs."""
        if not self._record_index:  # built when first asked: only resumed runs ask
            self.db.execute("CREATE INDEX items_record ON items (record)")
            self._record_index = True
        query = "SELECT 1 FROM items WHERE record = ? LIMIT 1"
        return self.db.execute(query, (record,)).fetchone() is not None

    def folders(self) -> set[Any]:
        """The folders the inputs' files are in (a standard input copy in use is one)."""
        return {dict(p.shared)["path"].parent for p in self._protos.values()}
