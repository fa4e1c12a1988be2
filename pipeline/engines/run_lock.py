"""One run per output folder, and a stop requested by a signal: both engines' guards
around their batches."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from pipeline.errors import RunRefusedError
from pipeline.output.manifest import now
from pipeline.output.records import LOCK
from pipeline.storage.lease import describe_holder, object_lock
from pipeline.storage.objects import ObjectPath, StoragePath

logger = logging.getLogger(__name__)


def make_out_dir(out_dir: Path) -> None:
    """Create the output folder; a file in its place is a wrong -o, not a disk error."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        taken = next(p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir())
        raise RunRefusedError(
            f"output folder {str(out_dir)!r} cannot be made: {str(taken)!r} is a file, not a "
            "folder; give -o a folder (new or one an earlier run wrote)"
        ) from None


@contextmanager
def run_lock(out_dir: StoragePath) -> Iterator[None]:
    """One run per output folder; the OS frees the lock even if the process is killed.
    On object storage: a lock object created only if absent, with a heartbeat (lease.py)."""
    if isinstance(out_dir, ObjectPath):
        with object_lock(out_dir / LOCK, f"{describe_holder()} since {now()}"):
            yield
        return
    make_out_dir(out_dir)
    path = out_dir / LOCK
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunRefusedError(
            f"another id2en run ({holder}) is writing to {out_dir}; wait for it to "
            "finish or choose another output folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {now()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class StopFlag:
    """SIGINT/SIGTERM ask the run to stop after the current batch, not mid-write."""

    def __init__(self, out_dir: StoragePath) -> None:
        self.out_dir = out_dir
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # a second Ctrl-C means now
            raise KeyboardInterrupt
        self.requested = True
        logger.warning(
            "%s: stopping after the current batch; finished records are kept. To resume, "
            "run the same command again with -o %s (a second signal stops at once)",
            signal.Signals(signum).name,
            self.out_dir,
        )

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
