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
