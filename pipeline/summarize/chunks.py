"""Text fitted to a summarizer's window, counted on its backend: whole sentences packed
into the fewest chunks that fit, a sentence over the window cut at clauses, and a clause
still over it cut between tokens."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generation.backend import Backend
from pipeline.splitter import cut_at_clauses


@dataclass(frozen=True)
class Piece:
    """A sentence, or a clause of one over the window, and its tokens inside a chunk."""

    text: str
    tokens: int  # after another piece (a space before it)
    first_tokens: int  # opening a chunk (no space before it: byte-level BPE counts differ)
    sentence: int  # index into the sentences it was cut from


class Chunker:
    """Counts and cuts text for one backend and window."""

    def __init__(self, backend: Backend, window: int):
        self.backend = backend
        self.window = window

    def count(self, text: str) -> int:
        """Tokens of `text` as one input, begin/end tokens included."""
        return self.backend.count_tokens([text])[0]

    def truncate(self, text: str) -> str:
        """The text the window's first tokens hold."""
        return self.backend.truncate(text, self.window)

    def budget(self) -> int:
        """Tokens of text one input can hold: the window less its begin/end tokens."""
        return self.window - self.count("")

    def pack(self, sentences: list[str]) -> list[str]:
        """The fewest chunks of whole sentences, in order, each within the window.

        Every chunk is counted again whole before it is used, so no chunk is ever cut at
        the window; a sentence over the window is cut at clauses (see pieces), and a clause
        still over it at token boundaries.
        """
        budget = self.budget()
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for piece in self.pieces(sentences):
            cost = piece.tokens if current else piece.first_tokens
            if current and used + cost > budget:
                chunks += self._fit(current)
                current, used, cost = [], 0, piece.first_tokens
            current.append(piece.text)
            used += cost
        if current:
            chunks += self._fit(current)
        return chunks

    def pieces(self, sentences: list[str]) -> list[Piece]:
        """Sentences, those over the window cut at clauses, with their token counts as they
        sit inside a chunk (after a space, without the begin/end tokens a chunk has once)."""
        budget = self.budget()
        counted = self._inner_counts(sentences)
        parts: list[tuple[str, int]] = []  # (text, index of its sentence)
        inner: list[int | None] = []  # tokens after a space; None: a clause, counted below
        for index, (sentence, tokens) in enumerate(zip(sentences, counted, strict=True)):
            if tokens <= budget:
                parts.append((sentence, index))
                inner.append(tokens)
                continue
            max_chars = max(8, int(len(sentence) * budget / tokens * 0.8))
            for a, b in cut_at_clauses(sentence, max_chars):
                part = sentence[a:b].strip()
                if part:
                    parts.append((part, index))
                    inner.append(None)
        cut = [text for (text, _), n in zip(parts, inner, strict=True) if n is None]
        clauses = iter(self._inner_counts(cut) if cut else [])
        first = self._inner_counts([text for text, _ in parts], after_space=False)
        return [
            Piece(text, tokens if tokens is not None else next(clauses), opening, index)
            for (text, index), tokens, opening in zip(parts, inner, first, strict=True)
        ]

    def _inner_counts(self, texts: list[str], *, after_space: bool = True) -> list[int]:
        """Tokens of each text inside a chunk, without the begin/end tokens it has once."""
        prefix = " " if after_space else ""
        return self.backend.count_tokens([prefix + t for t in texts], special_tokens=False)

    def _fit(self, texts: list[str]) -> list[str]:
        """`texts` joined into chunks that the window holds whole (usually one)."""
        joined = " ".join(texts)
        if self.count(joined) <= self.window:
            return [joined]
        if len(texts) > 1:  # the per-sentence estimate ran short: split the group
            half = len(texts) // 2
            return self._fit(texts[:half]) + self._fit(texts[half:])
        # One clause over the window (no clause boundary fits): cut between tokens.
        budget = self.budget()
        ids = self.backend.token_ids([joined], special_tokens=False)[0]
        step = max(1, budget - 8)  # decoding and encoding again can merge a few tokens
        return [self.backend.decode(ids[i : i + step]).strip() for i in range(0, len(ids), step)]
