"""The report's first screen: inline SVG charts and CSS-only filters, also in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.output.records import write_record
from pipeline.report.charts import Overview, warning_kind
from pipeline.report.page import render_report
from pipeline.report.warning_summary import summarize_repeats
from tests.helpers import run_chromium

HOSTILE = "<img src=x onerror=alert(1)> kind"
CUT = "sentence {}: translation stopped at the maximum length ({} tokens) and may be cut short"


def _record(article_id: str, n_sentences: int, **fields: Any) -> dict[str, Any]:
    sentences = [
        {"text": f"Kalimat {n}.", "paragraph": 0, "start": 10 * n, "end": 10 * n + 9, "en": None}
        for n in range(n_sentences)
    ]
    record = {"id": article_id, "status": "ok", "text": "", "sentences": sentences}
    record.update({"warnings": [], "error": None, "meta": {}, **fields})
    return record


RECORDS = [
    _record("ok-1", 3, meta={"timings": {"translate_s": 2.0, "summarize_s": 1.0}}),
    _record("ok-2", 12, meta={"timings": {"translate_s": 4.0}}),
    _record("cut-1", 2, warnings=[CUT.format(0, 16), CUT.format(1, 16)]),
    _record("cut-2", 1, warnings=[CUT.format(0, 512), f"{HOSTILE}: yes"]),
    _record("rusak", 0, status="failed", error="read: no text: column 'text' is null"),
    _record("english", 0, status="skipped"),
]


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for record in RECORDS:
        write_record(out, record)
    manifest = {"elapsed_s": 10.0, "started": "2026-01-01T00:00:00+0000"}
    (out / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def test_warning_kinds_group_the_same_message() -> None:
    assert warning_kind(CUT.format(3, 16)) == warning_kind(CUT.format(12, 512))
    assert warning_kind(CUT.format(3, 16)) == "translation stopped at the maximum length"
    assert warning_kind("replaced 3 lone UTF-16 surrogate(s) with U+FFFD") == (
        "replaced N lone UTF-N surrogate"
    )
    assert warning_kind("id 'a' is also the id of x.txt; recorded as 'a.md'") == (
        "id … is also the id of x.txt"
    )
    overview = Overview()
    for record in RECORDS:
        overview.add(record)
    assert overview.statuses == {"ok": 2, "warn": 2, "failed": 1, "skipped": 1}
    assert overview.kinds["translation stopped at the maximum length"] == 3
    assert overview.seconds == {"translate": 6.0, "summarize": 1.0}


def test_first_screen_has_four_charts_with_the_counts(run_dir: Path) -> None:
    page = render_report(run_dir)
    labels = re.findall(r"<svg role='img' aria-label='([^']*)'", page)
    assert len(labels) == 4
    by_status, by_kind, by_sentences, by_time = labels
    assert "ok: 2; ok with warnings: 2; failed: 1; skipped (not Indonesian): 1" in by_status
    assert "translation stopped at the maximum length: 3" in by_kind
    assert "0: 2; 1–5: 3; 6–10: 0; 11–20: 1" in by_sentences
    assert "translate (models): 6.0 s; summarize (models): 1.0 s" in by_time
    assert "reading, writing, other: 3.0 s" in by_time  # 10 s wall - 7 s in models
    assert page.index("<svg") < page.index("<nav")  # the charts come before the list


def test_hostile_warning_text_is_escaped_in_charts_and_filters(run_dir: Path) -> None:
    page = render_report(run_dir)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt; kind" in page
    assert "<script" not in page and "http:" not in page and "https:" not in page


def test_filters_are_radio_buttons_and_css_rules(run_dir: Path) -> None:
    page = render_report(run_dir)
    radios = re.findall(r"<input type='radio' class='flt' name='(f[sk])' id='([^']+)'", page)
    assert ("fs", "fs-failed") in radios and ("fk", "fk-0") in radios
    assert page.index("id='fs-all'") < page.index("<header")  # before all they filter
    assert "#fs-failed:checked ~ main article:not(.st-failed) { display: none; }" in page
    assert re.search(r"<tr class='bad art st-failed'>", page)
    cut_kind = re.search(r"<label for='fk-(\d+)'>translation stopped", page)
    assert cut_kind is not None
    kind_class = f"wk-{cut_kind.group(1)}"
    tagged = re.findall(r"<article id='a\d+' class='([^']*)'", page)
    assert sum(kind_class in classes.split() for classes in tagged) == 2


# -- in the browser -----------------------------------------------------------------------

# A probe for a copy of the page (the report itself allows no script): for each filter, the
# ids of the articles the CSS leaves visible, read from computed styles.
PROBE = """<script>
const show = () => [...document.querySelectorAll('main article')]
  .filter(a => getComputedStyle(a).display !== 'none').map(a => a.querySelector('h2').lastChild
  .textContent.trim()).join(',');
const rows = () => [...document.querySelectorAll('nav tr.art')]
  .filter(r => getComputedStyle(r).display !== 'none').length;
for (const id of ['fs-all', 'fs-failed', 'fs-warn', 'fk-KIND']) {
  document.getElementById(id).checked = true;
  console.log('filter ' + id + ': ' + show() + ' | rows ' + rows());
}
document.getElementById('fs-ok').checked = true;
console.log('filter both: ' + show() + ' | rows ' + rows());
</script>"""


@pytest.mark.slow
def test_report_charts_and_filters_in_chromium(run_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_report(run_dir), encoding="utf-8")
    dom, console = run_chromium(report, tmp_path / "profile", "--dump-dom")
    assert console == [], f"console messages: {console}"
    assert dom.count("<svg") == 4 and dom.count("<rect") >= 4

    page = report.read_text(encoding="utf-8")
    kind = re.search(r"<label for='fk-(\d+)'>translation stopped", page).group(1)
    probe = re.sub(r"<meta http-equiv='Content-Security-Policy'[^>]*>", "", page)
    probe = probe.replace("</body>", PROBE.replace("KIND", kind) + "</body>")
    (tmp_path / "probe.html").write_text(probe, encoding="utf-8")
    _, console = run_chromium(tmp_path / "probe.html", tmp_path / "profile2", "--dump-dom")
    assert console == [
        "filter fs-all: cut-1,cut-2,english,ok-1,ok-2,rusak | rows 6",
        "filter fs-failed: rusak | rows 1",
        "filter fs-warn: cut-1,cut-2 | rows 2",
        f"filter fk-{kind}: cut-1,cut-2 | rows 2",  # the status filter is still "warn"
        "filter both:  | rows 0",  # ok articles have no warnings of that kind
    ]

    shot = tmp_path / "first-screen.png"
    _, console = run_chromium(
        report, tmp_path / "profile3", f"--screenshot={shot}", "--window-size=1280,900"
    )
    assert console == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_summary_and_summarised_warnings_count_as_their_kind() -> None:
    """'summary: ' is where, not what; a line standing for N repeats counts N times."""
    assert warning_kind("summary: summary_longer: summary longer than its text") == (
        warning_kind("sentence 2: summary_longer: anything")
    )
    lines = summarize_repeats([CUT.format(n, 16) for n in range(8)])  # as a record keeps them
    assert len(lines) == 4 and lines[-1].startswith("... and 5 more warnings like: ")
    overview = Overview()
    overview.add({"status": "ok", "warnings": lines, "sentences": []})
    assert overview.kinds == {"translation stopped at the maximum length": 8}


def test_the_warnings_chart_adds_up_to_the_warnings_tile(tmp_path: Path) -> None:
    out = tmp_path / "out"
    repeated = summarize_repeats([CUT.format(n, 16) for n in range(7)] + ["odd: ratio 1.5"])
    for record in [*RECORDS, _record("many", 7, warnings=repeated)]:
        write_record(out, record)
    page = render_report(out)
    tiles = dict(re.findall(r"class='label'>([^<]+)</span><span class='value'>([^<]+)<", page))
    labels = re.findall(r"<svg role='img' aria-label='([^']*)'", page)
    bars = [int(n) for n in re.findall(r": (\d+)(?:;|$)", labels[1].split(": ", 1)[1])]
    assert int(tiles["Warnings"]) == sum(bars) == 2 + 2 + 8  # cut-1, cut-2, many
    assert "translation stopped at the maximum length: 10" in labels[1]
