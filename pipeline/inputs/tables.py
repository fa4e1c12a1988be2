"""Articles stored as rows of a table: Parquet, CSV/TSV, or a JSON file holding a list of
objects. Every row is one article.

Rows are streamed, never read whole: discovery reads only the id column, batch by batch,
and reading a row goes through one forward-moving cursor per process, so a run over a
table touches each batch once however big the file. A problem in one row fails that row;
a problem that makes the rest of a file unreadable (a CSV quote never closed, a damaged
Parquet page, invalid JSON) fails one item that stands for those rows, and every row
before it still runs.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.inputs.items import InputItem
from pipeline.storage.objects import StoragePath

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json")

BATCH_ROWS = 1024  # rows decoded at a time; memory holds about one batch of texts
JSON_CHUNK_CHARS = 1 << 20
JSON_MAX_OBJECT_CHARS = 1 << 28  # past this an object that will not parse is given up on
# A CSV cell may hold a long article; Python's default limit (128 KiB) would fail it.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))

Row = dict[str, Any] | str  # a row's values, or why the row cannot be read


@dataclass(frozen=True)
class TableOptions:
    """Which columns hold what; --text-column, --id-column and --keep-columns on the CLI."""

    text_column: str = "text"
    id_column: str | None = None  # None: "id" when the table has it, else the row number
    keep_columns: tuple[str, ...] = ()
    delimiter: str | None = None  # CSV: None sniffs it (see csv_delimiter)

    @classmethod
    def from_run(cls, run: Any) -> TableOptions:
        """From a config's `run` section (run.text_column, run.id_column, run.keep_columns,
        run.delimiter)."""
        return cls(run.text_column, run.id_column, tuple(run.keep_columns), run.delimiter)


@dataclass(frozen=True)
class TableRow(InputItem):
    """One row of a table (`line` is its 1-based row number), or, with `error`, the rows
    from `line` on that could not be read."""

    options: TableOptions = TableOptions()

    @property
    def where(self) -> str:
        shown = self.label or str(self.path)
        if self.error and self.line is None:
            return shown
        return f"{shown} row {self.line}"


class _RestUnreadable(Exception):
    """Rows from `row` (0-based) on cannot be read; `message` says why and how to fix it."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


def is_table(path: StoragePath) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


# -- discovering --------------------------------------------------------------------------


def table_items(path: StoragePath, file_id: str, options: TableOptions) -> Iterator[InputItem]:
    """One item per row, named "<file id>/<row id>" (just "<row id>" when `file_id` is ""),
    streamed: only a batch of rows is in memory at a time.

    Raises InputError, before any row, when nothing in the file can be read (no such
    column, not a table).
    """
    columns = _columns(path, options.delimiter)
    _check_columns(path, columns, options)
    return _table_items(path, file_id, options, columns)


def _table_items(
    path: StoragePath, file_id: str, options: TableOptions, columns: list[str]
) -> Iterator[InputItem]:
    id_column = options.id_column or ("id" if "id" in columns else None)
    content = _content_columns(options)
    wanted = list(dict.fromkeys([*([id_column] if id_column else []), *content]))
    no_id = _NoIds()
    next_row = 0  # the first row not yet listed
    unread = True  # nothing listed, not even rows that failed
    try:
        for row, values in _rows(path, wanted, delimiter=options.delimiter):
            next_row = row + 1
            row_id = _row_id(values, id_column, options.text_column)
            notes: tuple[str, ...] = ()
            if row_id is None and id_column is not None:
                no_id.add(row + 1)
                notes = (f"no id in column {id_column!r}; recorded under its row number",)
            elif isinstance(values, _BadRow) and row_id is not None:
                notes = (values.id_note(id_column or "", row_id),)
            row_id = row_id or str(row + 1)
            name = f"{file_id}/{row_id}" if file_id else row_id
            digest = _row_digest(values, options)
            unread = False
            yield TableRow(name, path, line=row + 1, notes=notes, digest=digest, options=options)
    except _RestUnreadable as exc:
        logger.warning("%s: %s", path, exc.message)
        unread = False
        yield _rows_unread(path, file_id, exc.row, exc.message, options)
    except OSError as exc:  # a read failing part way (object storage, a network disk)
        message = (
            f"cannot read the file from row {next_row + 1} on: {exc.strerror or exc}; those "
            "rows were not read (run again to retry them)"
        )
        logger.warning("%s: %s", path, message)
        unread = False
        yield _rows_unread(path, file_id, next_row, message, options)
    if unread:
        logger.warning("%s holds no rows", path)
    no_id.warn(path, id_column)


def _rows_unread(
    path: StoragePath, file_id: str, row: int, message: str, options: TableOptions
) -> TableRow:
    """One failed item standing for the rows from `row` (0-based) on."""
    name = f"{file_id}/rows-from-{row + 1}" if file_id else f"rows-from-{row + 1}"
    return TableRow(name, path, line=row + 1, options=options, error=message)


class _NoIds:
    """Rows with no id in the id column: counted, the first few kept for the warning."""

    SHOWN = 10

    def __init__(self) -> None:
        self.count = 0
        self.first: list[int] = []

    def add(self, row: int) -> None:
        self.count += 1
        if len(self.first) < self.SHOWN:
            self.first.append(row)

    def warn(self, path: StoragePath, id_column: str | None) -> None:
        if not self.count:
            return
        more = ", ..." if self.count > self.SHOWN else ""
        logger.warning(
            "%s: %d rows have no id in column %r (rows %s); each is recorded under its row "
            "number, which changes when rows are added or removed above it",
            path,
            self.count,
            id_column,
            ", ".join(map(str, self.first)) + more,
        )


def failed_table(path: StoragePath, file_id: str, message: str) -> InputItem:
    """An item standing for a whole table nothing could be read from; it fails when read."""
    return TableRow(file_id or path.stem, path, error=message)


def _check_columns(path: StoragePath, columns: list[str], options: TableOptions) -> None:
    wanted = [options.text_column, *options.keep_columns]
    if options.id_column:
        wanted.append(options.id_column)
    missing = [name for name in dict.fromkeys(wanted) if name not in columns]
    if missing:
        names = ", ".join(repr(c) for c in columns) or "none"
        raise InputError(
            f"{path}: no column {', '.join(repr(m) for m in missing)}; its columns are: "
            f"{names}. Name the right ones with --text-column / --id-column / --keep-columns"
        )


def _row_id(values: Row, id_column: str | None, text_column: str) -> str | None:
    """The row's id, or None when its cell is empty, null or NaN (or there is no id
    column). A row whose fields do not match the header takes it by position."""
    if id_column is None:
        return None
    if isinstance(values, _BadRow):
        value: Any = values.field(id_column, text_column)
    elif isinstance(values, str):
        return None
    else:
        value = values.get(id_column)
    if value is None or (isinstance(value, float) and value != value):  # NaN: pandas' empty
        return None
    text = str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text if text.strip() else None


def _content_columns(options: TableOptions) -> list[str]:
    """The columns a row's record is made from: its text and the kept columns."""
    return list(dict.fromkeys([options.text_column, *options.keep_columns]))


def _row_digest(values: Row, options: TableOptions) -> str | None:
    """sha256 of what a row's record is made from (its text and kept columns), so an edited
    row is redone on resume; None for a row that cannot be read (it fails, and is retried)."""
    if isinstance(values, str):
        return None
    content = {
        "text": _jsonable(values.get(options.text_column)),
        "columns": {name: _jsonable(values.get(name)) for name in options.keep_columns},
    }
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


# -- reading ------------------------------------------------------------------------------


def read_row(item: TableRow, max_bytes: int | None) -> tuple[str, list[str], dict[str, Any]]:
    """(text, warnings, kept columns) of one row; raises InputError fit for the record."""
    if item.error:
        raise InputError(item.error)
    options = item.options
    columns = [options.text_column, *options.keep_columns]
    try:
        values = _CURSOR.get(
            item.path, list(dict.fromkeys(columns)), (item.line or 1) - 1, options.delimiter
        )
    except _RestUnreadable as exc:
        raise InputError(exc.message) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    if isinstance(values, str):
        raise InputError(values)
    text = _text(values.get(options.text_column), options.text_column)
    if max_bytes is not None and len(text.encode("utf-8", "replace")) > max_bytes:
        raise InputError(
            f"the text is over run.max_input_bytes ({max_bytes / 1e6:.1f} MB); "
            "split it or raise the limit"
        )
    kept = {name: _jsonable(values.get(name)) for name in options.keep_columns}
    return text, [], kept


def _text(value: Any, column: str) -> str:
    if value is None:
        raise InputError(f"no text: column {column!r} is null in this row")
    if not isinstance(value, str):
        raise InputError(
            f"column {column!r} holds {type(value).__name__}, not text; "
            "point --text-column at the article text"
        )
    return value


def _jsonable(value: Any) -> Any:
    """Kept column values as JSON can hold them: dates as ISO text, bytes as base64."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


class _Cursor:
    """Rows read in file order, one batch in memory: a run asks for rows in order, so
    each batch is decoded once; going back (or to another file) starts a new pass."""

    def __init__(self) -> None:
        self._key: tuple[StoragePath, tuple[str, ...], tuple[int, ...], str | None] | None = None
        self._rows: Iterator[tuple[int, Row]] | None = None
        self._last: tuple[int, Row] | None = None

    def get(self, path: StoragePath, columns: list[str], row: int, delimiter: str | None) -> Row:
        # The file's identity is part of the key: a file rewritten since the last pass (a
        # second run in one process) must not be read on through the old open handle.
        # Not asked of an object: that would be a request per row.
        info = path.stat() if isinstance(path, Path) else None
        identity = (info.st_ino, info.st_size, info.st_mtime_ns) if info else ()
        key = (path, tuple(columns), identity, delimiter)
        last = self._last
        if key != self._key or self._rows is None or last is None or row < last[0]:
            rows = _rows(path, columns, start=row, delimiter=delimiter)
            self._key, self._rows, self._last = key, rows, None
        elif last[0] == row:
            return last[1]
        for number, values in self._rows:
            self._last = (number, values)
            if number == row:
                return values
        self._rows = None
        raise _RestUnreadable(row, f"row {row + 1} is no longer in the file (it changed?)")


_CURSOR = _Cursor()


# -- formats ------------------------------------------------------------------------------


def _columns(path: StoragePath, delimiter: str | None = None) -> list[str]:
    """The table's column names; raises InputError when the file cannot be opened as one."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return _parquet_file(path).schema_arrow.names
        if suffix in (".csv", ".tsv"):
            return _csv_header(path, csv_delimiter(path, delimiter))
        return _json_keys(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


def _rows(
    path: StoragePath, columns: list[str], start: int = 0, *, delimiter: str | None = None
) -> Iterator[tuple[int, Row]]:
    """(0-based row number, values of `columns`) from row `start` on."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_rows(path, columns, start)
    if suffix in (".csv", ".tsv"):
        rows = _csv_rows(path, csv_delimiter(path, delimiter))
    else:
        rows = _json_rows(path)
    return ((n, _pick(v, columns)) for n, v in rows if n >= start)


def _pick(values: Row, columns: list[str]) -> Row:
    return values if isinstance(values, str) else {c: values.get(c) for c in columns}


# Parquet: pyarrow's batch reader; a buffered stream reads pages as needed.


def _parquet_file(path: StoragePath) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Buffered reads, no pre-buffering: pre-buffered row groups stay in memory until
        # the whole read ends, which for a big file is the file.
        # An object is read through a seekable handle: byte ranges as pages are needed.
        source = path if isinstance(path, Path) else path.open("rb")
        return pq.ParquetFile(source, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(
            f"{path}: not a readable Parquet file ({exc}); a file cut short by an interrupted "
            "copy or download looks like this: copy or export it again"
        ) from None


def _parquet_rows(path: StoragePath, columns: list[str], start: int) -> Iterator[tuple[int, Row]]:
    import pyarrow as pa

    parquet = _parquet_file(path)
    groups: list[int] = []
    number = 0
    for index in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(index).num_rows
        if groups or number + rows > start:
            groups.append(index)
        else:
            number += rows  # a whole row group before `start`: never decoded
    if not groups:
        return
    batches = parquet.iter_batches(
        batch_size=BATCH_ROWS, row_groups=groups, columns=columns, use_threads=False
    )
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise _RestUnreadable(
                number, f"the Parquet data is damaged from about row {number + 1} on ({exc})"
            ) from None
        values = batch.to_pylist() if columns else [{}] * batch.num_rows
        for row in values:
            if number >= start:
                yield number, row
            number += 1


# CSV / TSV: the csv module, strict about quotes so a broken one is caught, not swallowed.


def _csv_open(path: StoragePath) -> Any:
    return path.open("r", encoding="utf-8-sig", newline="")


def _csv_reader(handle: Any, delimiter: str) -> Any:
    return csv.reader(handle, delimiter=delimiter, strict=True)


CSV_DELIMITERS = ",;\t|"  # the ones sniffed; --delimiter (run.delimiter) names any other


def csv_delimiter(path: StoragePath, given: str | None) -> str:
    """`given`, else tab for .tsv, else the one delimiter the header line holds (Excel in
    many locales writes ";"); when it holds several, csv.Sniffer decides on the first
    lines; "," when the header holds none (a one-column file)."""
    if given:
        return given
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        with _csv_open(path) as handle:
            sample = handle.read(1 << 16)
    except (OSError, UnicodeDecodeError):
        return ","  # reading the header reports the problem
    header = sample.splitlines()[0] if sample else ""
    present = [d for d in CSV_DELIMITERS if d in header]
    if len(present) <= 1:
        return present[0] if present else ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return max(present, key=header.count)


def _csv_header(path: StoragePath, delimiter: str) -> list[str]:
    with _csv_open(path) as handle:
        try:
            header = next(_csv_reader(handle, delimiter), None)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); re-export it as UTF-8"
            ) from None
        except csv.Error as exc:
            raise InputError(f"{path}: cannot read the header line ({exc})") from None
    if not header:
        raise InputError(f"{path}: empty file, expected a header line naming the columns")
    return header


def _csv_rows(path: StoragePath, delimiter: str) -> Iterator[tuple[int, Row]]:
    with _csv_open(path) as handle:
        reader = _csv_reader(handle, delimiter)
        header = next(reader, None) or []
        number = 0
        while True:
            first_line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                problem = _csv_problem(exc, first_line, reader.line_num)
                raise _RestUnreadable(number, problem) from None
            if not fields:
                continue  # a blank line is no row
            if len(fields) != len(header):
                row: Row = _BadRow.of(
                    f"line {first_line}: {len(fields)} fields but the header has "
                    f"{len(header)} (an unquoted delimiter in the text?)",
                    header,
                    fields,
                )
            else:
                row = dict(zip(header, fields, strict=True))
            yield number, row
            number += 1


class _BadRow(str):
    """Why a CSV row cannot be read (its fields do not match the header), with its fields:
    its id is still taken from them, so the row keeps its id once it is fixed."""

    header: list[str]
    fields: list[str]

    @classmethod
    def of(cls, message: str, header: list[str], fields: list[str]) -> _BadRow:
        row = cls(message)
        row.header, row.fields = header, fields
        return row

    def field(self, column: str, text_column: str) -> str | None:
        """`column`'s value by position: counted from the start when it comes before the
        text column, from the end when after it (a stray delimiter is most likely in the
        text); None when the row is too short to have it."""
        if column not in self.header:
            return None
        index = self.header.index(column)
        after_text = text_column in self.header and index > self.header.index(text_column)
        if after_text and len(self.fields) > len(self.header):
            return self.fields[index - len(self.header)]
        return self.fields[index] if index < len(self.fields) else None

    def id_note(self, column: str, row_id: str) -> str:
        return (
            f"its fields do not match the header; its id {row_id!r} was read from column "
            f"{column!r} by position, so the row keeps it once fixed"
        )


def _csv_problem(exc: Exception, first: int, last: int) -> str:
    lines = f"line {first}" if last <= first else f"lines {first}-{last}"
    if isinstance(exc, UnicodeDecodeError):
        return f"{lines}: not UTF-8 ({exc.reason}); re-export the file as UTF-8"
    return (
        f"{lines}: broken CSV quoting ({exc}); this row and the rows after it were not "
        'read. A quote inside a quoted field is written as two (""); check the quote '
        f"that opens on line {first}"
    )


# JSON: a list of objects, decoded one object at a time from a sliding window.


def _json_keys(path: StoragePath) -> list[str]:
    """Keys of the first objects (the file is not read whole to find every key)."""
    keys: dict[str, None] = {}
    try:
        for number, row in _json_rows(path):
            if isinstance(row, dict):
                keys.update(dict.fromkeys(row))
            if number >= 100:
                break
    except _RestUnreadable as exc:
        if exc.row == 0:
            raise InputError(f"{path}: {exc.message}") from None
    return list(keys)


def _json_rows(path: StoragePath) -> Iterator[tuple[int, Row]]:
    decoder = json.JSONDecoder()
    with path.open("r", encoding="utf-8-sig") as handle:
        window = _JsonWindow(handle)
        if window.next_char() != "[":
            raise _RestUnreadable(
                0,
                'expected a JSON list of objects like [{"id": "...", "text": "..."}, ...], or '
                "JSON lines (one whole object on each line)",
            )
        window.skip(1)
        number = 0
        while True:
            char = window.next_char()
            if char == "]":
                return
            if number and char != ",":
                raise _RestUnreadable(number, f"invalid JSON after object {number}: expected ,")
            if number:
                window.skip(1)
                window.next_char()  # raw_decode takes no leading blanks
            value = window.decode(decoder, number)
            yield number, value if isinstance(value, dict) else _not_an_object(value)
            number += 1


def _not_an_object(value: Any) -> str:
    return f'expected an object like {{"id": "...", "text": "..."}}, got {type(value).__name__}'


class _JsonWindow:
    """The unread part of a JSON text, refilled in chunks as objects are decoded."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.text = ""
        self.pos = 0
        self.eof = False

    def _fill(self) -> bool:
        chunk = "" if self.eof else self.handle.read(JSON_CHUNK_CHARS)
        self.eof = self.eof or not chunk
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return bool(chunk)

    def next_char(self) -> str:
        """The next non-blank character ("" at the end)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text) or not self._fill():
                return self.text[self.pos : self.pos + 1]

    def skip(self, count: int) -> None:
        self.pos += count

    def decode(self, decoder: json.JSONDecoder, number: int) -> Any:
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except ValueError as exc:
                if len(self.text) - self.pos < JSON_MAX_OBJECT_CHARS and self._fill():
                    continue  # the object goes on past the window
                reason = getattr(exc, "msg", exc)  # positions in the window would mislead
                raise _RestUnreadable(
                    number,
                    f"invalid JSON in object {number + 1} ({reason}); it and the "
                    "objects after it were not read",
                ) from None
            # A number at the window's edge may go on in the next chunk.
            if end == len(self.text) and not self.eof and self._fill():
                continue
            self.pos = end
            return value
