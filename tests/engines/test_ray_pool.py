"""The Ray engine's actor pool, on a stand-in for Ray (no cluster): a lost actor's jobs run
again on another, each job's result comes once, in-flight work is bounded, and the pool
gives up with a clear ClusterError where nothing could run the work."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.engines.ray_pool import ActorPool, Job
from pipeline.errors import ClusterError


class ActorLost(Exception):
    """Stands for ray.exceptions.RayActorError."""


class Ref:
    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class FakeRay:
    """Runs each call when asked for its result; `wait` hands back the oldest ref."""

    exceptions = types.SimpleNamespace(
        RayActorError=ActorLost, ObjectLostError=ActorLost, NodeDiedError=ActorLost
    )

    def __init__(self) -> None:
        self.max_in_flight = 0

    def wait(self, refs: list[Ref], num_returns: int, timeout: float) -> tuple[list, list]:
        self.max_in_flight = max(self.max_in_flight, len(refs))
        return refs[:1], refs[1:]

    def get(self, ref: Ref) -> Any:
        return ref.compute()


class Method:
    def __init__(self, body: Callable[..., Any]) -> None:
        self.body = body

    def remote(self, *args: Any) -> Ref:
        return Ref(lambda: self.body(*args))


class FakeActor:
    """Doubles its job's number; dies on the jobs in `dies_on` (each time) or once on
    `dies_once`; `comes_back` says whether its ping answers after a death."""

    def __init__(
        self,
        dies_on: set[int] = frozenset(),
        dies_once: set[int] = frozenset(),
        comes_back: bool = True,
    ) -> None:
        self.dies_on, self.dies_once, self.comes_back = set(dies_on), set(dies_once), comes_back
        self.ran: list[int] = []
        self.run = Method(self._run)
        self.ping = Method(self._ping)

    def _run(self, n: int) -> int:
        if n in self.dies_on or n in self.dies_once:
            self.dies_once.discard(n)
            raise ActorLost(f"actor died running {n}\nmore detail")
        self.ran.append(n)
        return 2 * n

    def _ping(self) -> bool:
        if not self.comes_back:
            raise ActorLost("the actor is gone for good")
        return True


def _jobs(count: int) -> list[Job]:
    return [Job(n, (n,)) for n in range(count)]


def test_a_lost_actors_job_runs_again_on_another_and_each_result_comes_once() -> None:
    ray = FakeRay()
    flaky, steady = FakeActor(dies_once={0}), FakeActor()  # the first job goes to flaky
    pool = ActorPool(ray, [flaky, steady], max_attempts=3, wait_s=60)
    results = list(pool.run(_jobs(10)))
    assert sorted(results) == [2 * n for n in range(10)]
    assert pool.stats.redone == 1 and pool.stats.lost_actors == 1
    assert sorted(flaky.ran + steady.ran) == list(range(10))


def test_in_flight_work_is_bounded_by_the_actors_however_many_jobs() -> None:
    ray = FakeRay()
    pool = ActorPool(ray, [FakeActor(), FakeActor()], max_attempts=3, wait_s=60, per_actor=2)
    handed: list[int] = []

    def jobs() -> Any:
        for job in _jobs(200):
            handed.append(job.index)
            yield job

    results = pool.run(jobs())
    next(results)
    assert len(handed) <= 5  # 2 actors x 2 in flight, and one taken as the first finished
    assert len(list(results)) == 199
    assert ray.max_in_flight <= 4


def test_a_job_that_loses_its_actor_every_time_stops_the_pool_naming_it() -> None:
    pool = ActorPool(
        FakeRay(),
        [FakeActor(dies_on={4}), FakeActor(dies_on={4})],
        max_attempts=2,
        wait_s=60,
        describe=lambda job: f"the batch of a{job.index}.txt",
    )
    with pytest.raises(ClusterError, match=r"the batch of a4\.txt was started 2 times") as error:
        list(pool.run(_jobs(8)))
    assert "\n" not in str(error.value)  # one line for the CLI


def test_with_every_actor_gone_for_good_the_pool_says_so() -> None:
    pool = ActorPool(
        FakeRay(), [FakeActor(dies_on={1}, comes_back=False)], max_attempts=5, wait_s=60
    )
    with pytest.raises(ClusterError, match="gone for good"):
        list(pool.run(_jobs(4)))


def test_no_jobs_no_calls() -> None:
    assert list(ActorPool(FakeRay(), [FakeActor()], max_attempts=3, wait_s=60).run([])) == []
