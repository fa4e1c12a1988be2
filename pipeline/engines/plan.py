"""What a run has to do: the inputs found, those left to do (resume), and the batches."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.config import PipelineConfig
from pipeline.inputs.items import InputItem
from pipeline.inputs.reader import discover
from pipeline.inputs.tables import TableOptions
from pipeline.output.records import SOURCE_DIGEST, read_record, record_status
from pipeline.storage.objects import StoragePath, location

logger = logging.getLogger(__name__)

STDIN_LABEL = "stdin"  # a record's `source` for standard input's rows: "stdin:<line>"


@dataclass(frozen=True)
class Inputs:
    """The articles found, and the input run.json binds the output folder to."""

    name: str  # the input folder's resolved path, or what stands for a stand-in ("-")
    items: list[InputItem]


def discover_inputs(
    config: PipelineConfig,
    input_dir: StoragePath | str,
    out_dir: StoragePath,
    input_name: str | None = None,
) -> Inputs:
    """Every article under `input_dir` (a folder or an object-storage prefix), never
    reading `out_dir`. `input_name` names the input when `input_dir` is a stand-in
    (standard input's copy)."""
    root = location(input_dir)
    items = discover(
        root,
        TableOptions.from_run(config.run),
        exclude=out_dir,
        follow_links=config.run.follow_links,
    )
    if input_name is not None:  # records name the input, not the copy deleted after the run
        label = STDIN_LABEL if input_name == "-" else input_name
        items = [dataclasses.replace(item, label=label) for item in items]
    return Inputs(input_name or str(root.resolve()), items)


@dataclass
class Plan:
    """A run's to-do list and its batches.

    `groups` are the batches: fixed groups of `run.batch_articles` consecutive inputs, so
    which articles share a batch depends on the input alone, never on what an earlier,
    killed run finished. A group with anything left to do is processed whole; only its
    articles in `todo` are written.
    """

    items: list[InputItem]
    todo: list[InputItem]
    groups: list[list[InputItem]]
    already_done: int = 0  # finished by an earlier run into the same folder
    changed: int = 0  # finished earlier, to be redone: their source changed since

    @property
    def todo_ids(self) -> set[str]:
        return {item.id for item in self.todo}


def plan_run(out_dir: StoragePath, items: list[InputItem], config: PipelineConfig) -> Plan:
    """What is left to do in `out_dir`, from the records already there."""
    plan = Plan(items, [], [])
    for item in items:
        state = _done_state(out_dir, item, config)
        if state == "done":
            plan.already_done += 1
            continue
        if state == "changed":
            plan.changed += 1
            logger.info("%s changed since its record was made; translating it again", item.where)
        plan.todo.append(item)
    ids = plan.todo_ids
    plan.groups = [g for g in chunks(items, config.run.batch_articles) if ids & {i.id for i in g}]
    return plan


def _done_state(out_dir: StoragePath, item: InputItem, config: PipelineConfig) -> str:
    """done, changed (its source is not what the record was made from) or todo.
    Finished records are kept; failed ones are retried; skipped ones while still skipped."""
    record = read_record(out_dir, item.id)
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


def chunks(items: list[InputItem], size: int) -> Iterator[list[InputItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
