"""The articles an input holds, streamed file by file and row by row, and reading each one.

Finding the files is discovery.py's job; here each file becomes its articles (a text file
one, a .jsonl file or a table one per row) in path order, so that a run's plan never needs
them all in memory at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import DecodeError, InputError
from pipeline.inputs.decoding import decode_bytes, html_to_text, looks_like_html
from pipeline.inputs.discovery import ROW_SUFFIXES, Found, find_inputs, shown
from pipeline.inputs.discovery import is_output_folder as is_output_folder  # re-exported
from pipeline.inputs.ids import unique_ids
from pipeline.inputs.items import InputItem as InputItem  # also importable from here
from pipeline.inputs.tables import (
    TABLE_SUFFIXES,
    TableOptions,
    TableRow,
    failed_table,
    read_row,
    table_items,
)
from pipeline.storage.objects import StoragePath
from pipeline.types import Article

logger = logging.getLogger(__name__)


# -- the articles of each file ------------------------------------------------------------


def discover(
    root: StoragePath,
    tables: TableOptions | None = None,
    *,
    exclude: StoragePath | None = None,
    follow_links: bool = False,
) -> list[InputItem]:
    """All articles under `root` (a folder, an object-storage prefix, or one file), in a
    stable order, with unique ids (inputs.ids), as a list: for a notebook or a test. A run
    streams the same articles through iter_items into its plan instead.

    Raises InputError when a folder holds no articles, or a file given on its own cannot
    be read as a table.
    """
    found = find_inputs(root, exclude=exclude, follow_links=follow_links)
    items = unique_ids(iter_items(found, tables or TableOptions()))
    if not items and not found.single:
        raise found.nothing_found()
    return items


def iter_items(found: Found, tables: TableOptions) -> Iterator[InputItem]:
    """Each article `found` holds, in path order (ids not yet made unique), one file's
    rows at a time. A file that fails while its rows are listed fails on its own: the
    rows before the failure are articles, the rest one failed item that names why."""
    for entry in found.entries():
        if isinstance(entry, InputItem):
            yield entry
            continue
        file_id, label = found.file_id(entry), shown(entry)
        try:
            for item in _file_items(entry, file_id, tables):
                yield item if label is None else _renamed(item, label)
        except InputError as exc:  # a table nothing can be read from
            if found.single:
                raise  # the whole input: a clear error before any work
            logger.warning("%s", exc)
            # The record's source names the file already.
            yield failed_table(entry, file_id, str(exc).removeprefix(f"{entry}: "))


def _renamed(item: InputItem, label: str) -> InputItem:
    """An item of a file whose name is not UTF-8, named by `label` (discovery.shown)."""
    note = "the file name is not UTF-8: its id and source write each byte that is not as %XX"
    return dataclasses.replace(item, label=label, notes=(note, *item.notes))


def _file_items(path: StoragePath, file_id: str, tables: TableOptions) -> Iterator[InputItem]:
    suffix = path.suffix.lower()
    if suffix in ROW_SUFFIXES or (suffix == ".json" and _holds_json_lines(path)):
        return _jsonl_items(path, file_id)
    if suffix in TABLE_SUFFIXES:
        return table_items(path, file_id, tables)
    return iter([InputItem(file_id, path, digest=_file_digest(path))])


def _holds_json_lines(path: StoragePath) -> bool:
    """A .json file whose first line is a whole JSON object: JSON lines under the other
    suffix (a list of objects starts with "[", one object over many lines does not parse)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
            if not head.startswith(b"{"):  # a list, or not JSON: the table reader says
                return False
            handle.seek(0)
            first = next((line for line in handle if line.strip()), b"")
        row = json.loads(first.decode("utf-8-sig"))
    except (OSError, ValueError):
        return False
    if isinstance(row, dict):
        logger.info("%s holds JSON lines (one object per line); reading it as .jsonl", path)
    return isinstance(row, dict)


def _file_digest(path: StoragePath) -> str | None:
    """The file's content digest; None if it cannot be read now (reading reports why)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            if isinstance(path, Path) and not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _jsonl_items(path: StoragePath, file_id: str) -> Iterator[InputItem]:
    """One item per non-blank line; a row's own `id` names it under the file's id."""
    offset = 0
    try:
        handle = path.open("rb")
    except OSError:
        yield InputItem(file_id or path.stem, path)  # read_article reports the error
        return
    number = 0
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    row_id = _row_id(raw) or str(number)
                    yield InputItem(
                        f"{file_id}/{row_id}" if file_id else row_id,
                        path,
                        line=number,
                        offset=offset,
                        digest=hashlib.sha256(raw.rstrip(b"\r\n")).hexdigest(),
                    )
                offset += len(raw)
        except OSError as exc:  # a read failing part way (object storage, a network disk)
            yield _lines_unread(path, file_id, number + 1, exc)


def _lines_unread(path: StoragePath, file_id: str, line: int, exc: OSError) -> InputItem:
    """The lines from `line` on, which could not be read: one failed item for them (the
    next run reads them again, and sets this item's record aside once it does)."""
    message = (
        f"cannot read the file from line {line} on: {exc.strerror or exc}; those rows were "
        "not read (run again to retry them)"
    )
    logger.warning("%s: %s", path, message)
    name = f"lines-from-{line}"
    return InputItem(f"{file_id}/{name}" if file_id else name, path, line=line, error=message)


def _row_id(raw: bytes) -> str | None:
    try:
        row = json.loads(raw)
    except ValueError:
        return None
    value = row.get("id") if isinstance(row, dict) else None
    return _LONE_SURROGATE.sub("\ufffd", str(value)) if value not in (None, "") else None


# JSON may escape half of a UTF-16 pair ("\ud800"); such text cannot be written as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(text: str) -> tuple[str, list[str]]:
    text, count = _LONE_SURROGATE.subn("\ufffd", text)
    if not count:
        return text, []
    return text, [f"replaced {count} lone UTF-16 surrogate(s) (invalid Unicode) with U+FFFD"]


# -- reading ----------------------------------------------------------------------


def read_article(item: InputItem, *, max_bytes: int | None = None) -> Article:
    """Read one input; raises InputError with a message fit for the record."""
    if item.error is not None:
        raise InputError(item.error)
    columns: dict[str, Any] = {}
    if isinstance(item, TableRow):
        text, notes, columns = read_row(item, max_bytes)
    elif item.line is not None:
        text, notes = _read_row(item, max_bytes)
    else:
        text, notes = _read_file(item.path, max_bytes)
    text, more = _strip_html(text, item.where)
    if not text.strip():
        raise InputError(_empty_message(text))
    article = Article(id=item.id, text=text, source=item.where)
    article.warnings.extend([*item.notes, *notes, *more])
    if columns:
        article.meta["columns"] = columns  # --keep-columns
    return article


def _read_file(path: StoragePath, max_bytes: int | None) -> tuple[str, list[str]]:
    if isinstance(path, Path) and path.is_symlink() and not path.exists():
        raise InputError(f"broken symbolic link to {os.readlink(path)!r}; fix or remove the link")
    try:
        info = path.stat()
        # A named pipe or device would block or never end; only plain files are read.
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file (a named pipe, socket or device?)")
        _check_size(info.st_size, max_bytes)
        with open(path, "rb") if isinstance(path, Path) else path.open("rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    if not data:
        raise InputError("empty file (0 bytes)")
    try:
        return decode_bytes(data)
    except DecodeError as exc:
        raise InputError(str(exc)) from None


def _check_size(size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise InputError(
            f"{_amount(size)} is over run.max_input_bytes ({_amount(max_bytes)}); "
            "split the file or raise the limit"
        )


def _check_line(line: bytes, max_bytes: int | None) -> None:
    """A .jsonl line read up to the limit and a byte past it (the rest is never read)."""
    if max_bytes is not None and len(line) > max_bytes:
        raise InputError(
            f"the line is longer than run.max_input_bytes ({_amount(max_bytes)}); split "
            "the article or raise the limit"
        )


def _amount(size: int) -> str:
    """Bytes as a person reads them: "12,000 bytes", "52.4 MB".

    >>> _amount(12_000), _amount(52_428_800)
    ('12,000 bytes', '52.4 MB')
    """
    return f"{size:,} bytes" if size < 100_000 else f"{size / 1e6:.1f} MB"


def _read_row(item: InputItem, max_bytes: int | None) -> tuple[str, list[str]]:
    try:
        # Past the limit the line is not read whole: the size check says so.
        raw = _LINES.read(item.path, item.offset or 0, -1 if max_bytes is None else max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    _check_line(raw, max_bytes)
    try:
        line = raw.decode("utf-8-sig" if item.offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"line is not UTF-8 (byte {exc.start}); JSON Lines files must be UTF-8"
        ) from None
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise InputError(f"not a valid JSON line ({exc}); the other rows still run") from None
    if not isinstance(row, dict) or not isinstance(row.get("text"), str):
        raise InputError('expected an object like {"id": "...", "text": "..."}')
    return _replace_surrogates(row["text"])


class _LineCursor:
    """One open handle on the .jsonl file whose rows are being read: a run reads them in
    order, so each line is a seek forward in the same handle (on object storage, ranged
    reads of what comes next) rather than a new open, and a new request, per row."""

    def __init__(self) -> None:
        self._key: tuple[StoragePath, tuple[int, ...]] | None = None
        self._handle: Any = None
        self._position = 0

    def read(self, path: StoragePath, offset: int, limit: int) -> bytes:
        # A local file rewritten since (a second run in one process) is opened anew; not
        # asked of an object: that would be a request per row.
        info = path.stat() if isinstance(path, Path) else None
        key = (path, (info.st_ino, info.st_size, info.st_mtime_ns) if info else ())
        if key != self._key or offset < self._position:
            self.close()
            self._handle, self._key = path.open("rb"), key
        try:
            self._handle.seek(offset)
            raw = bytes(self._handle.readline(limit))
        except OSError:
            self.close()  # the next row starts afresh
            raise
        self._position = offset + len(raw)
        return raw

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle, self._key, self._position = None, None, 0


_LINES = _LineCursor()


def _strip_html(text: str, where: str) -> tuple[str, list[str]]:
    """A web page saved as text: translate its visible text, never its markup."""
    if not looks_like_html(text):
        return text, []
    visible, tags = html_to_text(text)
    if not visible:
        raise InputError("an HTML page with no visible text")
    logger.info("%s is an HTML page; using its visible text", where)
    note = f"input is an HTML page: {tags} tags removed, {len(visible)} characters of text kept"
    return visible, [note]


def _empty_message(text: str) -> str:
    if not text:
        return "no text (empty)"
    return f"only whitespace ({len(text)} characters), no text to translate"
