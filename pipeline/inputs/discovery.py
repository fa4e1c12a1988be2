"""Finding the inputs: what a folder walk (or an object-storage listing) finds under the
input, before any file is opened. Reading the files' articles is reader.py's job.

A listing holds one entry per file, never per article: a table of a million rows is one
entry here, its rows are streamed later (reader.iter_items).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.inputs.items import InputItem
from pipeline.inputs.tables import TABLE_SUFFIXES
from pipeline.output.records import MANIFEST, RECORDS_DIR
from pipeline.storage.objects import ObjectPath, StoragePath, location

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
ROW_SUFFIXES = (".jsonl",)
SUFFIXES = TEXT_SUFFIXES + ROW_SUFFIXES + TABLE_SUFFIXES


@dataclass
class Found:
    """What a walk over the input found: files to read, entries that cannot be read (each
    becomes a failed record naming it), and what was passed over. `single`: the input is
    one file, whose rows (or whole text) are the articles."""

    root: StoragePath
    single: bool = False
    files: list[StoragePath] = dataclasses.field(default_factory=list)
    problems: list[InputItem] = dataclasses.field(default_factory=list)
    ignored: Counter[str] = dataclasses.field(default_factory=Counter)

    def entries(self) -> list[StoragePath | InputItem]:
        """Files and problems in path order: the order of the articles, whose ids the
        first in that order keeps."""
        entries: list[StoragePath | InputItem] = [*self.files, *self.problems]
        return sorted(entries, key=lambda e: str(e.path if isinstance(e, InputItem) else e))

    def file_id(self, path: StoragePath) -> str:
        """The id part a file gives its articles: its path under the root without its
        suffix; a single table or .jsonl given as the input gives none (ids are its rows')."""
        if self.single:
            return printable(path.stem) if path.suffix.lower() in TEXT_SUFFIXES else ""
        relative = path.relative_to(self.root).with_suffix("")  # type: ignore[arg-type]
        return printable(relative.as_posix())

    def nothing_found(self) -> InputError:
        passed_over = sum(self.ignored.values())
        return InputError(
            f"no articles in {str(self.root)!r}: looked for {' '.join(SUFFIXES)} files in it "
            "and its subfolders (hidden ones skipped)"
            + (f"; passed over {passed_over} other files ({self._kinds()})" if passed_over else "")
        )

    def _kinds(self) -> str:
        return ", ".join(f"{n} {suffix}" for suffix, n in self.ignored.most_common(8))


def find_inputs(
    root: StoragePath, *, exclude: StoragePath | None = None, follow_links: bool = False
) -> Found:
    """Every file under `root` that may hold articles, recursing; hidden entries skipped.
    `root` may also be one table, .jsonl or text file.

    Never read as input: `exclude` and any id2en output folder (a run's own records would
    come back as articles on every resume). Symbolic links that lead outside `root` are
    not followed unless `follow_links`; each such link, and each folder that cannot be
    listed, becomes a problem whose `error` names it.
    """
    root = location(root)
    if root.is_file():
        if not root.name.lower().endswith(SUFFIXES):
            raise InputError(
                f"{str(root)!r} is not a kind of file id2en reads: give a {'/'.join(SUFFIXES)} "
                "file, or a folder of them"
            )
        return Found(root, single=True, files=[root])
    if not root.is_dir():
        raise InputError(
            f"input {str(root)!r} does not exist; give a folder of articles or one "
            f"{'/'.join(SUFFIXES)} file"
        )
    if isinstance(root, ObjectPath):
        found = _list_objects(root, exclude)
    else:
        found = _walk(root, exclude if isinstance(exclude, Path) else None, follow_links)
    if found.ignored:
        logger.warning(
            "%s: passed over %d files id2en does not read (%s); articles must be %s",
            root,
            sum(found.ignored.values()),
            found._kinds(),
            " ".join(SUFFIXES),
        )
    return found


def is_output_folder(folder: Path) -> bool:
    """A folder an id2en run wrote: its manifest beside its records folder."""
    return (folder / MANIFEST).is_file() and (folder / RECORDS_DIR).is_dir()


# A file name that is not UTF-8 (an old archive's Latin-1 names) comes from os.walk with
# each undecodable byte as a lone surrogate, which no JSON record or UTF-8 file can hold.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def printable(name: str) -> str:
    """`name` with each byte that is not UTF-8 written as %XX: one-to-one, so ids stay
    apart, and writable anywhere.

    >>> printable("caf\\udce9")
    'caf%E9'
    """
    return _UNDECODABLE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", name)


def shown(path: StoragePath) -> str | None:
    """How records name a file whose name is not UTF-8 (None: its own name will do)."""
    text = str(path)
    return printable(text) if _UNDECODABLE.search(text) else None


def _walk(root: Path, exclude: Path | None, follow_links: bool) -> Found:
    """Files with an article suffix; symlinked folders are followed once (no loops)."""
    found, seen = Found(root), set()
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
    root: Path, folder: Path, filenames: list[str], inside: _Inside, found: Found
) -> None:
    for name in filenames:
        path = folder / name
        if name.startswith("."):
            continue
        if not name.lower().endswith(SUFFIXES):
            found.ignored[path.suffix.lower() or "(no suffix)"] += 1
        elif problem := inside.check_file(path):
            found.problems.append(_problem(root, path, problem, file=True))
        else:
            found.files.append(path)


def _list_objects(root: ObjectPath, exclude: StoragePath | None) -> Found:
    """An object-storage prefix in one listing (no links there, no folder permissions);
    hidden names and id2en output folders are passed over as in a folder."""
    found = Found(root)
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
        if rel.name.lower().endswith(SUFFIXES):
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
    return InputItem(printable(relative.as_posix()), path, error=message, label=shown(path))
