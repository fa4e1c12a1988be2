"""What a run has to do: the inputs found, those left to do (resume), and the batches.

The plan streams: inputs are listed file by file and row by row into an on-disk table
(plan_store.py), each batch's records are read together to see what is done, and the
batches are read back one at a time. Memory holds one batch, however many rows the input
has; what grows with the input is the plan's temporary file (~120 bytes a row).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from pipeline.config import PipelineConfig
from pipeline.engines.plan_store import PlanStore
from pipeline.inputs.discovery import Found, find_inputs
from pipeline.inputs.ids import assign_id
from pipeline.inputs.items import InputItem
from pipeline.inputs.reader import iter_items
from pipeline.inputs.tables import TableOptions
from pipeline.output.records import (
    RECORDS_DIR,
    SOURCE_DIGEST,
    read_records,
    record_status,
)
from pipeline.progress import progress_bar
from pipeline.storage.objects import StoragePath, location

logger = logging.getLogger(__name__)

STDIN_LABEL = "stdin"  # a record's `source` for standard input's rows: "stdin:<line>"


@dataclass(frozen=True)
class Inputs:
    """The files found (their articles are listed as the plan is made), and the input
    run.json binds the output folder to."""

    name: str  # the input folder's resolved path, or what stands for a stand-in ("-")
    found: Found
    tables: TableOptions
    label: str | None = None  # how records name a stand-in's rows (standard input)

    def items(self) -> Iterator[InputItem]:
        """Every article, in path order, its id not yet made unique."""
        for item in iter_items(self.found, self.tables):
            yield item if self.label is None else dataclasses.replace(item, label=self.label)


def discover_inputs(
    config: PipelineConfig,
    input_dir: StoragePath | str,
    out_dir: StoragePath,
    input_name: str | None = None,
) -> Inputs:
    """The files under `input_dir` (a folder, an object-storage prefix or one file), never
    reading `out_dir`. `input_name` names the input when `input_dir` is a stand-in
    (standard input's copy). Raises InputError when there is no such input."""
    root = location(input_dir)
    found = find_inputs(root, exclude=out_dir, follow_links=config.run.follow_links)
    # Records name the input, not the copy deleted after the run.
    label = None if input_name is None else STDIN_LABEL if input_name == "-" else input_name
    return Inputs(
        input_name or str(root.resolve()), found, TableOptions.from_run(config.run), label
    )


Group = tuple[list[InputItem], list[str]]  # a batch's inputs, and the ids of those to write


@dataclass
class Plan:
    """A run's to-do list and its batches.

    Batches are fixed groups of `size` consecutive inputs, so which articles share a batch
    depends on the input alone, never on what an earlier, killed run finished. A group with
    anything left to do is processed whole; only its articles to do are written.
    """

    store: PlanStore
    size: int  # run.batch_articles
    todo: int = 0
    already_done: int = 0  # finished by an earlier run into the same folder
    changed: int = 0  # finished earlier, to be redone: their source changed since

    @property
    def total(self) -> int:
        return self.store.count

    def groups(self) -> Iterator[Group]:
        """The groups with anything to do, in input order, read as they are asked for."""
        for number in self.store.places_to_do(self.size):
            rows = list(self.store.items(number * self.size, (number + 1) * self.size))
            yield [item for _, item in rows], sorted(item.id for todo, item in rows if todo)

    def ids(self) -> Iterator[str]:
        """The ids of the inputs with a record (found, or written since), sorted: what
        the exports hold, read without asking for a record that is not there."""
        return self.store.sorted_ids()

    def written(self, ids: list[str]) -> None:
        """These inputs' records were written (or tried: a failed write leaves none)."""
        self.store.set_has_record(ids)

    def folders(self) -> set[Any]:
        return self.store.folders()

    def close(self) -> None:
        self.store.close()


class _Records:
    """The plan's inputs' records, as a set of their names (output.records.record_name)."""

    def __init__(self, store: PlanStore) -> None:
        self.store = store

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.store.has_record(name)


def records_of(plan: Plan) -> _Records:
    """The records the plan's inputs have: `record_name(id) in records_of(plan)`."""
    return _Records(plan.store)


def plan_run(out_dir: StoragePath, inputs: Inputs, config: PipelineConfig) -> Plan:
    """Every input, with what is left to do in `out_dir` (from the records there).

    Raises InputError when a folder holds no articles (nothing has been written).
    """
    plan = Plan(PlanStore(), config.run.batch_articles)
    try:
        _fill(plan, out_dir, inputs, config)
    except BaseException:
        plan.close()
        raise
    if not plan.total and not inputs.found.single:
        plan.close()
        raise inputs.found.nothing_found()
    return plan


def _fill(plan: Plan, out_dir: StoragePath, inputs: Inputs, config: PipelineConfig) -> None:
    store = plan.store
    # A folder with no records yet (a first run) is not asked about each one.
    resuming = location(out_dir).joinpath(RECORDS_DIR).exists()
    pending: list[tuple[int, InputItem]] = []
    # Listing a table of millions of rows takes a while: the count goes up where a bar shows,
    # once listing has taken a second (a folder of a few files lists at once, silently).
    bar = progress_bar(
        None, config.run.progress, desc="listing articles", unit=" articles", delay=1.0
    )
    with closing(bar):
        for item in inputs.items():
            seq = store.add(item)
            if seq is None:  # an earlier input holds its id: it gets another
                item, clash = assign_id(item, store.owner)
                if clash is not None:
                    store.add_clash_note(clash.owner.position, clash.note)
                seq = store.add(item)
                assert seq is not None, "assign_id gives an id no input holds"
            pending.append((seq, item))
            if len(pending) >= plan.size:
                _settle(plan, out_dir, pending, config, resuming)
                bar.update(len(pending))
                pending = []
        _settle(plan, out_dir, pending, config, resuming)
        bar.update(len(pending))


def _settle(
    plan: Plan,
    out_dir: StoragePath,
    pending: list[tuple[int, InputItem]],
    config: PipelineConfig,
    resuming: bool,
) -> None:
    """Mark the inputs of `pending` already done, from their records (read together)."""
    records = read_records(out_dir, [item.id for _, item in pending]) if resuming else {}
    done = []
    for seq, item in pending:
        state = _done_state(records.get(item.id), item, config)
        if state == "done":
            plan.already_done += 1
            done.append(seq)
            continue
        if state == "changed":
            plan.changed += 1
            logger.info("%s changed since its record was made; translating it again", item.where)
        plan.todo += 1
    plan.store.set_done(done)
    plan.store.set_has_record(list(records))


def _done_state(record: dict[str, Any] | None, item: InputItem, config: PipelineConfig) -> str:
    """done, changed (its source is not what the record was made from) or todo.
    Finished records are kept; failed ones are retried; skipped ones while still skipped."""
    if record is None:
        return "todo"
    made_from = (record.get("meta") or {}).get(SOURCE_DIGEST)
    # A record without a digest (a table row before rows had one) cannot be trusted to
    # hold this input: it is redone too.
    if item.digest is not None and made_from != item.digest:
        return "changed"
    status = record_status(record)
    if status == "skipped":
        return "done" if config.run.non_indonesian == "skip" else "todo"
    return "done" if status == "ok" else "todo"
