"""`id2en report`: one self-contained HTML page to read a run's results without code.

The page has no external assets and no script: a Content-Security-Policy forbids both, so
even a slip in escaping could not load or run anything. It opens with charts and filters
(charts.py), both plain SVG and CSS. Every value from a record goes
through `_esc`, which also makes control characters visible instead of silently odd.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import InputError
from pipeline.output.atomic import atomic_write_text
from pipeline.output.dataset import iter_run_records
from pipeline.output.manifest import parse_time, read_manifest
from pipeline.output.record_format import locate_record, record_problems
from pipeline.output.records import MANIFEST, record_status
from pipeline.report.charts import CSS as CHART_CSS
from pipeline.report.charts import (
    Overview,
    charts,
    filter_classes,
    filter_css,
    filter_inputs,
    filter_labels,
    status_key,
)
from pipeline.report.qa import qa_flags
from pipeline.report.warning_summary import read_lines, warning_count

logger = logging.getLogger(__name__)

_SENTENCE_WARNING = re.compile(r"^sentence (\d+):")
# C0 controls (but tab and newline) and DEL shown as Unicode "control pictures" (U+2400...).
_CONTROLS = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)} | {0x7F: 0x2421}


# -- statistics ---------------------------------------------------------------------------


@dataclass
class RunStats:
    """What the page header says about the run."""

    articles: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    sentences: int = 0
    cut_sentences: int = 0
    warnings: int = 0
    warned_articles: int = 0
    models: dict[str, list[str]] = field(default_factory=dict)  # stage family -> model names
    model_seconds: float = 0.0  # summed per-article stage timings
    started: str | None = None
    finished: str | None = None
    wall_seconds: float | None = None  # all invocations into the folder (a resumed run's total)
    runs: int = 1  # those invocations
    interrupted: bool = False
    fingerprint: str | None = None
    version: str | None = None

    @classmethod
    def collect(cls, records: list[dict[str, Any]], manifest: dict[str, Any]) -> RunStats:
        stats = cls(articles=len(records))
        models: dict[str, Counter[str]] = {}
        for record in records:
            stats._add(record, models)
        stats.models = {family: sorted(names) for family, names in models.items()}
        if not stats.models:
            stats.models = _models_from_config(manifest.get("config") or {})
        stats.started = manifest.get("started")
        stats.finished = manifest.get("finished") or manifest.get("interrupted")
        stats.interrupted = "interrupted" in manifest and "finished" not in manifest
        stats.wall_seconds = _wall_seconds(manifest)
        if isinstance(manifest.get("runs"), int) and manifest["runs"] > 1:
            stats.runs = manifest["runs"]
        stats.fingerprint = manifest.get("fingerprint")
        stats.version = manifest.get("id2en")
        return stats

    def _add(self, record: dict[str, Any], models: dict[str, Counter[str]]) -> None:
        status = record_status(record)
        self.ok += status == "ok"
        self.failed += status == "failed"
        self.skipped += status == "skipped"
        sentences = record.get("sentences") or []
        self.sentences += len(sentences)
        self.cut_sentences += sum(1 for s in sentences if s.get("cut"))
        warnings = _warning_count(record)
        self.warnings += warnings
        self.warned_articles += bool(warnings)
        meta = record.get("meta") or {}
        for family, info in (meta.get("models") or {}).items():
            if isinstance(info, dict) and info.get("model"):
                models.setdefault(family, Counter())[str(info["model"])] += 1
        for value in (meta.get("timings") or {}).values():
            if isinstance(value, (int, float)):
                self.model_seconds += float(value)


def _models_from_config(config: dict[str, Any]) -> dict[str, list[str]]:
    """Models named by the run's config, for runs whose records carry none (all failed)."""
    stages = config.get("stages") or {}
    return {
        family: [str((config.get(family) or {}).get("model"))]
        for family in ("translate", "summarize")
        if stages.get(family) and (config.get(family) or {}).get("model")
    }


def _wall_seconds(manifest: dict[str, Any]) -> float | None:
    """Elapsed time of the run, summed over its invocations (a killed and resumed run's
    total), from the manifest's own numbers or, failing those, its timestamps."""
    for key in ("elapsed_total_s", "elapsed_s"):  # elapsed_s alone: a folder from 0.x
        if isinstance(manifest.get(key), (int, float)):
            return float(manifest[key])
    start = parse_time(manifest.get("started"))
    end = parse_time(manifest.get("finished") or manifest.get("interrupted"))
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()


def _warning_count(record: dict[str, Any]) -> int:
    """Warnings an article had, a line that counts N repeats counting N (as in the chart)."""
    return warning_count(read_lines(record.get("warnings") or []))


def _manifest(out_dir: Path) -> dict[str, Any]:
    manifest = read_manifest(out_dir) if out_dir.is_dir() else {}
    if not manifest:
        logger.info(
            "no readable %s in %s; the header shows what the records tell", MANIFEST, out_dir
        )
    return manifest


# -- entry points -------------------------------------------------------------------------


def render_report(out_dir: str | os.PathLike[str]) -> str:
    """The HTML page for a run folder written by `id2en run` (or a records .jsonl file).
    Records that do not fit the record format are listed, not shown or counted."""
    return _render(Path(out_dir))[0]


def write_report(out_dir: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Render the report for `out_dir` and write it to `output` atomically. Raises
    InputError, once the page is written, naming each record that does not fit the format."""
    output = Path(output)
    page, misfits = _render(Path(out_dir))
    atomic_write_text(output, page)
    logger.info("wrote report for %s to %s", out_dir, output)
    if misfits:
        noun = "record does" if len(misfits) == 1 else "records do"
        raise InputError(
            f"{len(misfits)} {noun} not fit the record format; {output} was written "
            "without them, listing them (fix or remove them, then run `id2en report` again):\n"
            + "\n".join(f"  {line}" for line in misfits)
        )
    return output


def _fitting(out_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records that fit the format, and "WHERE: PROBLEM" for each problem of the rest."""
    records, misfits = [], []
    for record in iter_run_records(out_dir):
        problems = record_problems(record)
        if not problems:
            records.append(record)
            continue
        where = locate_record(out_dir, record)
        misfits += [f"{where}: {problem}" for problem in problems]
    return records, misfits


def _render(out_dir: Path) -> tuple[str, list[str]]:
    records, misfits = _fitting(out_dir)
    manifest = _manifest(out_dir)
    stats = RunStats.collect(records, manifest)
    overview = Overview()
    for record in records:
        overview.add(record)
    kinds = overview.kind_ids()
    title = f"id2en report: {out_dir.resolve().name}"
    first_screen = charts(overview, stats.wall_seconds, _esc) + filter_labels(overview, kinds, _esc)
    body = [
        filter_inputs(kinds),  # first, so the filter rules reach every later element
        _header(title, out_dir, stats, first_screen),
        _misfits(misfits),
        _toc(records, kinds),
        "<main>",
        *(_article(index, record, kinds) for index, record in enumerate(records)),
        "</main>",
        _footer(),
    ]
    return _document(title, "\n".join(body), CHART_CSS + filter_css(kinds)), misfits


# -- HTML pieces --------------------------------------------------------------------------


def _esc(value: Any) -> str:
    """Escape for text and attribute values; never trust a record's content."""
    text = str(value).translate(_CONTROLS)
    # Lone surrogates (possible via JSON "\\ud800") cannot be written as UTF-8.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return html.escape(text, quote=True)


def _document(title: str, body: str, extra_css: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{_esc(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _misfits(misfits: list[str]) -> str:
    """The records left out because they do not fit the record format, named."""
    if not misfits:
        return ""
    items = "".join(f"<li>{_esc(line)}</li>" for line in misfits)
    return (
        "<section class='error' role='alert'><strong>Records that do not fit the record "
        f"format, left out of this page and its counts:</strong><ul>{items}</ul></section>"
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _tile(label: str, value: Any, note: str = "", css: str = "") -> str:
    note_html = f"<span class='note'>{_esc(note)}</span>" if note else ""
    return (
        f"<div class='tile {css}'><span class='label'>{_esc(label)}</span>"
        f"<span class='value'>{_esc(value)}</span>{note_html}</div>"
    )


def _time_note(stats: RunStats) -> str:
    in_models = f"{_duration(stats.model_seconds)} in models"
    return f"total of {stats.runs} runs (resumed); {in_models}" if stats.runs > 1 else in_models


def _articles_note(stats: RunStats) -> str:
    skipped = f", {stats.skipped} skipped" if stats.skipped else ""
    return f"{stats.ok} ok{skipped}"


def _header(title: str, out_dir: Path, stats: RunStats, first_screen: str = "") -> str:
    tiles = [
        _tile("Articles", stats.articles, _articles_note(stats)),
        _tile("Sentences", stats.sentences, f"{stats.cut_sentences} cut at clauses"),
        _tile("Failures", stats.failed, "articles", "bad" if stats.failed else ""),
        _tile(
            "Warnings",
            stats.warnings,
            f"in {stats.warned_articles} articles",
            "warn" if stats.warnings else "",
        ),
        _tile("Time", _duration(stats.wall_seconds), _time_note(stats)),
    ]
    facts = [
        (f"{family} model", ", ".join(names) or "none") for family, names in stats.models.items()
    ]
    state = "interrupted" if stats.interrupted else "finished"
    facts += [
        ("started", stats.started or "unknown"),
        (state, stats.finished or "unknown"),
        ("config fingerprint", stats.fingerprint or "unknown"),
        ("written by", f"id2en {stats.version}" if stats.version else "unknown"),
        ("output folder", str(out_dir)),
    ]
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
    return (
        f"<header id='top'>\n<h1>{_esc(title)}</h1>\n<div class='tiles'>{''.join(tiles)}</div>\n"
        f"{first_screen}\n<table class='facts'>{rows}</table>\n</header>"
    )


# The badge (label, css class) for each status_key.
_BADGES = {
    "ok": ("ok", "ok"),
    "warn": ("warnings", "warn"),
    "failed": ("failed", "bad"),
    "skipped": ("skipped", "skip"),
}


def _status(record: dict[str, Any]) -> tuple[str, str]:
    """(label, css class) for an article's badge."""
    return _BADGES[status_key(record)]


def _toc(records: list[dict[str, Any]], kinds: dict[str, int]) -> str:
    rows = []
    for index, record in enumerate(records):
        label, css = _status(record)
        classes = f"{css} art {filter_classes(record, kinds)}"
        rows.append(
            f"<tr class='{classes}'><td class='num'>{index + 1}</td>"
            f"<td><a href='#a{index}'>{_esc(record.get('id', '?'))}</a></td>"
            f"<td><span class='badge {css}'>{label}</span></td>"
            f"<td class='num'>{len(record.get('sentences') or [])}</td>"
            f"<td class='num'>{_warning_count(record)}</td></tr>"
        )
    return (
        "<nav>\n<h2>Articles</h2>\n<table class='toc'><thead><tr><th class='num'>#</th>"
        "<th>id</th><th>status</th><th class='num'>sentences</th><th class='num'>warnings</th>"
        "</tr></thead>\n<tbody>" + "\n".join(rows) + "</tbody></table>\n</nav>"
    )


def _article(index: int, record: dict[str, Any], kinds: dict[str, int]) -> str:
    label, css = _status(record)
    flagged = _sentence_warnings(record.get("warnings") or [])
    parts = [
        f"<article id='a{index}' class='{css} {filter_classes(record, kinds)}'>",
        f"<h2><span class='badge {css}'>{label}</span> {_esc(record.get('id', '?'))}</h2>",
    ]
    if record.get("source"):
        parts.append(f"<p class='source'>from {_esc(record['source'])}</p>")
    parts.append(_error(record))
    parts.append(_warnings(record.get("warnings") or [], _warning_count(record)))
    least = least_confident(record.get("sentences") or [])
    parts.append(_least_confident(record.get("sentences") or [], least))
    parts.append(qa_flags(record.get("sentences") or []))
    parts.append(_aligned(record, flagged, set(least)))
    parts.append(_summary(record))
    parts.append(_details(record))
    parts.append("<p class='top'><a href='#top'>back to top</a></p></article>")
    return "\n".join(p for p in parts if p)


def _sentence_warnings(warnings: list[str]) -> dict[int, list[str]]:
    """Warnings that name a sentence ("sentence 3: ..."), so the sentence can be marked."""
    flagged: dict[int, list[str]] = {}
    for warning in warnings:
        match = _SENTENCE_WARNING.match(str(warning))
        if match:
            flagged.setdefault(int(match.group(1)), []).append(str(warning))
    return flagged


def _error(record: dict[str, Any]) -> str:
    if not record.get("error"):
        return ""
    trace = (record.get("meta") or {}).get("traceback")
    detail = (
        f"<details><summary>traceback</summary><pre>{_esc(trace)}</pre></details>" if trace else ""
    )
    return f"<div class='error'><strong>Failed:</strong> {_esc(record['error'])}{detail}</div>"


def _warnings(warnings: list[str], count: int) -> str:
    """The article's warnings as its record keeps them, headed by how many it had."""
    if not warnings:
        return ""
    items = "".join(f"<li>{_esc(w)}</li>" for w in warnings)
    noun = "warning" if count == 1 else "warnings"
    return (
        f"<div class='warnings' role='note'><strong>&#9888; {count} {noun}</strong>"
        f"<ul>{items}</ul></div>"
    )


LEAST_CONFIDENT = 3  # sentences listed per article


def least_confident(sentences: list[dict[str, Any]], limit: int = LEAST_CONFIDENT) -> list[int]:
    """Indices of the sentences with the lowest scores, lowest first (unscored ones skipped:
    copied English, numbers, URLs)."""
    scored = [(s["score"], n) for n, s in enumerate(sentences) if s.get("score") is not None]
    return [n for _, n in sorted(scored)[:limit]]


def _least_confident(sentences: list[dict[str, Any]], least: list[int]) -> str:
    if not least:
        return ""
    rows = "".join(
        f"<tr><td class='num'>{n}</td><td class='num' data-score='{sentences[n]['score']!r}'>"
        f"{sentences[n]['score']:.3f}</td><td lang='id'>{_esc(sentences[n].get('text'))}</td>"
        f"<td lang='en'>{_esc(sentences[n].get('en'))}</td></tr>"
        for n in least
    )
    return (
        "<section class='least'><h3>Least confident sentences</h3><table class='least'>"
        "<thead><tr><th class='num'>#</th><th class='num'>score</th><th>Indonesian</th>"
        f"<th>English</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p class='note'>score: the model's mean log-probability per output token "
        "(0 is certain; lower is less sure)</p></section>"
    )


def _aligned(record: dict[str, Any], flagged: dict[int, list[str]], low: set[int]) -> str:
    """Paragraph-aligned Indonesian | English table, one row per paragraph; the least
    confident sentences are marked."""
    sentences = record.get("sentences") or []
    head = (
        "<table class='aligned'><thead><tr><th class='num'>&para;</th>"
        "<th>Indonesian</th><th>English</th></tr></thead><tbody>"
    )
    if not sentences:
        return head + _unsplit_rows(record.get("text") or "") + "</tbody></table>"
    paragraphs: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for number, sentence in enumerate(sentences):
        paragraphs.setdefault(int(sentence.get("paragraph") or 0), []).append((number, sentence))
    rows = []
    for paragraph, members in sorted(paragraphs.items()):
        source = " ".join(_sentence(n, s.get("text"), s, flagged, low=low) for n, s in members)
        english = " ".join(
            _sentence(n, s.get("en"), s, flagged, en=True, low=low) for n, s in members
        )
        rows.append(
            f"<tr><td class='num'>{paragraph + 1}</td><td lang='id'>{source}</td>"
            f"<td lang='en'>{english}</td></tr>"
        )
    return head + "".join(rows) + "</tbody></table>"


def _sentence(
    number: int,
    text: Any,
    sentence: dict[str, Any],
    flagged: dict[int, list[str]],
    *,
    en: bool = False,
    low: set[int] | None = None,
) -> str:
    notes = list(flagged.get(number, []))
    if sentence.get("cut") and not any(sentence["cut"] in n for n in notes):
        notes.append(f"sentence {number}: {sentence['cut']}")
    css = "s flag" if notes else "s"
    if low and number in low:
        css += " low"
        notes.append(f"sentence {number}: least confident: score {sentence['score']:.3f}")
    if sentence.get("lang") in ("en", "zxx"):
        css += " copied"
        notes.append(f"sentence {number}: copied unchanged (lang {sentence['lang']})")
    title = f" title='{_esc(' | '.join(notes))}'" if notes else ""
    mark = "<span class='mark'>&#9888;</span>" if "flag" in css else ""
    body = _esc(text) if text is not None else "<span class='missing'>not translated</span>"
    if en and text is not None and not str(text).strip():
        body = "<span class='missing'>empty translation</span>"
    return f"<span class='{css}'{title}><sup>{number}</sup>{mark}{body}</span>"


def _unsplit_rows(text: str) -> str:
    """An article that never got sentences (failed early): show its text as written."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        return "<tr><td class='num'></td><td colspan='2' class='missing'>empty article</td></tr>"
    return "".join(
        f"<tr><td class='num'>{n + 1}</td><td lang='id'>{_esc(p.strip())}</td>"
        "<td><span class='missing'>not translated</span></td></tr>"
        for n, p in enumerate(paragraphs)
    )


def _summary(record: dict[str, Any]) -> str:
    summary = record.get("summary")
    body = _esc(summary) if summary else "<span class='missing'>no summary</span>"
    meta = (record.get("meta") or {}).get("summary")
    score = meta.get("score") if isinstance(meta, dict) else None
    note = f" <span class='note'>(score {score:.3f})</span>" if score is not None else ""
    return f"<section class='summary'><h3>Summary{note}</h3><p lang='en'>{body}</p></section>"


def _details(record: dict[str, Any]) -> str:
    meta = {k: v for k, v in (record.get("meta") or {}).items() if k != "traceback"}
    if not meta:
        return ""
    pretty = json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True)
    return (
        "<details class='meta'><summary>models, timings, details</summary>"
        f"<pre>{_esc(pretty)}</pre></details>"
    )


def _footer() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"<footer>written by id2en {_esc(__version__)} on {_esc(stamp)}</footer>"


CSS = """
:root { --bad:#b3261e; --bad-bg:#fdecea; --warn:#8a5a00; --warn-bg:#fff4cc;
  --ok:#1e6b33; --ok-bg:#e6f4ea; --line:#d0d7de; --muted:#6a737d; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1200px; color: #1f2328; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: .8rem 0 .3rem; }
.tiles { display: flex; flex-wrap: wrap; gap: .6rem; margin-bottom: 1rem; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .9rem;
  min-width: 9rem; display: flex; flex-direction: column; }
.tile .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; }
.tile .value { font-size: 1.5rem; font-weight: 600; }
.tile .note { color: var(--muted); font-size: .8rem; }
.tile.bad { background: var(--bad-bg); border-color: var(--bad); }
.tile.warn { background: var(--warn-bg); border-color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #f6f8fa; }
table.facts { width: auto; font-size: .9rem; margin-bottom: 1.5rem; }
table.facts th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
table.toc { font-size: .9rem; margin-bottom: 2rem; }
td.num, th.num { width: 3rem; text-align: right; color: var(--muted); }
table.toc th.num { width: 6rem; }
table.toc td:nth-child(3) { width: 7rem; }
thead th { white-space: nowrap; }
table.aligned { table-layout: fixed; }
table.aligned th.num { width: 3rem; }
article { border: 1px solid var(--line); border-left: 6px solid var(--ok);
  border-radius: 6px; padding: .8rem 1rem; margin: 0 0 1.5rem; }
article.warn { border-left-color: #e0a800; }
article.bad { border-left-color: var(--bad); }
article.skip { border-left-color: #8c959f; }
.badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-size: .8rem;
  font-weight: 600; vertical-align: middle; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.skip { background: #eaeef2; color: var(--muted); }
.source { color: var(--muted); font-size: .85rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
.error { background: var(--bad-bg); border: 1px solid var(--bad); color: var(--bad);
  border-radius: 6px; padding: .5rem .8rem; margin: .5rem 0; overflow-wrap: anywhere; }
.warnings { background: var(--warn-bg); border: 1px solid #e0a800; color: #5c3d00;
  border-radius: 6px; padding: .5rem .8rem; margin: .5rem 0; }
.warnings ul { margin: .3rem 0 0; padding-left: 1.3rem; }
.warnings li { overflow-wrap: anywhere; }
.s sup { color: var(--muted); font-size: .65rem; margin-right: .1rem; }
.s.flag { background: var(--warn-bg); outline: 1px solid #e0a800; border-radius: 3px; }
.mark { color: var(--warn); margin-right: .15rem; }
.s.low { text-decoration: underline wavy var(--bad); text-underline-offset: 3px; }
.s.copied { color: #0b5394; }
table.least { font-size: .9rem; margin: .3rem 0; }
table.least td.num, table.least th.num { width: 4.5rem; white-space: nowrap; }
.note { color: var(--muted); font-size: .8rem; font-weight: normal; margin: .2rem 0 .6rem; }
.missing { color: var(--muted); font-style: italic; }
.summary p { background: #f6f8fa; border-radius: 6px; padding: .5rem .8rem; margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; background: #f6f8fa;
  padding: .5rem; border-radius: 6px; }
details summary { cursor: pointer; color: var(--muted); font-size: .85rem; margin-top: .5rem; }
.top { text-align: right; font-size: .8rem; margin: .3rem 0 0; }
footer { color: var(--muted); font-size: .8rem; margin-top: 2rem; }
@media print { details { display: none; } article { break-inside: avoid; } }
"""
