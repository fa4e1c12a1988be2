"""The local engine: a pipeline over an article folder in this process, batch by batch."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from pipeline.api import Pipeline
from pipeline.config import PipelineConfig
from pipeline.engines import steps
from pipeline.engines.plan import discover_inputs
from pipeline.engines.run_lock import StopFlag, run_lock
from pipeline.engines.run_report import RunReport
from pipeline.engines.setup import check_setup
from pipeline.storage.objects import StoragePath, location


def run_folder(
    config: PipelineConfig,
    input_dir: StoragePath | str,
    out_dir: StoragePath | str,
    *,
    force: bool = False,
    pipeline: Pipeline | None = None,
    on_batch: Callable[[RunReport], None] | None = None,
    input_name: str | None = None,
) -> RunReport:
    """Translate (and summarize) every article under input_dir into out_dir/records.

    Safe to kill at any moment: records are written whole or not at all, and running
    again on the same out_dir does only what is missing or failed. `input_name` names the
    input in run.json when `input_dir` is a stand-in (standard input's copy: "-").
    """
    out_dir = location(out_dir)
    pipe = pipeline or Pipeline(config)
    started = time.perf_counter()
    inputs = discover_inputs(config, input_dir, out_dir, input_name)
    with (
        run_lock(out_dir),
        closing(steps.prepare(config, inputs, out_dir, force=force, started=started)) as run,
    ):
        if run.plan.todo:
            check_setup(pipe)  # before any article is touched
        steps.start(run, engine="local")
        report = run.report
        with StopFlag(out_dir) as stop, steps.progress(config, run.plan.todo) as bar:
            for group, write in run.plan.groups():
                outcomes = steps.process_batch(pipe, group, out_dir, config, write=set(write))
                steps.count(run, outcomes)
                _trim_heap()
                steps.checkpoint(run)
                bar.update(len(outcomes))
                bar.set_postfix(sent_per_s=f"{report.sentences / max(report.elapsed, 1e-9):.1f}")
                if on_batch:
                    on_batch(report)
                if stop.requested:
                    report.interrupted = True
                    break
        steps.finish(run)
    return report


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS after each batch.

    Batches of ever-different tensor shapes fragment glibc's heap, which then keeps the
    freed pages: RSS creeps up over a long run although nothing leaks. Elsewhere a no-op.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None  # musl has none
