"""Required token sequences forced into the output during decoding (glossary terms, URLs).

transformers 5 moved its constrained beam search out of the library (to a hub repo this
project cannot fetch), so id2en forces required sequences with one logits processor that
works inside any search, beam or greedy:

- a hypothesis that has begun a required sequence (its last tokens are a proper prefix of
  one still missing) must go on with it;
- the end token is banned while a required sequence is missing;
- when the steps left are only just enough for what is missing, the next missing sequence
  is started.

A forced token keeps the log-probability the model gave it, so a forced output scores low
where the model disagreed. Which row of the batch needs what is given per input row;
beams of one input share its requirements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.generation.backend import RequiredTokens

Sequences = Sequence[tuple[int, ...]]  # the token sequences one output must hold


class RequiredTokensProcessor:
    """A transformers LogitsProcessor (called with decoder input_ids and scores) forcing
    each batch row's RequiredTokens."""

    def __init__(
        self,
        rows: Sequence[RequiredTokens],
        *,
        num_beams: int,
        prompt_length: int,
        max_new_tokens: int,
        eos_token_ids: Sequence[int],
    ):
        self.rows = list(rows)
        self.num_beams = max(1, num_beams)
        self.prompt_length = prompt_length
        self.max_new_tokens = max_new_tokens
        self.eos = list(eos_token_ids)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        for row in range(input_ids.shape[0]):
            required = self.rows[row // self.num_beams].sequences
            if not required:
                continue
            generated = input_ids[row, self.prompt_length :].tolist()
            token = self._next(generated, required)
            if token is not None:
                kept = scores[row, token].clone()
                scores[row] = float("-inf")
                # A banned token (-inf) forced anyway gets a very low but finite score.
                scores[row, token] = kept if bool(kept.isfinite()) else -1e4
            elif missing_sequences(generated, required) and self.eos:
                scores[row, self.eos] = float("-inf")
        return scores

    def _next(self, generated: list[int], required: Sequences) -> int | None:
        """The token this hypothesis must take next, or None if it is free."""
        missing = missing_sequences(generated, required)
        if not missing:
            return None
        for sequence in missing:  # go on with a sequence already begun
            for done in range(min(len(sequence) - 1, len(generated)), 0, -1):
                if generated[len(generated) - done :] == list(sequence[:done]):
                    return sequence[done]
        # One step is kept for the end token.
        steps_left = self.max_new_tokens - len(generated) - 1
        if steps_left <= sum(len(s) for s in missing):
            return missing[0][0]
        return None


def missing_sequences(generated: Sequence[int], required: Sequences) -> list[tuple[int, ...]]:
    """The required sequences not (yet) found in `generated`, in order."""
    return [s for s in required if not _contains(generated, s)]


def _contains(tokens: Sequence[int], sequence: Sequence[int]) -> bool:
    n = len(sequence)
    if n == 0:
        return True
    first = sequence[0]
    return any(
        tokens[i] == first and list(tokens[i : i + n]) == list(sequence)
        for i in range(len(tokens) - n + 1)
    )
