"""The Backend protocol's token methods on the model's Hugging Face tokenizer, written once:
both backends tokenize with it (CTranslate2 converts from the same Hugging Face folder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class HubTokenizerMethods:
    """token_ids, count_tokens, target_token_ids, decode and truncate on `self.tokenizer`,
    and the piece <-> id conversions the backends themselves need."""

    tokenizer: PreTrainedTokenizerBase

    def token_ids(
        self,
        texts: Sequence[str],
        *,
        truncate_to: int | None = None,
        special_tokens: bool = True,
    ) -> list[list[int]]:
        """Token ids with the tokenizer's special tokens; cut only when `truncate_to` asks."""
        kwargs: dict[str, Any] = {}
        if truncate_to:
            kwargs |= {"truncation": True, "max_length": truncate_to}
        if not special_tokens:
            kwargs["add_special_tokens"] = False
        encoded: list[list[int]] = self.tokenizer(list(texts), **kwargs)["input_ids"]
        return list(encoded)

    def count_tokens(self, texts: Sequence[str], *, special_tokens: bool = True) -> list[int]:
        return [len(ids) for ids in self.token_ids(texts, special_tokens=special_tokens)]

    def target_token_ids(self, text: str) -> tuple[int, ...]:
        encoded: list[int] = self.tokenizer(text_target=text, add_special_tokens=False)["input_ids"]
        return tuple(encoded)

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        text = self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)
        assert isinstance(text, str)  # one sequence of ids decodes to one text
        return text

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Token ids -> the vocabulary's pieces (what CTranslate2 and shortlists read)."""
        pieces = self.tokenizer.convert_ids_to_tokens(list(ids))
        return [pieces] if isinstance(pieces, str) else list(pieces)

    def piece_ids(self, pieces: Sequence[str]) -> list[int]:
        """The vocabulary's pieces -> token ids."""
        ids = self.tokenizer.convert_tokens_to_ids(list(pieces))
        return [ids] if isinstance(ids, int) else list(ids)

    def truncate(self, text: str, window: int) -> str:
        ids = self.token_ids([text], truncate_to=window)[0]
        return self.decode(ids, skip_special_tokens=True)
