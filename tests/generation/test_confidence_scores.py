"""Confidence scores (Generated.score, Sentence.score): one definition on every path.

The score is the chosen output's mean log-probability per token, the end token counted.
Random weights give arbitrary values, so these tests check what must hold whatever the
weights: finite, <= 0, the same across search loops, backends and batch compositions.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.generation.backend import mean_log_prob
from pipeline.translate.cache import TranslationCache
from pipeline.translate.stage import TranslateStage
from tests.helpers import SENTENCES, make_article, make_ct2_stage, make_stage, tiny_config_dict


def scores(outputs: dict) -> dict[str, float]:
    return {text: out.score for text, out in outputs.items()}


def check_scores(values: dict[str, float | None]) -> None:
    for text, value in values.items():
        assert value is not None, text
        assert math.isfinite(value) and value <= 0.0, (text, value)


def test_mean_log_prob_undoes_the_length_penalty() -> None:
    # sum(log p) = -6 over 3 tokens: the search ranks by -6 / 3 ** penalty.
    for penalty in (0.0, 1.0, 2.0):
        assert mean_log_prob(-6.0 / 3**penalty, 3, penalty) == pytest.approx(-2.0)
    assert mean_log_prob(-1.0, 0, 1.0) == 0.0


@pytest.mark.parametrize("loop", ["id2en", "transformers"])
@pytest.mark.parametrize("beams", [1, 3])
def test_scores_are_finite_and_not_positive(tiny_models: Path, loop: str, beams: int) -> None:
    stage = make_stage(tiny_models, num_beams=beams, search_loop=loop)
    check_scores(scores(stage.translate_texts(SENTENCES)))


@pytest.mark.parametrize("penalty", [1.0, 2.0])
def test_both_search_loops_give_the_same_scores(tiny_models: Path, penalty: float) -> None:
    results = {
        loop: make_stage(
            tiny_models, num_beams=3, search_loop=loop, length_penalty=penalty
        ).translate_texts(SENTENCES)
        for loop in ("id2en", "transformers")
    }
    for text in SENTENCES:
        assert results["id2en"][text] == results["transformers"][text]
        # id2en's loop reports its search score; transformers' output is rescored in one
        # pass, whose float32 sums differ from step-by-step decoding's in the 4th digit.
        assert results["id2en"][text].score == pytest.approx(
            results["transformers"][text].score, abs=2e-3
        )


def test_the_same_sentence_scores_the_same_in_any_batch(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, num_beams=3, dedupe=False)
    backend = stage.backend
    ids = backend.token_ids(SENTENCES)
    settings = stage.generation_settings
    together = backend.generate(ids, settings)
    alone = [backend.generate([one], settings)[0] for one in ids]
    reversed_ = list(reversed(backend.generate(list(reversed(ids)), settings)))
    for a, b, c in zip(together, alone, reversed_, strict=True):
        assert a.text == b.text == c.text
        assert a.score == pytest.approx(b.score, abs=1e-4)
        assert a.score == pytest.approx(c.score, abs=1e-4)


@pytest.mark.parametrize("beams", [1, 3])
def test_ctranslate2_scores_mean_the_same(tiny_models: Path, tmp_path: Path, beams: int) -> None:
    pytest.importorskip("ctranslate2")
    torch_out = make_stage(tiny_models, num_beams=beams).translate_texts(SENTENCES)
    ct2_out = make_ct2_stage(tiny_models, tmp_path, num_beams=beams).translate_texts(SENTENCES)
    check_scores(scores(ct2_out))
    for text in SENTENCES:
        assert ct2_out[text].text == torch_out[text].text
        assert ct2_out[text].score == pytest.approx(torch_out[text].score, abs=5e-4)


def test_sentence_scores_and_the_cache_keep_them(tiny_models: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache.sqlite")
    first = make_stage(tiny_models, cache_path=cache)
    article = make_article("a", SENTENCES[:3])
    first([article])
    check_scores({s.text: s.score for s in article.sentences})
    again = make_article("b", SENTENCES[:3])
    make_stage(tiny_models, cache_path=cache)([again])  # served from the cache file
    assert [s.score for s in again.sentences] == [s.score for s in article.sentences]


def test_a_cache_file_without_scores_still_opens(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE translations (namespace TEXT NOT NULL, source TEXT NOT NULL, "
        "text TEXT NOT NULL, output_tokens INTEGER NOT NULL, hit_length_limit INTEGER NOT NULL,"
        " PRIMARY KEY (namespace, source)) WITHOUT ROWID;"
        "INSERT INTO translations VALUES ('ns', 'Halo.', 'Hello.', 3, 0);"
    )
    conn.commit()
    conn.close()
    hit = TranslationCache(path).get_many("ns", ["Halo."])["Halo."]
    assert (hit.text, hit.score) == ("Hello.", None)


def test_min_score_warns_below_the_threshold(tiny_models: Path) -> None:
    def run(min_score: float | None) -> list[str]:
        config = load_config(
            tiny_config_dict(
                tiny_models,
                translate={"num_beams": 1, "max_new_tokens": 8},
                guards={"min_score": min_score, "retry": False},
            )
        )
        article = make_article("a", SENTENCES[:2])
        TranslateStage(config)([article])
        return [w for w in article.warnings if "low confidence" in w]

    assert run(None) == []
    warned = run(-1e-6)  # random weights: every score is far below
    assert len(warned) == 2
    assert warned[0].startswith("sentence 0: low confidence: score -")
    assert run(-1e6) == []


def test_scores_agree_in_record_dataset_report_and_notebook(
    tiny_models: Path, tmp_path: Path
) -> None:
    import re

    from pipeline.engines.local import run_folder
    from pipeline.output.dataset import load_records, read_parquet, to_records
    from pipeline.output.records import iter_records
    from pipeline.report.page import LEAST_CONFIDENT, least_confident, render_report
    from pipeline.types import Article

    articles = tmp_path / "in"
    articles.mkdir()
    (articles / "berita.txt").write_text(" ".join(SENTENCES), encoding="utf-8")
    out = tmp_path / "out"
    config = load_config(tiny_config_dict(tiny_models, run={"formats": ["jsonl", "parquet"]}))
    run_folder(config, articles, out)
    (record,) = list(iter_records(out))
    record_scores = [s["score"] for s in record["sentences"]]
    check_scores(dict(enumerate(record_scores)))
    summary_score = record["meta"]["summary"]["score"]
    check_scores({"summary": summary_score})

    (row,) = load_records(out).to_list()
    assert [s["score"] for s in row["sentences"]] == record_scores
    assert row["summary_score"] == summary_score
    assert [s["lang"] for s in row["sentences"]] == ["id"] * len(SENTENCES)
    parquet = next(out.rglob("*.parquet"))
    (from_parquet,) = to_records(read_parquet(parquet))
    assert [s["score"] for s in from_parquet["sentences"]] == record_scores

    page = render_report(out)
    shown = [float(v) for v in re.findall(r"data-score='([^']+)'", page)]
    least = least_confident(record["sentences"])
    assert len(least) == LEAST_CONFIDENT
    assert shown == [record_scores[n] for n in least] == sorted(record_scores)[:LEAST_CONFIDENT]
    marked = re.findall(r"class='s[^']*\blow\b[^']*'", page)
    assert len(marked) == 2 * LEAST_CONFIDENT  # on both sides of the view
    assert f"(score {summary_score:.3f})" in page

    table = Article.from_dict(record)._repr_html_()
    for score in record_scores:
        assert f"<td>{score:.3f}</td>" in table
