"""The report lists each article's QA flags beside its least confident sentences."""

from __future__ import annotations

from pathlib import Path

from pipeline.output.records import write_record
from pipeline.report.page import render_report


def _sentence(text: str, en: str, score: float, flags: list[dict[str, str]]) -> dict:
    end = len(text)
    return {"text": text, "paragraph": 0, "start": 0, "end": end, "en": en, "lang": "id",
            "score": score, "spans": [], "flags": flags}  # fmt: skip


def test_flags_are_listed_after_the_least_confident_sentences(tmp_path: Path) -> None:
    flag = {"check": "numbers", "message": "number missing or changed: 'Rp1,5 triliun' <x>"}
    sentences = [
        _sentence("Harga naik.", "[en 0]", -0.5, []),
        _sentence("Dana Rp1,5 triliun.", "[en 1]", -0.2, [flag]),
    ]
    record = {"id": "a", "text": "...", "sentences": sentences, "warnings": [], "meta": {}}
    write_record(tmp_path, record)
    page = render_report(tmp_path)
    least, qa = page.index("Least confident sentences"), page.index("<h3>QA flags</h3>")
    assert least < qa
    section = page[qa : page.index("</section>", qa)]
    assert "<td class='num'>1</td><td>numbers</td>" in section
    assert "&#x27;Rp1,5 triliun&#x27; &lt;x&gt;" in section  # escaped, never markup
    assert "[en 0]" not in section  # only flagged sentences


def test_no_flags_no_section(tmp_path: Path) -> None:
    sentences = [_sentence("Harga naik.", "[en 0]", -0.5, [])]
    write_record(tmp_path, {"id": "a", "text": "...", "sentences": sentences, "meta": {}})
    assert "QA flags" not in render_report(tmp_path)
