"""Finding the articles under an input folder and reading each one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import DecodeError, InputError
from pipeline.inputs.decoding import decode_bytes, html_to_text, looks_like_html
from pipeline.inputs.items import InputItem as InputItem  # also importable from here
from pipeline.inputs.tables import (
    TABLE_SUFFIXES,
    TableOptions,
    TableRow,
    failed_table,
    read_row,
    table_items,
)
from pipeline.output.records import MANIFEST, RECORDS_DIR
from pipeline.storage.objects import ObjectPath, StoragePath, location
from pipeline.types import Article

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
ROW_SUFFIXES = (".jsonl",)
_SUFFIXES = TEXT_SUFFIXES + ROW_SUFFIXES + TABLE_SUFFIXES


# -- discovering ------------------------------------------------------------------


@dataclass
class _Found:
    """What a walk over the input folder found: files to read, entries that cannot be
    read (each becomes a failed record naming it), and what was passed over."""

    files: list[StoragePath] = dataclasses.field(default_factory=list)
    problems: list[InputItem] = dataclasses.field(default_factory=list)
    ignored: Counter[str] = dataclasses.field(default_factory=Counter)


def discover(
    root: StoragePath,
    tables: TableOptions | None = None,
    *,
    exclude: StoragePath | None = None,
    follow_links: bool = False,
) -> list[InputItem]:
    """All articles under `root`, recursing, in a stable order; hidden entries skipped.
    `root` may also be one table or .jsonl file: then ids come from its rows alone.

    Ids are unique, also ignoring case (so records stay apart on macOS and Windows): when
    two inputs map to one id ("a.txt" and "a.md"), the first in path order keeps it and
    the other is recorded under a longer id ("a.md"); both records say so.

    Never read as input: `exclude` and any id2en output folder (a run's own records would
    come back as articles on every resume). Symbolic links that lead outside `root` are
    not followed unless `follow_links`; each such link, and each folder that cannot be
    listed, becomes an item whose `error` names it.
    """
    root = location(root)
    if root.is_file():
        return _unique_ids(_one_file_items(root, tables))
    if not root.is_dir():
        raise InputError(
            f"input {str(root)!r} does not exist; give a folder of articles or one "
            f"{'/'.join(_SUFFIXES)} file"
        )
    if isinstance(root, ObjectPath):
        found = _list_objects(root, exclude)
    else:
        found = _walk(root, exclude if isinstance(exclude, Path) else None, follow_links)
    kinds = ", ".join(f"{n} {suffix}" for suffix, n in found.ignored.most_common(8))
    if found.ignored:
        logger.warning(
            "%s: passed over %d files id2en does not read (%s); articles must be %s",
            root,
            sum(found.ignored.values()),
            kinds,
            " ".join(_SUFFIXES),
        )
    items: list[InputItem] = list(found.problems)
    for path in sorted(found.files):
        relative = path.relative_to(root).with_suffix("").as_posix()  # type: ignore[arg-type]
        try:
            items.extend(_file_items(path, relative, tables))
        except InputError as exc:  # a table nothing can be read from fails on its own
            logger.warning("%s", exc)
            # The record's source names the file already.
            items.append(failed_table(path, relative, str(exc).removeprefix(f"{path}: ")))
    items.sort(key=lambda item: (str(item.path), item.line or 0))
    if not items:
        passed_over = sum(found.ignored.values())
        raise InputError(
            f"no articles in {str(root)!r}: looked for {' '.join(_SUFFIXES)} files in it and "
            "its subfolders (hidden ones skipped)"
            + (f"; passed over {passed_over} other files ({kinds})" if passed_over else "")
        )
    return _unique_ids(items)


def _one_file_items(path: StoragePath, tables: TableOptions | None) -> list[InputItem]:
    """One file given as the input: a text file is one article (its name as the id); a
    table or .jsonl gives one article per row, ids from the rows alone."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _file_items(path, path.stem, tables)
    if suffix in ROW_SUFFIXES + TABLE_SUFFIXES:
        return _file_items(path, "", tables)
    raise InputError(
        f"{str(path)!r} is not a kind of file id2en reads: give a {'/'.join(_SUFFIXES)} "
        "file, or a folder of them"
    )


def is_output_folder(folder: Path) -> bool:
    """A folder an id2en run wrote: its manifest beside its records folder."""
    return (folder / MANIFEST).is_file() and (folder / RECORDS_DIR).is_dir()


def _file_items(path: StoragePath, file_id: str, tables: TableOptions | None) -> list[InputItem]:
    suffix = path.suffix.lower()
    if suffix in ROW_SUFFIXES or (suffix == ".json" and _holds_json_lines(path)):
        return list(_jsonl_items(path, file_id))
    if suffix in TABLE_SUFFIXES:
        return table_items(path, file_id, tables or TableOptions())
    return [InputItem(file_id, path, digest=_file_digest(path))]


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


def _walk(root: Path, exclude: Path | None, follow_links: bool) -> _Found:
    """Files with an article suffix; symlinked folders are followed once (no loops)."""
    found, seen = _Found(), set()
    inside = _Inside(root, exclude, follow_links)

    def unreadable(error: OSError) -> None:
        folder = Path(error.filename or root)
        message = f"cannot list the folder {str(folder)!r}: {error.strerror or error}; its "
        message += "articles were not read (fix its permissions and run again)"
        found.problems.append(_problem(root, folder, message))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        folder = Path(dirpath)
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            logger.warning("not entering %s again: a symbolic link loops back to it", folder)
            dirnames[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        entered = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            problem = inside.check_folder(folder / name)
            if problem is None:
                entered.append(name)
            elif problem:
                found.problems.append(_problem(root, folder / name, problem))
        dirnames[:] = entered
        _add_files(root, folder, filenames, inside, found)
    return found


def _add_files(
    root: Path, folder: Path, filenames: list[str], inside: _Inside, found: _Found
) -> None:
    for name in filenames:
        path = folder / name
        if name.startswith("."):
            continue
        if not name.lower().endswith(_SUFFIXES):
            found.ignored[path.suffix.lower() or "(no suffix)"] += 1
        elif problem := inside.check_file(path):
            found.problems.append(_problem(root, path, problem, file=True))
        else:
            found.files.append(path)


def _list_objects(root: ObjectPath, exclude: StoragePath | None) -> _Found:
    """An object-storage prefix in one listing (no links there, no folder permissions);
    hidden names and id2en output folders are passed over as in a folder."""
    found = _Found()
    files = {path: path.relative_to(root) for path in root.files()}
    outputs = {
        rel.parent
        for rel in files.values()
        if rel.name == MANIFEST
        and str(rel.parent) != "."
        and any(
            other.parts[: len(rel.parts)] == (*rel.parent.parts, RECORDS_DIR)
            for other in files.values()
        )
    }
    if isinstance(exclude, ObjectPath) and str(exclude).startswith(f"{root}/"):
        outputs.add(exclude.relative_to(root))
    for path, rel in files.items():
        if any(part.startswith(".") for part in rel.parts) or outputs & set(rel.parents):
            continue
        if rel.name.lower().endswith(_SUFFIXES):
            found.files.append(path)
        else:
            found.ignored[rel.suffix.lower() or "(no suffix)"] += 1
    for folder in sorted(outputs, key=str):
        logger.info("not reading %s/%s: an id2en output folder, not input", root, folder)
    return found


class _Inside:
    """Which entries a walk may enter: not an output folder, not a link out of the root."""

    def __init__(self, root: Path, exclude: Path | None, follow_links: bool) -> None:
        self.root = root.resolve()
        self.exclude = exclude.resolve() if exclude is not None else None
        self.follow_links = follow_links

    def check_folder(self, folder: Path) -> str | None:
        """None to enter it; "" to pass over it quietly; else why it is not entered."""
        if folder.resolve() == self.exclude:
            logger.info("not reading %s: this run's output folder", folder)
            return ""
        if is_output_folder(folder):
            logger.warning("not reading %s: an id2en output folder, not input", folder)
            return ""
        return self._link_problem(folder, "folder")

    def check_file(self, path: Path) -> str | None:
        return self._link_problem(path, "file")

    def _link_problem(self, path: Path, kind: str) -> str | None:
        if self.follow_links or not path.is_symlink() or not path.exists():
            return None  # a broken link is reported when it is read
        target = path.resolve()
        if target == self.root or self.root in target.parents:
            return None
        return (
            f"symbolic link to a {kind} outside the input folder ({target}); not followed. "
            "Pass --follow-links (run.follow_links: true) to read it"
        )


def _problem(root: Path, path: Path, message: str, *, file: bool = False) -> InputItem:
    """An entry that fails when read (the run warns then, once), naming what it is."""
    relative = path.relative_to(root)
    relative = relative.with_suffix("") if file else relative
    return InputItem(relative.as_posix(), path, error=message)


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
    with handle:
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


def _id_key(article_id: str) -> str:
    return unicodedata.normalize("NFC", article_id).casefold()


def _unique_ids(items: list[InputItem]) -> list[InputItem]:
    owners: dict[str, int] = {}  # id key -> index of the item that holds it
    out: list[InputItem] = []
    for item in items:
        key = _id_key(item.id)
        if key not in owners:
            owners[key] = len(out)
            out.append(item)
            continue
        first = out[owners[key]]
        new_id = _free_id(item, owners)
        owners[_id_key(new_id)] = len(out)
        note = f"id {item.id!r} is also the id of {first.where}; recorded as {new_id!r}"
        logger.warning("%s: %s", item.where, note)
        out.append(dataclasses.replace(item, id=new_id, notes=(*item.notes, note)))
        other = f"id {first.id!r} is also the id of {item.where}, recorded as {new_id!r}"
        out[owners[key]] = dataclasses.replace(first, notes=(*first.notes, other))
    return out


def _free_id(item: InputItem, owners: dict[str, int]) -> str:
    """A longer id that says where the article came from: "a.md", "feed/7~line12"."""
    base = f"{item.id}~line{item.line}" if item.line else f"{item.id}{item.path.suffix}"
    candidate, number = base, 2
    while _id_key(candidate) in owners:
        candidate, number = f"{base}~{number}", number + 1
    return candidate


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
            f"{size / 1e6:.1f} MB is over run.max_input_bytes ({max_bytes / 1e6:.1f} MB); "
            "split the file or raise the limit"
        )


def _read_row(item: InputItem, max_bytes: int | None) -> tuple[str, list[str]]:
    try:
        with item.path.open("rb") as handle:
            handle.seek(item.offset or 0)
            raw = handle.readline()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}") from None
    _check_size(len(raw), max_bytes)
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
