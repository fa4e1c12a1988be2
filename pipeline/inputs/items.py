"""What discovery finds and reading takes: one input, an article to read.

Its own module so that the readers of each kind (reader.py for files and .jsonl rows,
tables.py for table rows, whose TableRow extends it) build on it without importing each
other both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.storage.objects import StoragePath


@dataclass(frozen=True)
class InputItem:
    """One article to read: a whole text file, or one row of a .jsonl file."""

    id: str
    path: StoragePath  # a local file, or an object in object storage
    line: int | None = None  # 1-based line number for .jsonl rows
    offset: int | None = None  # byte offset of that row, so reading it needs no rescan
    notes: tuple[str, ...] = ()  # warnings found while discovering, e.g. a renamed duplicate
    digest: str | None = None  # sha256 of the source bytes (the file, or the row's line)
    error: str | None = None  # found while discovering (a link not followed): not readable
    label: str | None = None  # how records name the file when `path` is a stand-in (stdin)

    @property
    def where(self) -> str:
        shown = self.label or str(self.path)
        return f"{shown}:{self.line}" if self.line else shown
