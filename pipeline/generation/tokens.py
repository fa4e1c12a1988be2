"""The Backend protocol's token methods on the model's Hugging Face tokenizer, written once:
both backends tokenize with it (CTranslate2 converts from the same Hugging Face folder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.generation.conditioning import NO_CONDITIONING, Conditioning

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class HubTokenizerMethods:
    """token_ids, count_tokens, target_token_ids, decode and truncate on `self.tokenizer`,
    and the piece <-> id conversions the backends themselves need. Inputs get the model's
    source prefix with the special tokens; outputs lose its language tokens."""

    tokenizer: PreTrainedTokenizerBase
    conditioning: Conditioning = NO_CONDITIONING

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
        prefix = self.conditioning.source_prefix if special_tokens else ""
        inputs = [prefix + text for text in texts]
        encoded: list[list[int]] = self.tokenizer(inputs, **kwargs)["input_ids"]
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

    def decode_outputs(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        """Generated ids -> texts, without special and language tokens (a forced target
        language token, or one a model wrote on its own)."""
        drop = self.conditioning.language_token_ids
        kept = [[int(i) for i in ids if int(i) not in drop] for ids in outputs]
        texts: list[str] = self.tokenizer.batch_decode(kept, skip_special_tokens=True)
        return texts

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
        kept = self.decode_outputs([ids])[0]
        prefix = self.conditioning.source_prefix.strip()
        return kept.removeprefix(prefix).lstrip() if prefix else kept
