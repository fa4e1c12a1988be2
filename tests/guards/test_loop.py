"""The one guard loop both model stages run (pipeline.guards.guard_outputs), on hand-made
outputs: no model needed."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import load_config
from pipeline.guards import Guarded, GuardFinding, GuardSettings, Scored, guard_outputs
from pipeline.types import Article

COPY = GuardFinding("copy", "output copies the source: 90% of words")
EMPTY = GuardFinding("empty", "empty output")


@dataclass
class Output:
    text: str
    score: float | None


def flag(bad: set[str]):
    """A check that flags outputs in `bad`, recording what it was asked."""
    asked: list[tuple[str, str]] = []

    def check(source: str, output: str, settings: GuardSettings) -> list[GuardFinding]:
        asked.append((source, output))
        return [COPY, EMPTY] if output in bad else []

    return check, asked


def item(article: Article, key: str, output: str, taken: list[Scored], source: str = "") -> Guarded:
    return Guarded(key, source or key, output, article, "sentence 0", taken.append)


def config(retry: bool = True):
    return load_config({"guards": {"retry": retry}})


def test_a_cleaner_retry_replaces_the_output_and_says_what_it_fixed() -> None:
    article, taken = Article(id="a", text=""), []
    check, asked = flag({"bad"})
    retried = Output("still bad", -0.5)
    calls: list[list[str]] = []

    def retry(keys: list[str]) -> dict[str, Output]:
        calls.append(keys)
        return {"src": retried}

    guard_outputs([item(article, "src", "bad", taken)], check, retry, config())
    assert calls == [["src"]]
    assert taken == [retried]  # what the retry generated, its score with it
    assert asked == [("src", "bad"), ("src", "still bad")]
    assert article.warnings == ["sentence 0: retried with safer decoding after: copy, empty"]
    assert "guards" not in article.meta or article.meta["guards"] == {}


def test_a_retry_no_cleaner_is_dropped_and_the_findings_recorded() -> None:
    article, taken = Article(id="a", text=""), []
    check, _ = flag({"bad", "worse"})
    retry = lambda keys: {"src": Output("worse", 0.0)}  # noqa: E731
    guard_outputs([item(article, "src", "bad", taken)], check, retry, config())
    assert taken == []
    assert article.warnings == [
        "sentence 0: copy: output copies the source: 90% of words",
        "sentence 0: empty: empty output",
    ]
    assert article.meta["guards"] == {"copy": 1, "empty": 1}


def test_without_retry_nothing_is_regenerated() -> None:
    article, taken = Article(id="a", text=""), []
    check, _ = flag({"bad"})

    def retry(keys: list[str]) -> dict[str, Output]:
        raise AssertionError("guards.retry is off")

    guard_outputs([item(article, "src", "bad", taken)], check, retry, config(retry=False))
    assert taken == [] and article.meta["guards"] == {"copy": 1, "empty": 1}


def test_outputs_sharing_a_key_are_retried_once_and_all_take_it() -> None:
    first, second, clean = (Article(id=i, text="") for i in "abc")
    taken_first, taken_second, taken_clean = [], [], []
    check, asked = flag({"bad"})
    calls: list[list[str]] = []

    def retry(keys: list[str]) -> dict[str, Output]:
        calls.append(keys)
        return {key: Output("fixed", -1.0) for key in keys}

    items = [
        item(first, "chunk", "bad", taken_first, source="first article"),
        item(clean, "other", "fine", taken_clean),
        item(second, "chunk", "bad", taken_second, source="second article"),
    ]
    guard_outputs(items, check, retry, config())
    assert calls == [["chunk"]]
    assert asked[-1] == ("first article", "fixed")  # checked against the first source
    assert [o.text for o in taken_first + taken_second] == ["fixed", "fixed"]
    assert taken_clean == [] and clean.warnings == []
    assert second.warnings == ["sentence 0: retried with safer decoding after: copy, empty"]


def test_a_key_the_retry_skipped_keeps_its_findings() -> None:
    article, taken = Article(id="a", text=""), []
    check, _ = flag({"bad"})
    guard_outputs([item(article, "too long", "bad", taken)], check, lambda keys: {}, config())
    assert taken == [] and article.meta["guards"] == {"copy": 1, "empty": 1}
