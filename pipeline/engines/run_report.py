"""What a run did, counted: one Outcome per article written, summed into the RunReport the
CLI prints and run.json keeps (`last_report`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    """What became of one article in a batch: all the report needs, small enough to ship."""

    id: str
    status: str  # ok | failed | skipped (output.records.record_status)
    error: str | None = None
    sentences: int = 0
    guards: dict[str, int] = field(default_factory=dict)


@dataclass
class RunReport:
    total: int = 0
    done: int = 0
    failed: int = 0
    already_done: int = 0  # finished by an earlier run into the same folder (resume)
    changed: int = 0  # finished earlier, redone now: their source changed since
    sentences: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    not_indonesian: int = 0  # recorded with status "skipped" (run.non_indonesian: skip)
    failures: list[tuple[str, str]] = field(default_factory=list)
    guards: dict[str, int] = field(default_factory=dict)  # guard findings by kind, this run
    redone_batches: int = 0  # ray engine: batches run again after their worker was lost

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
            self.failures.append((outcome.id, outcome.error or ""))
        elif outcome.status == "skipped":
            self.not_indonesian += 1
        else:
            self.done += 1
            self.sentences += outcome.sentences
        for kind, count in outcome.guards.items():
            self.guards[kind] = self.guards.get(kind, 0) + count

    @property
    def processed(self) -> int:
        """Articles this run wrote a record for."""
        return self.done + self.failed + self.not_indonesian

    def line(self) -> str:
        state = "interrupted" if self.interrupted else "finished"
        excluded = f", {self.not_indonesian} not Indonesian" if self.not_indonesian else ""
        changed = f" ({self.changed} redone: source changed)" if self.changed else ""
        flagged = ", ".join(f"{kind} {n}" for kind, n in sorted(self.guards.items()))
        guards = f"; output guards fired: {flagged}" if flagged else ""
        redone = (
            f"; {self.redone_batches} batches run again after lost workers"
            if self.redone_batches
            else ""
        )
        return (
            f"{state}: {self.done} done{changed}, {self.failed} failed, {self.already_done} "
            f"already done{excluded} of {self.total} articles; {self.sentences} sentences "
            f"in {self.elapsed:.1f}s{guards}{redone}"
        )
