"""`Pipeline.map`: a Dataset or DataFrame in, the same table plus result columns out."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.api import Pipeline
from pipeline.config import load_config
from pipeline.output.mapping import NEW_COLUMNS
from tests.helpers import SENTENCES, tiny_config_dict

datasets = pytest.importorskip("datasets")
pd = pytest.importorskip("pandas")

TEXTS = [
    f"{SENTENCES[0]} {SENTENCES[1]}",
    None,
    SENTENCES[2],
    "",
    f"{SENTENCES[3]}\n\n{SENTENCES[4]}",
]


@pytest.fixture(scope="module")
def pipe(tiny_models: Path) -> Pipeline:
    # Short summaries keep the random-weight BART quick; the code paths are the same.
    summarize = {"max_new_tokens": 12, "min_length": 0}
    return Pipeline(load_config(tiny_config_dict(tiny_models, summarize=summarize)))


@pytest.mark.slow
def test_map_adds_columns_and_leaves_the_others(pipe: Pipeline) -> None:
    ds = datasets.Dataset.from_dict(
        {"url": [f"u{n}" for n in range(5)], "body": TEXTS, "n": list(range(5))}
    )
    out = pipe.map(ds, text_column="body", batch_size=2)
    assert isinstance(out, datasets.Dataset)
    assert out.column_names == ["url", "body", "n", *NEW_COLUMNS]
    assert out.select_columns(["url", "body", "n"]).to_list() == ds.to_list()
    assert out["status"] == ["ok", "failed", "ok", "failed", "ok"]
    assert "null" in out[1]["error"] and "empty" in out[3]["error"]
    for row, text in zip(out, TEXTS, strict=True):
        if row["status"] != "ok":
            assert row["sentences"] == [] and row["english"] is None
            continue
        assert row["error"] is None and row["summary"]
        assert [s["text"] for s in row["sentences"]] == [
            text[s["start"] : s["end"]] for s in row["sentences"]
        ]
        assert all(s["en"] is not None for s in row["sentences"])
    assert len(out[4]["sentences"]) == 2 and out[4]["sentences"][1]["paragraph"] == 1


@pytest.mark.slow
def test_map_agrees_with_calling_the_pipeline(pipe: Pipeline) -> None:
    ds = datasets.Dataset.from_dict({"text": [TEXTS[0], TEXTS[4]]})
    out = pipe.map(ds)
    articles = pipe([TEXTS[0], TEXTS[4]])
    assert out["english"] == [a.english for a in articles]
    assert out["summary"] == [a.summary for a in articles]


@pytest.mark.slow
def test_a_dataframe_round_trips(pipe: Pipeline) -> None:
    df = pd.DataFrame({"text": TEXTS[:3], "score": [0.5, 1.5, 2.5]}, index=[7, 8, 9])
    before = df.copy()
    out = pipe.map(df, batch_size=8)
    assert isinstance(out, pd.DataFrame)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is not touched
    pd.testing.assert_frame_equal(out[["text", "score"]], before)
    assert list(out.columns) == ["text", "score", *NEW_COLUMNS]
    assert out["status"].tolist() == ["ok", "failed", "ok"]
    back = datasets.Dataset.from_pandas(out, preserve_index=False)  # stays a valid table
    assert back["status"] == out["status"].tolist()


def test_map_refuses_unknown_or_taken_columns(pipe: Pipeline) -> None:
    ds = datasets.Dataset.from_dict({"isi": ["a"], "status": ["draft"]})
    with pytest.raises(KeyError, match=r"no column 'text'.*'isi', 'status'"):
        pipe.map(ds)
    with pytest.raises(ValueError, match=r"already has column.*'status'"):
        pipe.map(ds, text_column="isi")
    with pytest.raises(ValueError, match="batch_size"):
        pipe.map(ds, text_column="isi", batch_size=-1)


@pytest.mark.slow
def test_map_gives_the_summary_score_as_the_parquet_export_does(pipe: Pipeline) -> None:
    ds = datasets.Dataset.from_dict({"text": [TEXTS[0], TEXTS[1]]})
    out = pipe.map(ds)
    [article] = pipe([TEXTS[0]])
    assert out["summary_score"][0] == article.meta["summary"]["score"]
    assert isinstance(out["summary_score"][0], float)
    assert out["summary_score"][1] is None  # a failed row has no summary


@pytest.mark.slow
def test_map_takes_a_list_of_texts_or_of_dicts(pipe: Pipeline) -> None:
    out = pipe.map([TEXTS[0], ""])
    assert isinstance(out, list) and [list(row) for row in out] == [["text", *NEW_COLUMNS]] * 2
    assert [row["status"] for row in out] == ["ok", "failed"]
    assert out[0]["text"] == TEXTS[0] and out[0]["english"] == pipe(TEXTS[0]).english
    rows = pipe.map([{"body": TEXTS[2], "url": "u1"}, {"url": "u2"}], text_column="body")
    assert [(r["url"], r["status"]) for r in rows] == [("u1", "ok"), ("u2", "failed")]
    assert rows[0]["body"] == TEXTS[2] and "null" in rows[1]["error"]
    assert pipe.map([]) == []


def test_map_says_what_it_takes(pipe: Pipeline) -> None:
    with pytest.raises(
        TypeError, match=r"map takes a datasets\.Dataset, a pandas DataFrame, or a list"
    ):
        pipe.map(42)
    with pytest.raises(TypeError, match=r"item 1 is a int"):
        pipe.map(["teks", 7])
