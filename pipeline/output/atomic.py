"""Files and folders that appear whole or not at all: the one way id2en writes them.

Everything is written under a temporary name in the destination's own folder, made
durable, then renamed into place: a reader, or a process killed at any moment, never sees
half a file. Temporary names start with "." and end with TMP_SUFFIX, so a later run can
find and remove what a killed one left (output.records.remove_temp_files).

On object storage (storage.objects.ObjectPath) there is no rename, and none is needed: an
object is written in one request and appears whole or not at all. A file too big for one
request is made locally first and uploaded in parts, which the store joins only at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pipeline.storage.objects import ObjectPath, StoragePath

TMP_SUFFIX = ".tmp"


@contextmanager
def atomic_path(path: StoragePath) -> Iterator[Path]:
    """A temporary file path to write; renamed over `path` when the block ends cleanly
    (uploaded, for an object)."""
    if isinstance(path, ObjectPath):
        with tempfile.TemporaryDirectory(prefix=".id2en-upload-") as folder:
            local = Path(folder, path.name)
            yield local
            path.upload(local)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync_file(Path(tmp))
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextmanager
def atomic_open(path: StoragePath) -> Iterator[IO[str]]:
    """A text handle whose content appears at `path` whole, or not at all."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        yield handle


def atomic_write_text(path: StoragePath, text: str) -> None:
    if isinstance(path, ObjectPath):
        path.write_bytes(text.encode("utf-8"))  # one PUT
        return
    with atomic_open(path) as handle:
        handle.write(text)


def atomic_folder(target: Path, fill: Callable[[Path], None], done: Callable[[Path], bool]) -> Path:
    """Make folder `target` by `fill`ing a private temporary folder, then renaming it.

    Concurrent makers race harmlessly: the first rename wins, and a loser whose `target`
    is `done` by then takes the winner's folder.
    """
    if done(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent))
    try:
        fill(temp)
        try:
            temp.rename(target)
        except OSError:  # another process finished first
            if not done(target):
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def _default_file_mode() -> int:
    """0666 less the process umask, as open() would give (mkstemp makes files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (power loss); not every OS/filesystem allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
