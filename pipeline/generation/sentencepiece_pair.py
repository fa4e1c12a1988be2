"""A CTranslate2-native model folder's own tokenization: its source and target
SentencePiece models behind the part of a Hugging Face tokenizer's interface that the
CTranslate2 backend uses (pipeline.generation.tokens.HubTokenizerMethods).

Ids are the source model's on the way in (token_ids, convert_ids_to_tokens, decode) and
the target model's on the way out (convert_tokens_to_ids, batch_decode, text_target): the
backend hands CTranslate2 source pieces and reads back target pieces, so the two id
spaces never meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Names CTranslate2-native folders give their SentencePiece models (quickmt, OpenNMT/eole
# exports), as (source, target); a single shared model is both.
SPM_NAMES = (
    ("src.spm.model", "tgt.spm.model"),
    ("source.spm", "target.spm"),
    ("sentencepiece.model", "sentencepiece.model"),
    ("spm.model", "spm.model"),
)


def find_sentencepiece_models(folder: Path) -> tuple[Path, Path] | None:
    """The folder's (source, target) SentencePiece models, if it has a known pair."""
    for source, target in SPM_NAMES:
        if (folder / source).is_file() and (folder / target).is_file():
            return folder / source, folder / target
    return None


class SentencePiecePair:
    """Source and target SentencePiece models as the CTranslate2 backend's tokenizer."""

    pad_token_id = None  # CTranslate2 pads itself
    model_max_length = 1 << 30  # the stages cut long texts themselves

    def __init__(self, source_model: Path, target_model: Path, *, eos: str, unk: str):
        import sentencepiece as spm

        self.source = spm.SentencePieceProcessor(model_file=str(source_model))
        self.target = spm.SentencePieceProcessor(model_file=str(target_model))
        self.eos_token, self.unk_token = eos, unk
        self.unk_token_id = self.target.unk_id()
        self.all_special_tokens = [eos, unk]

    def __call__(
        self,
        texts: Sequence[str] | None = None,
        *,
        text_target: str | None = None,
        truncation: bool = False,
        max_length: int | None = None,
        add_special_tokens: bool = True,  # CTranslate2 adds what its config says itself
    ) -> dict[str, Any]:
        if text_target is not None:
            return {"input_ids": list(self.target.encode(text_target))}
        ids = [list(x) for x in self.source.encode(list(texts or []))]
        if truncation and max_length:
            ids = [x[:max_length] for x in ids]
        return {"input_ids": ids}

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | list[str]:
        if isinstance(ids, int):
            return str(self.source.id_to_piece(ids))
        return [str(self.source.id_to_piece(int(i))) for i in ids]

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        if isinstance(tokens, str):
            return int(self.target.piece_to_id(tokens))
        return [int(self.target.piece_to_id(t)) for t in tokens]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return str(self.source.decode([int(i) for i in ids]))

    def batch_decode(
        self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = True
    ) -> list[str]:
        return [str(self.target.decode([int(i) for i in ids])) for ids in sequences]

    def get_vocab(self) -> dict[str, int]:
        return {self.target.id_to_piece(i): i for i in range(self.target.get_piece_size())}
