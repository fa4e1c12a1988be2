"""An unhurried Ray worker for the fault tests.

The tiny models finish a batch in milliseconds: a whole run is over before a node can be
removed or a driver killed, and the test then sees no batch in flight to lose. Each batch
here takes at least DELAY_S, so with two batches in flight per worker a node lost (or a
driver killed) after the first records always has work left on it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from ray import cloudpickle

from pipeline.engines import ray as ray_engine

DELAY_S = 0.5

# Ray pickles the actor class by reference where its module is importable; the workers'
# sys.path need not hold this checkout's tests/, so this module travels by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class UnhurriedArticleWorker(ray_engine.ArticleWorker):
    def run(self, items: list[Any], write: list[str]) -> list[Any]:
        time.sleep(DELAY_S)
        return super().run(items, write)


def use_unhurried_workers() -> None:
    """Make the Ray engine start UnhurriedArticleWorker actors (for a driver process)."""
    ray_engine.ArticleWorker = UnhurriedArticleWorker  # type: ignore[misc]


def main(argv: list[str]) -> int:
    """`python -m tests.support.ray_workers ARGS`: the id2en CLI with unhurried workers."""
    from pipeline.cli.main import main as cli_main

    use_unhurried_workers()
    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
