"""`Pipeline.map`: a `datasets.Dataset` or pandas DataFrame in, the same table out with the
pipeline's results as new columns, the original columns untouched; a list of texts or of
dicts in, a list of dicts out."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pipeline.inputs.language import check_language
from pipeline.output.dataset import SCHEMA, record_to_row
from pipeline.output.records import article_record
from pipeline.progress import progress_bar
from pipeline.types import Article

if TYPE_CHECKING:
    from pipeline.api import Pipeline

logger = logging.getLogger(__name__)

# The columns map adds, typed as in a run's records (output.dataset.SCHEMA), so an empty list
# and a null keep one Arrow type across batches and datasets.
NEW_COLUMNS = ("english", "summary", "summary_score", "sentences", "warnings", "status", "error")
NEW_SCHEMA = pa.schema([SCHEMA.field(name) for name in NEW_COLUMNS])


def map_table(
    pipe: Pipeline,
    data: Any,
    text_column: str,
    batch_size: int,
    id_column: str | None,
) -> Any:
    """The Dataset or DataFrame `data` with NEW_COLUMNS added; see Pipeline.map."""
    if isinstance(data, (list, tuple)):
        data = _list_rows(data, text_column)
        columns = list(dict.fromkeys(key for row in data for key in row)) or [text_column]
    elif hasattr(data, "column_names") or hasattr(data, "columns"):
        columns = list(data.column_names if hasattr(data, "column_names") else data.columns)
    else:
        raise TypeError(f"map takes {TAKES}, not a {type(data).__name__}")
    _check_columns(columns, text_column, id_column)
    texts, ids = _column(data, text_column), _ids(data, id_column)
    rows: list[dict[str, Any]] = []
    bar = progress_bar(len(texts), pipe.config.run.progress, unit="article")
    try:
        for start in range(0, len(texts), batch_size):
            batch = [
                _article(ids[n], texts[n], text_column)
                for n in range(start, min(start + batch_size, len(texts)))
            ]
            rows.extend(_results(pipe, batch))
            bar.update(len(batch))
    finally:
        bar.close()
    new = pa.Table.from_pylist(rows, schema=NEW_SCHEMA)
    return _with_columns(data, new)


def _check_columns(columns: list[str], text_column: str, id_column: str | None) -> None:
    missing = [c for c in (text_column, id_column) if c is not None and c not in columns]
    if missing:
        raise KeyError(
            f"no column {', '.join(map(repr, missing))}; the columns are: "
            f"{', '.join(map(repr, columns))}"
        )
    taken = [name for name in NEW_COLUMNS if name in columns]
    if taken:
        raise ValueError(
            f"the table already has column(s) {', '.join(map(repr, taken))}, which map would "
            "overwrite; rename or remove them first (e.g. ds.rename_column / df.rename)"
        )


TAKES = (
    "a datasets.Dataset, a pandas DataFrame, or a list of texts or of dicts "
    "(each with the text column)"
)


def _list_rows(data: list[Any] | tuple[Any, ...], text_column: str) -> list[dict[str, Any]]:
    """A list's items as rows: a text is a row holding it under `text_column`."""
    rows = []
    for number, item in enumerate(data):
        if isinstance(item, str):
            rows.append({text_column: item})
        elif isinstance(item, Mapping):
            rows.append(dict(item))
        else:
            raise TypeError(f"map takes {TAKES}; item {number} is a {type(item).__name__}")
    return rows


def _column(data: Any, name: str) -> list[Any]:
    if isinstance(data, list):  # rows from _list_rows; a dict without the key has no text
        return [row.get(name) for row in data]
    if hasattr(data, "column_names"):  # a Dataset: read one column, not whole rows
        return list(data.select_columns([name])[name])
    return list(data[name].tolist())


def _ids(data: Any, id_column: str | None) -> list[str]:
    if id_column is None:
        return [f"row-{n}" for n in range(len(data))]
    return [str(value) for value in _column(data, id_column)]


def _article(article_id: str, text: Any, column: str) -> Article:
    """An article to run, or one that already carries why its row cannot run."""
    error = None
    if text is None or text != text:  # None, or pandas' NaN for a missing value
        error = f"read: no text: column {column!r} is null in this row"
    elif not isinstance(text, str):
        error = f"read: column {column!r} holds {type(text).__name__}, not text"
    elif not text.strip():
        error = "read: no text (empty)" if not text else "read: only whitespace, no text"
    return Article(id=article_id, text=text if isinstance(text, str) else "", error=error)


def _results(pipe: Pipeline, articles: list[Article]) -> Iterator[dict[str, Any]]:
    for article in articles:
        if article.error is None:
            check_language(article, pipe.config.run.non_indonesian)
    pipe.process(articles)
    for article in articles:
        row = record_to_row(article_record(article))
        yield {name: row[name] for name in NEW_COLUMNS}


def _with_columns(data: Any, new: pa.Table) -> Any:
    if isinstance(data, list):
        return [{**row, **added} for row, added in zip(data, new.to_pylist(), strict=True)]
    if hasattr(data, "column_names"):
        import datasets
        from datasets.table import InMemoryTable

        added = datasets.Dataset(InMemoryTable(new))
        return datasets.concatenate_datasets([data, added], axis=1)
    out = data.copy()
    for name in NEW_COLUMNS:
        out[name] = new.column(name).to_pylist()
    return out
