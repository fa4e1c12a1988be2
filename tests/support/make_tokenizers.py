"""Regenerate the committed test tokenizers in ``tests/support/tokenizers/`` (a maintainer's
tool, never run by the tests or the builders).

The trainers' output depends on the library versions installed, so the builders read the
files written here instead of training: every machine and every release then tokenizes the
same. ``tests/test_tiny_models.py`` pins a digest of them; after regenerating, update that
digest in the same commit and say why.

    python -m tests.support.make_tokenizers
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import string
from collections.abc import Iterable
from pathlib import Path

from tests.support.corpus import builtin_pairs, iter_texts

TOKENIZERS = Path(__file__).resolve().parent / "tokenizers"
MARIAN_SPM = TOKENIZERS / "marian-unigram.spm"
BART_BPE = TOKENIZERS / "bart-bpe.json"
BART_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # BART's ids 0-3, in this order

# Every printable ASCII character is a piece, as in opus-mt's vocabulary, so URLs,
# e-mail addresses, @handles and #hashtags can be written (and forced) exactly.
_ASCII = string.ascii_letters + string.digits + string.punctuation


def train_sentencepiece(texts: Iterable[str], vocab_size: int = 1000) -> bytes:
    """Serialized unigram SentencePiece model (no bos/eos: Marian appends </s> itself)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,  # the corpus may be too small for the requested size
        bos_id=-1,
        eos_id=-1,
        num_threads=1,  # single-threaded training keeps the model byte-identical run to run
        minloglevel=2,
    )
    return buf.getvalue()


def train_bpe(texts: Iterable[str], vocab_size: int = 1000) -> dict:
    """Byte-level BPE as {"vocab": {piece: id}, "merges": [[left, right], ...]}, BART's
    special ids 0-3 first."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts,
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(BART_SPECIALS),
        show_progress=False,
    )
    model = json.loads(bpe.to_str())["model"]
    # Older tokenizers releases store merges as "left right" strings.
    merges = [m.split(" ", 1) if isinstance(m, str) else list(m) for m in model["merges"]]
    return {"vocab": dict(model["vocab"]), "merges": merges}


def tokenizer_files_digest() -> str:
    """SHA-256 over the committed tokenizer files (names and bytes)."""
    digest = hashlib.sha256()
    for path in (MARIAN_SPM, BART_BPE):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    pairs = builtin_pairs()
    TOKENIZERS.mkdir(parents=True, exist_ok=True)
    both_sides = iter_texts(pairs, indonesian=True, english=True)
    MARIAN_SPM.write_bytes(train_sentencepiece(itertools.chain(both_sides, [_ASCII])))
    bpe = train_bpe(iter_texts(pairs, indonesian=False, english=True))
    BART_BPE.write_text(json.dumps(bpe, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(MARIAN_SPM, BART_BPE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
