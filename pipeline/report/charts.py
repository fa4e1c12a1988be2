"""The report's first screen: what a run did, read in ten seconds, and the filters.

Small inline SVG bar charts (no script, no external asset; every label escaped by the
caller's `esc`) for articles by status, warnings by kind, sentences per article and where
the time went. Statuses come from output.records.record_status and warning counts from
warning_summary, so the bars add up to the page's tiles. Filtering the article list needs
no script either: hidden radio buttons come first in <body>, and CSS rules written per
status and per warning kind hide the rows and articles that do not match the checked ones
(`:checked ~ ...`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.output.records import record_status
from pipeline.report.warning_summary import WarningKind, read_lines, warning_kinds

Escape = Callable[[Any], str]
Bar = tuple[str, float, str, str]  # label, value, value as text, colour

# (key, label, colour) in the order the chart and the filter show them.
STATUSES = (
    ("ok", "ok", "#2e8b57"),
    ("warn", "ok with warnings", "#d4a017"),
    ("failed", "failed", "#c0392b"),
    ("skipped", "skipped (not Indonesian)", "#8c959f"),
)
SENTENCE_BINS = ((0, 0), (1, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, None))
MAX_KINDS = 12  # the rest of the kinds are counted as "other kinds"
# Where a warning is about ("sentence 3: ", "summary: "): not part of its kind.
_SENTENCE_PREFIX = re.compile(r"^(?:sentence (?:\d+|N)|summary):\s*")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def status_key(record: dict[str, Any]) -> str:
    """ok | warn | failed | skipped: what the status chart, filter and badges group by —
    the record's status, with "ok" split by whether the article has warnings."""
    status = record_status(record)
    return "warn" if status == "ok" and record.get("warnings") else status


def warning_kind(warning: Any) -> str:
    """A warning's kind as the charts name it: its words without the sentence number,
    numbers or quoted parts, up to the first ':', '(' or ';' ("translation stopped at the
    maximum length")."""
    text = _SENTENCE_PREFIX.sub("", str(warning))
    text = re.split(r"[:(;]", text, maxsplit=1)[0]
    text = _NUMBER.sub("N", _QUOTED.sub("…", text))
    words = text.split()
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "") or "other"


def chart_kinds(record: dict[str, Any]) -> Counter[str]:
    """A record's warnings counted by the kind the charts show (a line that counts N
    repeats counts N)."""
    counts: Counter[str] = Counter()
    for kind in warning_kinds(read_lines(record.get("warnings") or [])):
        counts[_chart_kind(kind)] += kind.count
    return counts


def _chart_kind(kind: WarningKind) -> str:
    # A kept warning names the kind best; its numbered pattern is all a counted one has.
    return warning_kind(kind.examples[0] if kind.examples else kind.pattern)


@dataclass
class Overview:
    """Counts behind the charts, gathered one record at a time."""

    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # warnings by kind
    sentences: Counter[int] = field(default_factory=Counter)  # articles by SENTENCE_BINS index
    # stage -> summed seconds
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, record: dict[str, Any]) -> None:
        self.statuses[status_key(record)] += 1
        self.kinds.update(chart_kinds(record))
        self.sentences[_bin(len(record.get("sentences") or []))] += 1
        for key, value in ((record.get("meta") or {}).get("timings") or {}).items():
            if isinstance(value, (int, float)):
                self.seconds[str(key).removesuffix("_s")] += float(value)

    def kind_ids(self) -> dict[str, int]:
        """Kinds shown on their own, most frequent first, each with a CSS-safe number."""
        return {kind: n for n, (kind, _) in enumerate(self.kinds.most_common(MAX_KINDS))}


def _bin(count: int) -> int:
    for index, (low, high) in enumerate(SENTENCE_BINS):
        if count >= low and (high is None or count <= high):
            return index
    return len(SENTENCE_BINS) - 1


def _bin_label(index: int) -> str:
    low, high = SENTENCE_BINS[index]
    if high is None:
        return f"over {low - 1}"
    return str(low) if low == high else f"{low}–{high}"


# -- charts -------------------------------------------------------------------------------

ROW = 20  # px per bar
LABEL_W = 200
BAR_W = 170


def bar_chart(title: str, rows: Sequence[Bar], esc: Escape) -> str:
    """A horizontal bar chart: rows of (label, value, value as text, colour)."""
    if not rows:
        rows = [("none", 0, "0", "#8c959f")]
    top = max(value for _, value, _, _ in rows) or 1
    height = ROW * len(rows) + 4
    bars = []
    for n, (label, value, shown, colour) in enumerate(rows):
        y = n * ROW + 2
        width = max(1.0, BAR_W * value / top) if value else 0.0
        bars.append(
            f"<text x='{LABEL_W - 6}' y='{y + 14}' text-anchor='end'>{esc(_short(label))}"
            f"<title>{esc(label)}</title></text>"
            f"<rect x='{LABEL_W}' y='{y + 3}' width='{width:.1f}' height='{ROW - 6}' "
            f"fill='{colour}' rx='2'></rect>"
            f"<text x='{LABEL_W + width + 4:.1f}' y='{y + 14}'>{esc(shown)}</text>"
        )
    summary = "; ".join(f"{label}: {shown}" for label, _, shown, _ in rows)
    return (
        f"<figure class='chart'><figcaption>{esc(title)}</figcaption>"
        f"<svg role='img' aria-label='{esc(f'{title}: {summary}')}' width='{LABEL_W + BAR_W + 60}'"
        f" height='{height}' viewBox='0 0 {LABEL_W + BAR_W + 60} {height}'>"
        + "".join(bars)
        + "</svg></figure>"
    )


def _short(label: str, limit: int = 27) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def charts(overview: Overview, wall_seconds: float | None, esc: Escape) -> str:
    status_rows = [
        (label, overview.statuses[key], str(overview.statuses[key]), colour)
        for key, label, colour in STATUSES
        if overview.statuses[key] or key in ("ok", "failed")
    ]
    shown = overview.kinds.most_common(MAX_KINDS)
    kind_rows = [(kind, count, str(count), "#d4a017") for kind, count in shown]
    other = sum(overview.kinds.values()) - sum(count for _, count in shown)
    if other:
        kind_rows.append(("other kinds", other, str(other), "#8c959f"))
    sentence_rows = [
        (_bin_label(n), overview.sentences[n], str(overview.sentences[n]), "#4a7fb5")
        for n in range(len(SENTENCE_BINS))
    ]
    return (
        "<section class='charts' aria-label='run summary'>"
        + bar_chart("Articles by status", status_rows, esc)
        + bar_chart("Warnings by kind", kind_rows, esc)
        + bar_chart("Articles by sentence count", sentence_rows, esc)
        + bar_chart("Where the time went", _time_rows(overview, wall_seconds), esc)
        + "</section>"
    )


def _time_rows(overview: Overview, wall: float | None) -> list[Bar]:
    by_time = sorted(overview.seconds.items(), key=lambda item: -item[1])  # stable on ties
    rows: list[Bar] = [
        (f"{stage} (models)", seconds, f"{seconds:.1f} s", "#6f42c1") for stage, seconds in by_time
    ]
    in_models = sum(overview.seconds.values())
    if wall is not None and wall > in_models:
        rest = wall - in_models
        rows.append(("reading, writing, other", rest, f"{rest:.1f} s", "#8c959f"))
    return rows


# -- filters ------------------------------------------------------------------------------


def filter_inputs(kinds: dict[str, int]) -> str:
    """The radio buttons, first in <body> so that CSS can see them from every later part."""
    statuses = ["all"] + [key for key, _, _ in STATUSES]
    inputs = [
        f"<input type='radio' class='flt' name='fs' id='fs-{key}'"
        f"{' checked' if key == 'all' else ''}>"
        for key in statuses
    ]
    inputs += [
        f"<input type='radio' class='flt' name='fk' id='fk-{key}'"
        f"{' checked' if key == 'all' else ''}>"
        for key in ["all", *map(str, kinds.values())]
    ]
    return "\n".join(inputs)


def filter_labels(overview: Overview, kinds: dict[str, int], esc: Escape) -> str:
    status_labels = [f"<label for='fs-all'>all {sum(overview.statuses.values())}</label>"]
    status_labels += [
        f"<label for='fs-{key}'>{esc(label)} {overview.statuses[key]}</label>"
        for key, label, _ in STATUSES
        if overview.statuses[key]
    ]
    kind_labels = ["<label for='fk-all'>any</label>"]
    kind_labels += [
        f"<label for='fk-{n}'>{esc(kind)} {overview.kinds[kind]}</label>"
        for kind, n in kinds.items()
    ]
    return (
        "<div class='filters'><div><span class='flabel'>Show articles:</span>"
        + "".join(status_labels)
        + "</div><div><span class='flabel'>with a warning of kind:</span>"
        + "".join(kind_labels)
        + "</div><p class='fnote'>The filters hide rows in the list and articles below.</p></div>"
    )


def filter_css(kinds: dict[str, int]) -> str:
    """Rules that hide what the checked status and kind do not match, and mark the
    checked labels."""
    rules = []
    for key in [k for k, _, _ in STATUSES]:
        rules.append(
            f"#fs-{key}:checked ~ nav tr.art:not(.st-{key}), "
            f"#fs-{key}:checked ~ main article:not(.st-{key}) {{ display: none; }}"
        )
    for n in kinds.values():
        rules.append(
            f"#fk-{n}:checked ~ nav tr.art:not(.wk-{n}), "
            f"#fk-{n}:checked ~ main article:not(.wk-{n}) {{ display: none; }}"
        )
    keys = ["fs-all", *(f"fs-{k}" for k, _, _ in STATUSES), "fk-all"]
    keys += [f"fk-{n}" for n in kinds.values()]
    marks = ", ".join(f"#{key}:checked ~ header label[for='{key}']" for key in keys)
    focus = marks.replace(":checked", ":focus-visible")
    rules.append(f"{marks} {{ background: #1f2328; color: #fff; border-color: #1f2328; }}")
    rules.append(f"{focus} {{ outline: 2px solid #0969da; outline-offset: 1px; }}")
    return "\n".join(rules)


def filter_classes(record: dict[str, Any], kinds: dict[str, int]) -> str:
    """The classes a row or article carries for the filters."""
    found = {kinds[k] for k in chart_kinds(record) if k in kinds}
    return " ".join([f"st-{status_key(record)}", *(f"wk-{n}" for n in sorted(found))])


CSS = """
.flt { position: absolute; opacity: 0; pointer-events: none; }
.charts { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0 0 .8rem; }
figure.chart { margin: 0; }
figure.chart figcaption { font-size: .8rem; font-weight: 600; color: var(--muted);
  text-transform: uppercase; margin-bottom: .1rem; }
figure.chart svg { font-size: 12px; fill: #1f2328; display: block; }
.filters { font-size: .85rem; margin: 0 0 1rem; }
.filters div { display: flex; flex-wrap: wrap; gap: .3rem; align-items: center;
  margin-bottom: .3rem; }
.filters label { border: 1px solid var(--line); border-radius: 999px; padding: 0 .6rem;
  cursor: pointer; background: #fff; }
.flabel { color: var(--muted); margin-right: .2rem; }
.fnote { color: var(--muted); font-size: .75rem; margin: 0; }
article { content-visibility: auto; contain-intrinsic-size: auto 500px; }
"""
