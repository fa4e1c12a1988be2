"""One run per output prefix on object storage: a lock object created only if absent,
kept alive by a heartbeat.

Object storage has no flock and nothing frees a lock when its process dies, so:
- taking it is a conditional create of OUT/.id2en.lock (S3: a PUT with If-None-Match: *;
  of two runs starting together exactly one gets it, the other gets 412 and is refused);
- the holder rewrites it every `lease / 6` seconds with the time (its heartbeat) and
  deletes it when the run ends, however it ends short of a kill;
- a run that finds the lock watches its heartbeat for a third of the lease: a heartbeat
  that moves is a live run (refused); one that stays is a stopped (killed) run, whose
  lock is taken over once the lease has passed since its last heartbeat. So a killed
  run's folder resumes with the same command, after at most one lease
  (ID2EN_LOCK_LEASE_S, default 60 s).

What it does not protect against (README: Object storage): a holder paused longer than the
lease (a suspended machine, a network partition) while another run takes over; clocks of
the two machines more than a heartbeat apart; two runs taking over the same stale lock at
the same moment (delete, then create, is not one step); backends without a conditional
create (fsspec's generic one checks, then writes); programs other than id2en writing there.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipeline.errors import RunRefusedError
from pipeline.storage.objects import ObjectPath

logger = logging.getLogger(__name__)

LEASE_ENV = "ID2EN_LOCK_LEASE_S"
DEFAULT_LEASE_S = 60.0


def lease_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get(LEASE_ENV, DEFAULT_LEASE_S)))
    except ValueError:
        return DEFAULT_LEASE_S


@contextmanager
def object_lock(path: ObjectPath, holder: str) -> Iterator[None]:
    """Hold the lock object `path` for the block; RunRefusedError if a live run holds it."""
    lease = lease_seconds()
    token = uuid.uuid4().hex
    _acquire(path, holder, token, lease)
    beat = _Heartbeat(path, holder, token, lease)
    beat.start()
    try:
        yield
    finally:
        beat.stop()
        if _read(path).get("token") == token:
            path.unlink(missing_ok=True)


def _content(holder: str, token: str, lease: float) -> bytes:
    data = {"holder": holder, "token": token, "heartbeat": time.time(), "lease_s": lease}
    return json.dumps(data).encode()


def _read(path: ObjectPath) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _acquire(path: ObjectPath, holder: str, token: str, lease: float) -> None:
    """Create the lock; if it is there, watch its heartbeat for a third of the lease (two
    beats of a live holder): one that moves is a live run (refused), one that stays is a
    stopped run, whose lock is taken over once its lease is over."""
    while True:
        try:
            path.write_bytes(_content(holder, token, lease), exclusive=True)
            return
        except FileExistsError:
            pass
        current = _read(path)
        beat = current.get("heartbeat")
        logger.info("%s is held by %s; watching its heartbeat", path, current.get("holder"))
        time.sleep(lease / 3)
        if _read(path).get("heartbeat") != beat:
            raise RunRefusedError(
                f"another id2en run ({current.get('holder', 'unknown')}) is writing to "
                f"{path.parent} (its lock {path} is alive); wait for it to finish or choose "
                "another output folder"
            )
        left = float(beat or 0) + lease - time.time()
        if left > 0:
            logger.warning(
                "%s: the run holding it (%s) has stopped sending heartbeats; taking it over "
                "when its lease ends in %.0f s",
                path,
                current.get("holder", "unknown"),
                left,
            )
            time.sleep(left)
            if _read(path).get("heartbeat") != beat:
                continue  # it came back, or another run took it: look again
        logger.warning("%s: taking over the lock of a stopped run (%s)", path, current)
        path.unlink(missing_ok=True)


class _Heartbeat(threading.Thread):
    """Rewrites the lock with the time, so a run that finds it can tell a live holder."""

    def __init__(self, path: ObjectPath, holder: str, token: str, lease: float) -> None:
        super().__init__(name="id2en-lock-heartbeat", daemon=True)
        self.path, self.holder, self.token, self.lease = path, holder, token, lease
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.lease / 6):
            try:
                if _read(self.path).get("token") not in (self.token, None):
                    logger.error(
                        "%s: another run took over this run's lock (this run was silent past "
                        "its lease?); two runs may now write to one folder",
                        self.path,
                    )
                    return
                self.path.write_bytes(_content(self.holder, self.token, self.lease))
            except OSError as exc:  # a missed beat; the lease allows a few
                logger.warning("%s: heartbeat failed: %s", self.path, exc)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


def describe_holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"
