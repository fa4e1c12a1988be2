"""`id2en report`: a self-contained, escaped HTML page, checked as text and in Chromium."""

from __future__ import annotations

import json
import os
import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.main import main
from pipeline.errors import InputError
from pipeline.output.atomic import atomic_write_text
from pipeline.output.records import iter_records, record_path, write_record
from pipeline.report.page import render_report, write_report
from tests.helpers import run_chromium, tiny_config_dict

HOSTILE = "<script>alert('pwned')</script>"
# -- a run folder written by hand, with hostile content everywhere ------------------------


def _sentence(text: str, paragraph: int, en: str | None, cut: str | None = None) -> dict:
    return {
        "text": text,
        "paragraph": paragraph,
        "start": 0,
        "end": len(text),
        "en": en,
        "cut": cut,
    }


def _records() -> list[dict[str, Any]]:
    common = {"source": None, "english": None, "error": None, "status": "ok", "id2en": "0.1.0"}
    meta = {"models": {"translate": {"model": "tiny/marian"}}, "timings": {"translate_s": 1.25}}
    return [
        {
            **common,
            "id": f"berita/{HOSTILE}",
            "text": f"Satu. Dua {HOSTILE}.\n\nTiga.",
            "sentences": [
                _sentence("Satu.", 0, "[model out 1]"),
                _sentence(f"Dua {HOSTILE}.", 0, "<b>bold?</b> & <img src=x onerror=alert(1)>"),
                _sentence("Tiga.", 1, "[model out 3]", cut="cut at clause boundary: 500 > 400"),
            ],
            "summary": f"summary {HOSTILE}",
            "warnings": [
                f"sentence 1: translation stopped at the maximum length {HOSTILE}",
                "summary: summary_longer: summary longer than its text",
            ],
            "meta": meta,
        },
        {
            **common,
            "id": "rusak",
            "text": "Teks rusak.\n\nParagraf kedua.",
            "sentences": [],
            "summary": None,
            "warnings": [],
            "error": f"split: ValueError: {HOSTILE}",
            "status": "failed",
            "meta": {"traceback": f"Traceback {HOSTILE}"},
        },
        {
            **common,
            "id": "tenang",
            "text": "Aman.",
            "sentences": [_sentence("Aman.", 0, "[model out]")],
            "summary": "[summary]",
            "warnings": [],
            "meta": meta,
        },
        {
            **common,
            "id": "kendali",
            "text": "A\x1cB \ud800.",
            "sentences": [_sentence("A\x1cB \ud800.", 0, "x\x00y")],
            "summary": None,
            "warnings": [],
            "meta": {},
        },
    ]


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for record in _records():
        # ensure_ascii: the lone surrogate is stored as the JSON escape a producer might write
        path = record_path(out, record["id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record), encoding="utf-8")
    manifest = {
        "fingerprint": "f00d",
        "id2en": "0.1.0",
        "started": "2025-01-01T10:00:00+0000",
        "finished": "2025-01-01T10:02:30+0000",
    }
    atomic_write_text(out / "run.json", json.dumps(manifest))
    return out


class _Page(HTMLParser):
    """Tags, visible text, and the cells of each paragraph-aligned table, from HTML."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []  # table.aligned -> rows -> cell texts
        self._in_aligned = self._in_cell = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table" and ("class", "aligned") in attrs:
            self._in_aligned = True
            self.tables.append([])
        elif self._in_aligned and tag == "tr":
            self.tables[-1].append([])
        elif self._in_aligned and tag == "td":
            self._in_cell = True
            self.tables[-1][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_aligned = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_cell:
            self.tables[-1][-1][-1] += data

    @property
    def visible(self) -> str:
        return "".join(self.text)

    @property
    def aligned_rows(self) -> list[list[list[str]]]:
        """Each aligned table's body rows (the header row has no td cells)."""
        return [[row for row in table if row] for table in self.tables]


# -- the page as text ---------------------------------------------------------------------


def test_input_html_is_escaped_never_markup(run_dir: Path) -> None:
    page = render_report(run_dir)
    parsed = _Page(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert HOSTILE in parsed.visible  # shown to the reader, as text
    assert "<b>bold?</b> & <img src=x onerror=alert(1)>" in parsed.visible


def test_every_article_id_and_warning_is_shown(run_dir: Path) -> None:
    page = render_report(run_dir)
    visible = _Page(page).visible
    for record in _records():
        assert record["id"] in visible
        for warning in record["warnings"]:
            assert warning in visible
    assert page.count("class='warnings'") == 1  # highlighted box for the one article with any
    assert "split: ValueError" in visible and "class='error'" in page


def test_sentences_named_by_warnings_or_cuts_are_flagged(run_dir: Path) -> None:
    page = render_report(run_dir)
    flagged = re.findall(r"<span class='s flag' title='([^']*)'>", page)
    # sentence 1 (warning) and sentence 2 (cut), each in both columns
    assert len(flagged) == 4
    assert any("translation stopped" in title for title in flagged)
    assert any("cut at clause boundary" in title for title in flagged)


def test_paragraphs_are_aligned_side_by_side(run_dir: Path) -> None:
    tables = _Page(render_report(run_dir)).aligned_rows
    first = tables[_index_of(f"berita/{HOSTILE}")]
    assert len(first) == 2  # one row per paragraph
    number, indonesian, english = first[0]
    assert number == "1"
    assert "Satu." in indonesian and HOSTILE in indonesian
    assert "[model out 1]" in english and "<b>bold?</b>" in english
    assert "Tiga." in first[1][1] and "[model out 3]" in first[1][2]
    failed = tables[_index_of("rusak")]  # never split: its paragraphs as written
    assert [row[1] for row in failed] == ["Teks rusak.", "Paragraf kedua."]
    assert all(row[2] == "not translated" for row in failed)


def _index_of(article_id: str) -> int:
    return sorted(r["id"] for r in _records()).index(article_id)


def test_header_has_run_statistics(run_dir: Path) -> None:
    page = render_report(run_dir)
    tiles = dict(re.findall(r"class='label'>([^<]+)</span><span class='value'>([^<]+)<", page))
    assert tiles == {
        "Articles": "4",
        "Sentences": "5",
        "Failures": "1",
        "Warnings": "2",
        "Time": "2 min 30 s",
    }
    visible = _Page(page).visible
    assert "tiny/marian" in visible and "f00d" in visible and "2.5 s in models" in visible


def test_page_is_self_contained(run_dir: Path) -> None:
    page = render_report(run_dir)
    tags = _Page(page).tags
    assert not {"link", "script", "img", "iframe", "object"} & set(tags)
    for needle in ("http://", "https://", "url(", "@import", "src="):
        assert needle not in page.replace("onerror=alert(1)", "").replace("src=x", "")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_control_characters_are_visible_and_page_is_utf8(run_dir: Path) -> None:
    path = write_report(run_dir, run_dir / "report.html")
    page = path.read_text(encoding="utf-8")  # lone surrogates did not break the write
    assert "A\u241cB" in page and "x\u2400y" in page
    assert "\x1c" not in page and "\x00" not in page


def test_cli_report_writes_the_page(run_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    assert main(["report", str(run_dir), "-o", str(output)]) == 0
    assert "rusak" in output.read_text(encoding="utf-8")
    assert main(["report", str(run_dir)]) == 0  # default: OUT_DIR/report.html
    assert (run_dir / "report.html").is_file()


def test_cli_report_on_a_folder_without_records(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    assert not (tmp_path / "r.html").exists()


class TestRecordsThatDoNotFit:
    """A hand-edited record that does not fit the format is named and listed; the rest of
    the report still renders."""

    def edit(self, run_dir: Path, article_id: str, change: dict[str, Any]) -> Path:
        path = record_path(run_dir, article_id)
        record = json.loads(path.read_text(encoding="utf-8"))
        record["sentences"][0].update(change.get("sentence", {}))
        record.update(change.get("record", {}))
        path.write_text(json.dumps(record), encoding="utf-8")
        return path

    def test_a_string_score_is_named_and_the_rest_renders(
        self, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        edited = self.edit(run_dir, "tenang", {"sentence": {"score": "tinggi"}})
        output = tmp_path / "report.html"
        assert main(["report", str(run_dir), "-o", str(output)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert f"{edited}: sentences[0].score: expected a number or null, got 'tinggi'" in err
        assert "1 record" in err and str(output) in err  # the page was written without it
        page = output.read_text(encoding="utf-8")
        visible = _Page(page).visible
        assert "sentences[0].score: expected a number or null, got 'tinggi'" in visible
        assert "rusak" in page and "kendali" in page  # the others are shown
        tiles = dict(re.findall(r"class='label'>([^<]+)</span><span class='value'>([^<]+)<", page))
        assert tiles["Articles"] == "3"  # counted without it, the page says which

    def test_a_records_jsonl_line_is_named_by_its_line(self, tmp_path: Path) -> None:
        lines = [json.dumps(r) for r in _records()]
        bad = json.loads(lines[2])
        bad["warnings"], bad["meta"] = [{"kind": "x"}], []
        lines[2] = json.dumps(bad)
        jsonl = tmp_path / "records.jsonl"
        jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(InputError) as caught:
            write_report(jsonl, tmp_path / "r.html")
        message = str(caught.value)
        assert f"{jsonl}:3: warnings[0]: expected a string, got {{'kind': 'x'}}" in message
        assert f"{jsonl}:3: meta: expected an object or null, got []" in message
        assert (tmp_path / "r.html").is_file()


# -- headless Chromium --------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check below is only worth something if a broken page fails it."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>notDefined();</script>", encoding="utf-8")
    _, console = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("notDefined" in message for message in console)


@pytest.mark.slow
def test_report_in_headless_chromium(tiny_models: Path, tmp_path: Path) -> None:
    from pipeline.config import load_config
    from pipeline.engines.local import run_folder

    articles = tmp_path / "in"
    articles.mkdir()
    (articles / "jembatan.txt").write_text(
        "Presiden meresmikan jembatan baru. Warga senang.\n\nHarga beras naik lagi.",
        encoding="utf-8",
    )
    rows = [{"id": HOSTILE, "text": f"Harga naik {HOSTILE} lagi."}, {"id": "kosong", "text": ""}]
    (articles / "rows.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )
    out = tmp_path / "out"
    run_folder(load_config(tiny_config_dict(tiny_models)), articles, out)
    write_record(out, _records()[0])  # whatever a producer writes must come out as text
    report = tmp_path / "report.html"
    assert main(["report", str(out), "-o", str(report)]) == 0

    dom, console = run_chromium(report, tmp_path / "profile-dom", "--dump-dom")
    assert console == [], f"console messages: {console}"
    parsed = _Page(dom)
    assert "script" not in parsed.tags
    records = list(iter_records(out))
    assert len(records) == 4
    assert any(r["warnings"] for r in records)
    for record in records:
        assert record["id"] in parsed.visible
        for warning in record["warnings"]:
            assert warning in parsed.visible
    assert f"rows/{HOSTILE}" in parsed.visible

    shots = Path(os.environ.get("ID2EN_ARTIFACTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "report.png"
    _, console = run_chromium(
        report, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000"
    )
    assert console == [], f"console messages: {console}"
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def _time_tile(page: str) -> tuple[str, str]:
    found = re.search(
        r"class='label'>Time</span><span class='value'>([^<]+)</span>"
        r"<span class='note'>([^<]+)</span>",
        page,
    )
    assert found, "no Time tile"
    return found.group(1), found.group(2)


def test_the_time_tile_counts_every_invocation_of_a_resumed_run(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tile used to show the last invocation only: a run killed after an hour and
    resumed for a minute said "1 min"."""
    from pipeline.engines import steps
    from pipeline.engines.local import run_folder
    from tests.helpers import extractive_config, write_files

    texts = {f"a{n}.txt": f"Harga beras naik {n} persen." for n in range(3)}
    root, out = write_files(tmp_path / "in", texts), tmp_path / "out"
    config = extractive_config(tiny_models, run={"batch_articles": 1})
    monkeypatch.setattr(steps, "CHECKPOINT_S", 0.0)  # save the time after every batch

    def killed(report: Any) -> None:
        raise RuntimeError("killed")  # no finish(): what a kill -9 leaves

    with pytest.raises(RuntimeError):
        run_folder(config, root, out, on_batch=killed)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["runs"] == 1 and manifest["elapsed_total_s"] > 0
    manifest["elapsed_total_s"] = 3600.0  # as if the killed run had taken an hour
    (out / "run.json").write_text(json.dumps(manifest))

    report = run_folder(config, root, out)
    assert (report.done, report.already_done) == (2, 1)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["runs"] == 2
    assert manifest["elapsed_total_s"] == pytest.approx(3600 + manifest["elapsed_s"], abs=0.01)
    value, note = _time_tile(render_report(out))
    assert value == "1 h 00 min" and note.startswith("total of 2 runs (resumed); ")
