"""A pool of model-holding Ray actors that outlives losing some of them (a node gone, a
worker process killed), handing out batches as the actors free up.

Ray Data's actor pool binds a task to the actor it was sent to: the batch a lost actor held
waits until Ray has started that actor again, which on a cluster with no spare node is
never. Here a batch whose actor was lost goes back to the front of the queue and the next
live actor runs it; the lost actor rejoins once Ray has restarted it (its ping answers), or
leaves the pool for good. So the driver knows every batch run again, and each actor has at
most `per_actor` batches in flight: inputs are handed out as actors free up, never put in
the object store all at once, and the results (small outcomes) come back one batch at a time.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ClusterError

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """One batch to run: its index in the plan and the arguments of the actor's method."""

    index: int
    args: tuple[Any, ...]
    attempts: int = 0


@dataclass
class PoolStats:
    redone: int = 0  # batches started again after the actor that held them was lost
    lost_actors: int = 0  # times an actor was lost (restarted by Ray, or gone)


class ActorPool:
    """Runs jobs on `actors` (Ray actor handles with a `run(*args)` and a `ping()` method).

    A job whose actor is lost is run again on another, at most `max_attempts` times in all;
    an actor lost is sent nothing until its ping answers. With no live actor for
    `wait_s` seconds the pool gives up (ClusterError): nothing left could run it.
    """

    def __init__(
        self,
        ray: Any,
        actors: list[Any],
        *,
        max_attempts: int,
        wait_s: float,
        per_actor: int = 2,
        describe: Callable[[Job], str] = lambda job: f"batch {job.index}",
    ) -> None:
        self.ray = ray
        self.actors = list(actors)  # every actor, to stop them at the end
        self.live = list(actors)
        self.max_attempts = max_attempts
        self.wait_s = wait_s
        self.per_actor = per_actor
        self.describe = describe
        self.stats = PoolStats()
        self._lost = _lost_errors(ray)
        self._running: dict[Any, tuple[Any, Job]] = {}  # result ref -> (actor, job)
        self._pings: dict[Any, Any] = {}  # ping ref -> actor waiting to rejoin
        self._retry: deque[Job] = deque()

    def run(self, jobs: Iterable[Job]) -> Iterator[Any]:
        """Each job's result as it comes, in any order; every job's result exactly once."""
        queue = iter(jobs)
        idle_since = time.monotonic()
        while True:
            self._hand_out(queue)
            # With a live actor, _hand_out emptied the queue if nothing is left running.
            if not self._running and not self._retry and (self.live or self._exhausted(queue)):
                return
            if not self.live and not self._pings:
                raise ClusterError("every Ray worker is gone for good (restarted too often)")
            ready, _ = self.ray.wait([*self._running, *self._pings], num_returns=1, timeout=5)
            if self.live:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.wait_s:
                raise ClusterError(
                    f"no Ray worker could be started again for {self.wait_s:.0f}s after the "
                    "last one was lost; the cluster has no node with the resources a worker "
                    "asks for (--workers, --gpus-per-worker, CPUs)"
                )
            for ref in ready:
                if ref in self._pings:
                    self._rejoin(ref)
                else:
                    yield from self._finish(ref)

    def _exhausted(self, queue: Iterator[Job]) -> bool:
        """Whether `queue` is empty; a job taken from it to find out waits in _retry."""
        job = next(queue, None)
        if job is None:
            return True
        self._retry.append(job)
        return False

    def _hand_out(self, queue: Iterator[Job]) -> None:
        """Fill every live actor up to `per_actor` jobs, retried jobs first."""
        for _ in range(self.per_actor):
            for actor in list(self.live):
                if self._load(actor) >= self.per_actor:
                    continue
                job = self._retry.popleft() if self._retry else next(queue, None)
                if job is None:
                    return
                job.attempts += 1
                self._running[actor.run.remote(*job.args)] = (actor, job)

    def _load(self, actor: Any) -> int:
        return sum(1 for running, _ in self._running.values() if running is actor)

    def _finish(self, ref: Any) -> Iterator[Any]:
        actor, job = self._running.pop(ref)
        try:
            result = self.ray.get(ref)
        except self._lost as exc:
            self._actor_lost(actor, job, exc)
            return
        yield result

    def _actor_lost(self, actor: Any, job: Job, exc: BaseException) -> None:
        if job.attempts >= self.max_attempts:
            raise ClusterError(
                f"{self.describe(job)} was started {job.attempts} times and each time its "
                f"Ray worker was lost ({_first_line(exc)}); a worker that dies on the same "
                "batch every time may be running out of memory on it"
            ) from exc
        logger.warning(
            "%s: its Ray worker was lost (%s); running it again on another worker",
            self.describe(job),
            _first_line(exc),
        )
        self.stats.redone += 1
        self._retry.appendleft(job)
        if actor in self.live:
            self.stats.lost_actors += 1
            self.live.remove(actor)
            self._pings[actor.ping.remote()] = actor

    def _rejoin(self, ref: Any) -> None:
        actor = self._pings.pop(ref)
        try:
            self.ray.get(ref)
        except self._lost as exc:
            logger.warning("a Ray worker is gone for good (%s)", _first_line(exc))
            return
        logger.info("a lost Ray worker was started again and rejoins the pool")
        self.live.append(actor)


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """What Ray raises for a result whose actor, node or object was lost."""
    exceptions = ray.exceptions
    return (exceptions.RayActorError, exceptions.ObjectLostError, exceptions.NodeDiedError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
