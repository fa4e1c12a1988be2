"""How fast the HTML report shows its first screen for a big run, in headless Chromium.

Takes the records of a real run folder (e.g. one made with the tiny models), copies them
under new ids up to --articles records, renders the report, and loads it in Chromium with
a probe script added to a copy of the page (the report itself allows no script) that logs
first paint, first contentful paint, DOMContentLoaded and load. Side by side in one run:
a small report, the big one, and the big one without `content-visibility` on articles.

    python -m tests.support.tiny_models .tiny-models
    id2en run examples/ -o /tmp/out-14 -c tiny   # (any run folder)
    python benchmarks/report_first_paint.py /tmp/out-14 --articles 10000
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import shared_data  # noqa: F401  (points the library at ../shared)

from pipeline.output.records import iter_records, write_record
from pipeline.report.page import render_report

PROBE = """<script>
new PerformanceObserver(list => { for (const e of list.getEntries())
  console.log('timing ' + e.name + ' ' + e.startTime.toFixed(0)); })
  .observe({type: 'paint', buffered: true});
addEventListener('DOMContentLoaded', () =>
  console.log('timing domcontentloaded ' + performance.now().toFixed(0)));
addEventListener('load', () => console.log('timing load ' + performance.now().toFixed(0)));
</script>"""
TIMING = re.compile(r"timing ([\w-]+) (\d+)")
CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]


def copy_run(source: Path, target: Path, articles: int) -> None:
    records = list(iter_records(source))
    if not records:
        raise SystemExit(f"{source} holds no records")
    for n in range(articles):
        record = dict(records[n % len(records)])
        record["id"] = f"copy{n // len(records):05d}/{record['id']}"
        write_record(target, record)


def probe_page(page: str, *, content_visibility: bool) -> str:
    page = re.sub(r"<meta http-equiv='Content-Security-Policy'[^>]*>", "", page)
    if not content_visibility:
        page = page.replace("article { content-visibility: auto;", "article {")
    return page.replace("<head>", "<head>" + PROBE, 1)


def timings(page: Path, profile: Path) -> dict[str, int]:
    command = [shutil.which("chromium") or "chromium", *CHROMIUM, f"--user-data-dir={profile}"]
    command += [f"--screenshot={profile / 'shot.png'}", "--window-size=1280,900"]
    done = subprocess.run(
        [*command, page.as_uri()], capture_output=True, text=True, timeout=600, check=True
    )
    return {name: int(ms) for name, ms in TIMING.findall(done.stderr)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a folder written by id2en run")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 articles")
    args = parser.parse_args()
    big = 1_000 if args.quick else args.articles
    with tempfile.TemporaryDirectory() as tmp:
        pages = {}
        for n in (100, big):
            out = Path(tmp, f"run{n}")
            copy_run(args.run_dir, out, n)
            started = time.perf_counter()
            html = render_report(out)
            seconds = time.perf_counter() - started
            print(f"{n} articles: report rendered in {seconds:.1f} s, {len(html) / 1e6:.1f} MB")
            pages[f"{n} articles"] = probe_page(html, content_visibility=True)
            if n == big:
                pages[f"{n} articles, no content-visibility"] = probe_page(
                    html, content_visibility=False
                )
        for name, html in pages.items():
            page = Path(tmp, f"{len(name)}-{abs(hash(name))}.html")
            page.write_text(html, encoding="utf-8")
            found = timings(page, Path(tmp, f"profile-{abs(hash(name))}"))
            shown = ", ".join(f"{key} {ms} ms" for key, ms in found.items())
            print(f"{name}: {shown}")


if __name__ == "__main__":
    main()
