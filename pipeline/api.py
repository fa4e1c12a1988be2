"""The Python entry point: build a pipeline from a config and run it on text."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Sequence
from typing import Any, overload

from pipeline.config import PipelineConfig, load_config
from pipeline.inputs.language import SKIPPED, check_language
from pipeline.progress import notice
from pipeline.registry import FAMILIES, Stage, build_stage, holds_model
from pipeline.types import Article

logger = logging.getLogger(__name__)


class Pipeline:
    """split -> translate -> summarize over batches of articles.

    Building a pipeline loads no model; the first batch (or `load()`) does:

    >>> pipe = Pipeline.from_config("default", overrides={"translate.num_beams": 2})
    >>> [stage.name for _, stage in pipe.stages]
    ['split.rules', 'translate.seq2seq', 'summarize.seq2seq']
    >>> article = pipe("Presiden meresmikan jembatan baru di Jakarta.")  # doctest: +SKIP
    >>> article.english, article.summary  # doctest: +SKIP
    """

    def __init__(self, config: PipelineConfig):
        self.config = config
        self.stages: list[tuple[str, Stage]] = [
            (family, stage)
            for family in FAMILIES
            if (stage := build_stage(family, config)) is not None
        ]

    @classmethod
    def from_config(
        cls,
        source: str | os.PathLike[str] | dict[str, Any] | PipelineConfig | None = None,
        overrides: list[str] | dict[str, Any] | None = None,
    ) -> Pipeline:
        return cls(load_config(source, overrides))

    def load(self) -> Pipeline:
        """Load every stage's models now instead of on the first batch, so that a missing
        or broken model fails here, before any article is touched."""
        models = [getattr(self.config, f).model for f, s in self.stages if holds_model(s.name)]
        if models:
            notice(f"loading models ({', '.join(models)}) …", self.config.run.progress)
        for _, stage in self.stages:
            stage.load()
        return self

    # A str is also a Sequence[str]: the first overload wins, as the isinstance check does.
    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, inputs: str | Article, ids: None = None
    ) -> Article: ...
    @overload
    def __call__(
        self, inputs: Sequence[str | Article], ids: Sequence[str] | None = None
    ) -> list[Article]: ...

    def __call__(self, inputs: Any, ids: Sequence[str] | None = None) -> Any:
        single = isinstance(inputs, (str, Article))
        items = [inputs] if single else list(inputs)
        names = list(ids) if ids is not None else [f"text-{i}" for i in range(len(items))]
        if len(names) != len(items):
            raise ValueError(f"got {len(items)} texts but {len(names)} ids")
        articles = [
            item if isinstance(item, Article) else Article(id=name, text=item)
            for item, name in zip(items, names, strict=True)
        ]
        for article in articles:
            check_language(article, self.config.run.non_indonesian)
        self.process(articles)
        return articles[0] if single else articles

    def map(
        self,
        data: Any,
        text_column: str = "text",
        batch_size: int | None = None,
        *,
        id_column: str | None = None,
    ) -> Any:
        """Run the pipeline over a `datasets.Dataset` (or a pandas DataFrame) and return the
        same kind of table with new columns: english, summary, summary_score (as in
        records.parquet), sentences (a list of {text, paragraph, start, end, en, cut}),
        warnings, status (ok | failed | skipped) and error. A list of texts, or of dicts
        holding `text_column`, gives a list of dicts: each row with those keys added. The
        original columns are left as they are; a row whose text is null or empty gets
        status "failed" and the others run. A progress bar shows in notebooks.

        `batch_size` articles go through the stages together (default run.batch_articles);
        `id_column` names the articles in log messages (default "row-N").

        >>> ds = pipe.map(ds, text_column="body")  # doctest: +SKIP
        >>> ds[0]["english"], ds[0]["status"]  # doctest: +SKIP
        """
        from pipeline.output.mapping import map_table

        size = batch_size or self.config.run.batch_articles
        if size < 1:
            raise ValueError(f"batch_size must be at least 1, got {size}")
        return map_table(self, data, text_column, size, id_column)

    def process(self, articles: list[Article]) -> list[Article]:
        """Run every stage; an article that makes a stage fail is marked, the rest go on.
        Articles already failed or skipped (see run.non_indonesian) are passed over."""
        for family, stage in self.stages:
            todo = [a for a in articles if a.error is None and SKIPPED not in a.meta]
            self._run_stage(family, stage, todo)
        return articles

    def _run_stage(self, family: str, stage: Stage, articles: list[Article]) -> None:
        if not articles:
            return
        try:
            stage(articles)
            return
        except Exception as exc:
            if len(articles) == 1 or _is_setup_error(exc):
                raise_or_mark(family, articles, exc)
                return
            logger.warning(
                "%s failed on a batch of %d (%s); retrying one by one", family, len(articles), exc
            )
        for article in articles:
            try:
                stage([article])
            except Exception as exc:
                raise_or_mark(family, [article], exc)


def _is_setup_error(exc: Exception) -> bool:
    """Errors no article caused (a missing model): retrying per article cannot help."""
    from pipeline.errors import ModelLoadError

    return isinstance(exc, ModelLoadError)


def raise_or_mark(family: str, articles: list[Article], exc: Exception) -> None:
    if _is_setup_error(exc):
        raise exc
    for article in articles:
        article.error = f"{family}: {type(exc).__name__}: {exc}"
        article.meta["traceback"] = traceback.format_exc(limit=4)
        logger.error("article %s failed in %s: %s", article.id, family, exc)
