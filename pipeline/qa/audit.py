"""`id2en check`: the QA checks alone, on pairs made anywhere (a JSONL file of `text` /
`text_en` rows) or on a run folder's records, counted per check with examples.

The same check_pair as the translate stage, with the same settings (the glossary and the
guards of a config: a run folder's own, from its run.json, unless one is given), on the
same sentences: those the detector calls Indonesian (a run copies the others unchanged).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import PipelineConfig
from pipeline.qa.check import CHECKS, Flag, QaSettings


@dataclass(frozen=True)
class Pair:
    """One sentence to check: where it is (for the examples), its text and English."""

    where: str  # "line 3", "news/a sentence 2"
    text: str
    english: str
    lang: str | None = None  # as the run recorded it; None: decided here


@dataclass
class CheckReport:
    """Sentences per check that it flagged, and the first few flags of each."""

    sentences: int = 0  # pairs read
    checked: int = 0  # of them Indonesian, so checked
    flagged: Counter[str] = field(default_factory=Counter)  # check -> sentences flagged
    flags: Counter[str] = field(default_factory=Counter)  # check -> flags
    examples: dict[str, list[tuple[Pair, Flag]]] = field(default_factory=dict)


def audit(pairs: Iterable[Pair], settings: QaSettings, examples: int = 3) -> CheckReport:
    report = CheckReport()
    for pair in pairs:
        report.sentences += 1
        flags = settings.flags(pair.text, pair.english, pair.lang)
        if flags is None:
            continue
        report.checked += 1
        for check in {f.check for f in flags}:
            report.flagged[check] += 1
        for flag in flags:
            report.flags[flag.check] += 1
            shown = report.examples.setdefault(flag.check, [])
            if len(shown) < examples:
                shown.append((pair, flag))
    return report


def pairs_of_file(path: Path) -> Iterator[Pair]:
    """Rows of a JSONL file with `text` and `text_en` (InputError for a bad file)."""
    from pipeline.translate.evaluate import load_pairs

    for number, (text, english) in enumerate(load_pairs(path), 1):
        yield Pair(f"pair {number}", text, english)


def pairs_of_run(out_dir: Path) -> Iterator[Pair]:
    """The translated sentences of a run folder's finished records."""
    from pipeline.output.records import iter_records

    for record in iter_records(out_dir):
        if record.get("status") != "ok":
            continue
        for index, sentence in enumerate(record.get("sentences") or []):
            text, english = sentence.get("text"), sentence.get("en")
            if isinstance(text, str) and isinstance(english, str):
                where = f"{record.get('id')} sentence {index}"
                yield Pair(where, text, english, sentence.get("lang"))


def format_report(report: CheckReport) -> str:
    lines = [
        f"{report.sentences} sentence pairs, {report.checked} checked "
        f"({report.sentences - report.checked} not Indonesian: copied, not checked)",
        f"{'check':<10} {'sentences':>9} {'share':>7} {'flags':>6}",
    ]
    for check in CHECKS:
        share = report.flagged[check] / report.checked if report.checked else 0.0
        lines.append(
            f"{check:<10} {report.flagged[check]:>9} {share:>7.1%} {report.flags[check]:>6}"
        )
    for check in CHECKS:
        for pair, flag in report.examples.get(check, []):
            lines.append(f"\n[{check}] {pair.where}: {flag.message}")
            lines.append(f"  id: {pair.text}")
            lines.append(f"  en: {pair.english}")
    return "\n".join(lines)


def check_config(
    out_dir: Path | None, name: str | None, overrides: list[str] | None = None
) -> PipelineConfig:
    """The config whose glossary and guards `id2en check` applies: `name` if given, else
    the run folder's own (its run.json), else the default config."""
    from pipeline.config import load_config
    from pipeline.output.manifest import read_manifest

    if name is None and out_dir is not None:
        recorded = read_manifest(out_dir).get("config")
        if isinstance(recorded, dict):
            return load_config(recorded, overrides)
    return load_config(name or "default", overrides)
