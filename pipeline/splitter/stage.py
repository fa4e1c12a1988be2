"""split.rules: normalise the article text and cut it into Indonesian sentences."""

from __future__ import annotations

from pipeline.config import PipelineConfig
from pipeline.inputs.language import sentence_language
from pipeline.splitter import normalize_text, split_sentences
from pipeline.types import Article


class RuleSplitStage:
    name = "split.rules"

    def __init__(self, config: PipelineConfig):
        self.settings = config.split

    def load(self) -> None:
        """Nothing to load: the rules are code."""

    def __call__(self, articles: list[Article]) -> list[Article]:
        for article in articles:
            if article.error is not None or article.sentences:
                continue
            # Offsets in the record refer to the normalised text, which the record keeps.
            article.text = normalize_text(article.text)
            article.sentences = split_sentences(
                article.text,
                max_chars=self.settings.max_chars,
                extra_abbreviations=self.settings.extra_abbreviations,
            )
            for number, sentence in enumerate(article.sentences):
                sentence.lang = sentence_language(sentence.text)
                if sentence.cut:
                    article.warn(f"sentence {number}: {sentence.cut}")
            if not article.sentences:
                article.warn("no sentences found: the text is empty or whitespace only")
        return articles
