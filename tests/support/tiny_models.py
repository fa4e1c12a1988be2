"""Write Hugging Face model folders (tiny or full-size random) for tests and benchmarks.

No hub access is needed: the tokenizers are the committed files in ``tokenizers/`` (made once
from the project's own corpus by ``make_tokenizers.py``; nothing is trained here, so every
machine and library release builds the same folders) and weights are randomly initialised.
The folders load through the same ``from_pretrained(local_dir)`` path users take with the
real checkpoints, and mirror the special-token layout and generation defaults of
Helsinki-NLP/opus-mt-id-en and sshleifer/distilbart-cnn-12-6.

CLI, from the checkout's root: ``python -m tests.support.tiny_models OUT_DIR [--random-real]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import string
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
from transformers import (
    AddedToken,
    BartConfig,
    BartForConditionalGeneration,
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    MBart50Tokenizer,
    MBartConfig,
    MBartForConditionalGeneration,
    NllbTokenizer,
    PegasusConfig,
    PegasusForConditionalGeneration,
    PegasusTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    RobertaTokenizer,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
)
from transformers import initialization as hf_init
from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES
from transformers.utils import logging as hf_logging

from tests.support.corpus import builtin_pairs, iter_texts
from tests.support.make_tokenizers import BART_BPE, MARIAN_SPM

logger = logging.getLogger(__name__)

OPUS_MT_ID_EN_VOCAB_SIZE = 54796
DISTILBART_VOCAB_SIZE = 50264

# Marian layout: eos and unk first, pad (= decoder start) is the last id.
MARIAN_EOS, MARIAN_UNK, MARIAN_PAD = "</s>", "<unk>", "<pad>"
# BART layout: <s>=0, <pad>=1, </s>=2, <unk>=3, ..., <mask> = last id.
BART_MASK = "<mask>"


@dataclass(frozen=True)
class Seq2SeqDims:
    """Architecture sizes (plus init scale) shared by the Marian and BART configs."""

    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn: int
    max_positions: int
    init_std: float = 0.02  # the real checkpoints' value


# With std 0.02 a 16-wide random model ignores its input and emits the same tokens for every
# sentence; 0.3 makes outputs differ per input, so tests can catch batch reordering bugs.
_TINY_INIT_STD = 0.3
TINY_MARIAN = Seq2SeqDims(16, 2, 2, 2, 32, 512, _TINY_INIT_STD)
OPUS_MT_ID_EN = Seq2SeqDims(512, 6, 6, 8, 2048, 512)
# 128 positions on purpose: tests can overflow the summarizer window with modest text.
TINY_BART = Seq2SeqDims(16, 2, 2, 2, 32, 128, _TINY_INIT_STD)
DISTILBART_CNN_12_6 = Seq2SeqDims(1024, 12, 6, 16, 4096, 1024)

# distilbart-cnn-12-6's summarization defaults.
DISTILBART_SUMMARIZATION = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 142,
    "min_length": 56,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}
# Same knobs with lengths scaled down (56 -> 8, 142 -> 24) so tiny-model tests stay fast
# while still exercising min/max length handling.
TINY_SUMMARIZATION = {**DISTILBART_SUMMARIZATION, "min_length": 8, "max_length": 24}


# ---------------------------------------------------------------------------- configs


def _dims_kwargs(dims: Seq2SeqDims) -> dict[str, Any]:
    return {
        "d_model": dims.d_model,
        "encoder_layers": dims.encoder_layers,
        "decoder_layers": dims.decoder_layers,
        "encoder_attention_heads": dims.heads,
        "decoder_attention_heads": dims.heads,
        "encoder_ffn_dim": dims.ffn,
        "decoder_ffn_dim": dims.ffn,
        "max_position_embeddings": dims.max_positions,
        "init_std": dims.init_std,
    }


def marian_config(vocab_size: int, dims: Seq2SeqDims = TINY_MARIAN) -> MarianConfig:
    """Config mirroring opus-mt-id-en (pad = decoder start = last id, eos = 0)."""
    pad_id = vocab_size - 1
    return MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        **_dims_kwargs(dims),
        activation_function="swish",
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        # Informational only: transformers' Marian always uses static sinusoidal positions.
        static_position_embeddings=True,
        dropout=0.1,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        bos_token_id=0,
        forced_eos_token_id=0,
        architectures=["MarianMTModel"],
    )


def marian_generation_config(pad_id: int, num_beams: int = 6) -> GenerationConfig:
    """generation_config.json as shipped with opus-mt-id-en."""
    return GenerationConfig(
        bad_words_ids=[[pad_id]],
        bos_token_id=0,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        pad_token_id=pad_id,
        max_length=512,
        num_beams=num_beams,
        # Present in the Helsinki-NLP generation configs; keeps beam scores normalised
        # after the bad-words processor masks <pad>.
        renormalize_logits=True,
    )


def bart_config(
    vocab_size: int,
    dims: Seq2SeqDims = TINY_BART,
    summarization: dict[str, Any] | None = None,
) -> BartConfig:
    """Config mirroring distilbart-cnn-12-6 (generation knobs live in generation_config)."""
    return BartConfig(
        vocab_size=vocab_size,
        **_dims_kwargs(dims),
        activation_function="gelu",
        scale_embedding=False,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
        task_specific_params={"summarization": dict(summarization or TINY_SUMMARIZATION)},
        architectures=["BartForConditionalGeneration"],
    )


def bart_generation_config(summarization: dict[str, Any] | None = None) -> GenerationConfig:
    """generation_config.json like distilbart-cnn-12-6's (summarization defaults on top)."""
    return GenerationConfig(
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=0,
        forced_eos_token_id=2,
        **(summarization or TINY_SUMMARIZATION),
    )


# ------------------------------------------------------------------------- tokenizers


def _filler_pieces(n: int, prefix: str, taken: Iterable[str]) -> list[str]:
    """Word-like dummy pieces that pad a vocab to a fixed size; they decode to ' wN'."""
    taken_set = set(taken)
    out: list[str] = []
    i = 0
    while len(out) < n:
        piece = f"{prefix}w{i}"
        if piece not in taken_set:
            out.append(piece)
        i += 1
    return out


def _is_filler(piece: str) -> bool:
    """Whether a piece is one _filler_pieces made ("▁w12" / "Ġw12")."""
    return piece[:2] in ("▁w", "Ġw") and piece[2:].isdigit()


def _marian_vocab(spm_proto: bytes, vocab_size: int | None) -> dict[str, int]:
    """vocab.json with the opus-mt layout; padded with filler pieces up to vocab_size."""
    sp = spm.SentencePieceProcessor(model_proto=spm_proto)
    pieces = [MARIAN_EOS, MARIAN_UNK]
    pieces += [
        sp.id_to_piece(i)
        for i in range(sp.get_piece_size())
        if not (sp.is_unknown(i) or sp.is_control(i))
    ]
    if vocab_size is not None:
        if vocab_size < len(pieces) + 1:
            raise ValueError(f"vocab_size {vocab_size} < {len(pieces) + 1} pieces")
        pieces += _filler_pieces(vocab_size - len(pieces) - 1, "▁", pieces)
    pieces.append(MARIAN_PAD)
    return {piece: i for i, piece in enumerate(pieces)}


def write_marian_tokenizer(out_dir: Path, *, vocab_size: int | None = None) -> MarianTokenizer:
    """Save a MarianTokenizer folder around the committed Indonesian+English SentencePiece
    model (padded with filler pieces to ``vocab_size``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proto = MARIAN_SPM.read_bytes()
    for name in ("source.spm", "target.spm"):  # the real model has two; one model serves both
        (out_dir / name).write_bytes(proto)
    vocab = _marian_vocab(proto, vocab_size)
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = MarianTokenizer(
        source_spm=str(out_dir / "source.spm"),
        target_spm=str(out_dir / "target.spm"),
        vocab=str(out_dir / "vocab.json"),
        source_lang="id",
        target_lang="en",
        model_max_length=512,
    )
    tok.save_pretrained(out_dir)  # writes tokenizer_config.json with the class name
    return tok


def write_bart_tokenizer(
    out_dir: Path, *, vocab_size: int | None = None, model_max_length: int = 128
) -> RobertaTokenizer:
    """Save BART's tokenizer (mask = last id) around the committed English byte-level BPE
    (padded with filler pieces to ``vocab_size``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bpe = json.loads(BART_BPE.read_text(encoding="utf-8"))
    vocab: dict[str, int] = bpe["vocab"]
    merges = [tuple(pair) for pair in bpe["merges"]]
    if vocab_size is not None:
        fillers = _filler_pieces(vocab_size - len(vocab) - 1, "Ġ", vocab)
        vocab.update({piece: len(vocab) + i for i, piece in enumerate(fillers)})
    vocab[BART_MASK] = len(vocab)
    tok = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)
    tok.save_pretrained(out_dir)
    return tok


# ----------------------------------------------------------------------------- models


@contextlib.contextmanager
def _quiet_build() -> Iterator[None]:
    """Silence save-time progress bars and the sacremoses hint: noise in test/CI logs."""
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
            yield
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


def _fill_matrices(model: PreTrainedModel, std: float) -> None:
    """Draw each unique trainable matrix once from N(0, std), flagged so HF's init skips it.

    HF's per-module init re-draws tied embeddings once per owner (4x for BART) on top of
    torch's constructor init; one pass makes full-size init 2-4x faster (same distribution).
    """
    for param in model.parameters():  # parameters() yields tied tensors once
        if param.ndim >= 2 and param.requires_grad:  # frozen sinusoidal positions excluded
            param.normal_(0.0, std)
            param._is_hf_initialized = True
    for module in model.modules():  # HF zeroes padding rows, but skips flagged weights
        if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
            module.weight[module.padding_idx].zero_()


def _random_model(
    cls: type[PreTrainedModel], config: PretrainedConfig, seed: int, std: float | None = None
) -> PreTrainedModel:
    """Randomly initialised model; the seed makes weights identical across builds."""
    torch.manual_seed(seed)
    with hf_init.no_init_weights():  # skip torch's constructor init and HF's pass
        model = cls(config)
    with torch.no_grad():
        _fill_matrices(model, std if std is not None else config.init_std)
    model.init_weights()  # the rest: norms, biases, sinusoidal positions, logits bias; ties
    for param in model.parameters():
        if hasattr(param, "_is_hf_initialized"):
            del param._is_hf_initialized  # don't leak the flag into later re-inits
    return model.eval()


def _save_model(model: PreTrainedModel, gen: GenerationConfig, out_dir: Path) -> None:
    model.generation_config = gen
    model.save_pretrained(out_dir, safe_serialization=True)


def _is_trained_word(piece: str, words: set[str] | None) -> bool:
    """A whole word the tokenizer learned (word-start marker, then 2+ letters), and one of
    ``words`` when given; never a filler (its digits are not letters)."""
    word = piece[1:]
    return (
        piece[:1] in ("▁", "Ġ")
        and len(word) > 1
        and word.isalpha()
        and (words is None or word in words)
    )


def _english_words() -> set[str]:
    """Words the corpus's English side uses more often than its Indonesian side (which
    quotes some English: "the" is in both)."""

    def counts(indonesian: bool) -> Counter[str]:
        texts = iter_texts(builtin_pairs(), indonesian=indonesian, english=not indonesian)
        return Counter(w.strip(string.punctuation) for text in texts for w in text.split())

    english, indonesian = counts(indonesian=False), counts(indonesian=True)
    return {word for word, n in english.items() if n > indonesian[word]}


def _bias_non_words(
    model: PreTrainedModel,
    tok: PreTrainedTokenizerBase,
    bias: float,
    words: set[str] | None = None,
) -> None:
    """Add ``bias`` to the logits of every piece but whole trained words (of ``words`` when
    given) and the special tokens (final_logits_bias, which CTranslate2 converts as the
    output projection's bias).

    A random model otherwise writes mostly the vocab's filler pieces (" w5830": ~5 BPE tokens
    each), single characters or Indonesian words, so its text re-tokenizes for BART at
    several times its length; with the bias it writes English words, about as long in BART
    tokens as real text. Costs nothing at decode time: it changes which tokens win, not how
    many steps are taken.
    """
    special = set(tok.all_special_ids)
    biased = [
        i
        for piece, i in tok.get_vocab().items()
        if not (_is_trained_word(piece, words) or i in special)
    ]
    with torch.no_grad():
        model.final_logits_bias[..., biased] = bias


def _build_marian(
    out_dir: Path, dims: Seq2SeqDims, vocab_size: int | None, seed: int, non_word_bias: float = 0.0
) -> Path:
    start = time.perf_counter()
    with _quiet_build():
        tok = write_marian_tokenizer(out_dir, vocab_size=vocab_size)
        config = marian_config(len(tok.encoder), dims)
        model = _random_model(MarianMTModel, config, seed)
        if non_word_bias:
            _bias_non_words(model, tok, non_word_bias, _english_words())
        _save_model(model, marian_generation_config(config.pad_token_id), out_dir)
    logger.info(
        "marian (%d vocab) -> %s in %.2fs", config.vocab_size, out_dir, time.perf_counter() - start
    )
    return out_dir


def _build_bart(
    out_dir: Path,
    dims: Seq2SeqDims,
    summarization: dict[str, Any],
    seed: int,
    non_word_bias: float = 0.0,
    **tok_kwargs: Any,
) -> Path:
    start = time.perf_counter()
    with _quiet_build():
        tok = write_bart_tokenizer(out_dir, **tok_kwargs)
        model_vocab = max(len(tok), tok_kwargs.get("vocab_size") or 0)
        config = bart_config(model_vocab, dims, summarization)
        model = _random_model(BartForConditionalGeneration, config, seed)
        if non_word_bias:
            _bias_non_words(model, tok, non_word_bias)
        _save_model(model, bart_generation_config(summarization), out_dir)
    logger.info("bart (%d vocab) -> %s in %.2fs", model_vocab, out_dir, time.perf_counter() - start)
    return out_dir


def build_tiny_marian(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny MarianMTModel with the opus-mt-id-en token layout; returns out_dir."""
    return _build_marian(Path(out_dir), TINY_MARIAN, None, seed)


def build_tiny_bart(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny BART summarizer (128 positions) with distilbart-like generation defaults."""
    return _build_bart(Path(out_dir), TINY_BART, TINY_SUMMARIZATION, seed)


def build_random_marian(
    out_dir: Path,
    *,
    real: bool = True,
    seed: int = 0,
    init_std: float | None = None,
    non_word_bias: float = 0.0,
) -> Path:
    """Random-weight Marian with the real 54796-entry vocab layout (pad id 54795).

    ``real=True`` uses the full opus-mt-id-en architecture; ``real=False`` keeps the tiny
    dims, which is a cheap way to exercise real-sized vocab/id handling. ``init_std`` other
    than the real 0.02 changes no cost, only how much the output depends on the input (at
    0.02 the full-size model emits the same tokens for every sentence; 0.1 makes them differ).
    A negative ``non_word_bias`` steers the output to whole English words of its vocab, so
    the English re-tokenizes for the summarizer at about a real translation's length.
    """
    dims = OPUS_MT_ID_EN if real else TINY_MARIAN
    if init_std is not None:
        dims = dataclasses.replace(dims, init_std=init_std)
    return _build_marian(Path(out_dir), dims, OPUS_MT_ID_EN_VOCAB_SIZE, seed, non_word_bias)


def build_random_distilbart(out_dir: Path, *, seed: int = 0, non_word_bias: float = 0.0) -> Path:
    """Random-weight distilbart-cnn-12-6 architecture; tokenizer padded to its 50264 ids.

    A negative ``non_word_bias`` keeps summaries to whole trained words, so a partial summary
    re-tokenizes at about its own length in a map-reduce reduce pass.
    """
    return _build_bart(
        Path(out_dir),
        DISTILBART_CNN_12_6,
        DISTILBART_SUMMARIZATION,
        seed,
        non_word_bias,
        vocab_size=DISTILBART_VOCAB_SIZE,
        model_max_length=1024,
    )


# ------------------------------------------------------------- multilingual translators
# NLLB-200, M2M-100 and MADLAD-400 (T5) layouts around the same committed SentencePiece
# model, converted in-process (deterministically: nothing is trained) by each family's own
# tokenizer class, so language tokens, prefixes and special ids sit where the real
# checkpoints have them.

TINY_NLLB = Seq2SeqDims(16, 2, 2, 2, 32, 1024, _TINY_INIT_STD)
NLLB_200_DISTILLED_600M = Seq2SeqDims(1024, 12, 12, 16, 4096, 1024)
NLLB_200_VOCAB_SIZE = 256206
# MADLAD-400's <2xx> target tokens: a few of its 400+ (the rest change nothing here).
# T5 at 0.3 is so sensitive that float rounding between torch and CTranslate2 flips beams;
# at 0.1 its outputs still differ per input.
_TINY_T5_INIT_STD = 0.1
MADLAD_LANGUAGE_TOKENS = ("<2en>", "<2id>", "<2ms>", "<2jv>", "<2su>")


def _spm_pieces(proto: bytes) -> list[tuple[str, float]]:
    """The committed model's pieces and scores, without its <unk>."""
    sp = spm.SentencePieceProcessor(model_proto=proto)
    return [
        (sp.id_to_piece(i), sp.get_score(i))
        for i in range(sp.get_piece_size())
        if not (sp.is_unknown(i) or sp.is_control(i))
    ]


def write_nllb_tokenizer(out_dir: Path, *, vocab_size: int | None = None) -> NllbTokenizer:
    """NLLB-200's tokenizer: <s> <pad> </s> <unk>, the pieces, then the 202 language codes
    as special tokens; the source language code opens every input, </s> ends it. With
    ``vocab_size``, filler pieces pad it to that many ids (the real 256,206)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / "sentencepiece.bpe.model"
    scratch.write_bytes(MARIAN_SPM.read_bytes())
    converted = NllbTokenizer.from_pretrained(out_dir)  # the library's own conversion
    model = json.loads(converted.backend_tokenizer.to_str())["model"]
    scratch.unlink()
    vocab: dict[str, int] = model["vocab"]
    if vocab_size is not None:  # the language codes and <mask> come after the pieces
        room = vocab_size - len(vocab) - len(FAIRSEQ_LANGUAGE_CODES) - 1
        fillers = _filler_pieces(room, "▁", vocab)
        vocab.update({piece: len(vocab) + i for i, piece in enumerate(fillers)})
    tok = NllbTokenizer(
        vocab=vocab,
        merges=[tuple(pair) for pair in model["merges"]],
        model_max_length=1024,
    )
    tok.save_pretrained(out_dir)
    return tok


def write_m2m100_tokenizer(out_dir: Path, *, vocab_size: int | None = None) -> M2M100Tokenizer:
    """M2M-100's tokenizer: vocab.json (<s> <pad> </s> <unk> first) over the SentencePiece
    model, then __xx__ language tokens; __id__ opens an input, </s> ends it. With
    ``vocab_size``, filler pieces pad vocab.json to that many entries (the real 128,004)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proto = MARIAN_SPM.read_bytes()
    (out_dir / "sentencepiece.bpe.model").write_bytes(proto)
    pieces = ["<s>", "<pad>", "</s>", "<unk>", *(p for p, _ in _spm_pieces(proto))]
    if vocab_size is not None:
        pieces += _filler_pieces(vocab_size - len(pieces), "▁", pieces)
    vocab = {piece: i for i, piece in enumerate(pieces)}
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = M2M100Tokenizer(
        vocab_file=str(out_dir / "vocab.json"),
        spm_file=str(out_dir / "sentencepiece.bpe.model"),
        model_max_length=1024,
    )
    tok.save_pretrained(out_dir)
    return tok


def write_t5_tokenizer(
    out_dir: Path,
    *,
    model_max_length: int = 512,
    language_tokens: Iterable[str] = (),
    vocab_size: int | None = None,
) -> T5Tokenizer:
    """T5's tokenizer (<pad> </s> <unk>, then the pieces), with `language_tokens` matched
    whole (MADLAD-400's <2xx>: not special, as the real conversion keeps them). With
    ``vocab_size``, filler pieces pad it to that many ids."""
    out_dir.mkdir(parents=True, exist_ok=True)
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab = specials + _spm_pieces(MARIAN_SPM.read_bytes())
    if vocab_size is not None:
        fillers = _filler_pieces(vocab_size - len(vocab), "▁", (p for p, _ in vocab))
        vocab += [(piece, -100.0) for piece in fillers]
    tok = T5Tokenizer(
        vocab=vocab,
        extra_ids=0,
        model_max_length=model_max_length,
    )
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in language_tokens])
    tok.save_pretrained(out_dir)
    return tok


def write_madlad_tokenizer(out_dir: Path) -> T5Tokenizer:
    """MADLAD-400's T5 tokenizer: T5's with <2xx> target language tokens."""
    return write_t5_tokenizer(out_dir, language_tokens=MADLAD_LANGUAGE_TOKENS)


def m2m100_config(vocab_size: int, dims: Seq2SeqDims = TINY_NLLB) -> M2M100Config:
    """Config mirroring nllb-200-distilled-600M / m2m100_418M: </s> starts decoding."""
    return M2M100Config(
        vocab_size=vocab_size,
        **_dims_kwargs(dims),
        activation_function="relu",
        scale_embedding=True,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        architectures=["M2M100ForConditionalGeneration"],
    )


def m2m100_generation_config(num_beams: int = 4) -> GenerationConfig:
    """generation_config.json as the NLLB / M2M-100 checkpoints ship it (no forced token:
    the target language is the caller's to say)."""
    return GenerationConfig(
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        max_length=200,
        num_beams=num_beams,
    )


def _model_vocab(tok: PreTrainedTokenizerBase) -> int:
    """Embedding rows: M2M100Tokenizer's len() leaves out its language and made-up words
    (ids after the vocabulary), which the real checkpoints' embeddings hold."""
    if isinstance(tok, M2M100Tokenizer):
        return max(tok.lang_token_to_id.values()) + 1 + tok.num_madeup_words
    return len(tok)


def _build_m2m100(
    out_dir: Path, tok: PreTrainedTokenizerBase, dims: Seq2SeqDims, seed: int
) -> Path:
    config = m2m100_config(_model_vocab(tok), dims)
    if isinstance(tok, NllbTokenizer):
        config.tokenizer_class = "NllbTokenizer"  # as facebook/nllb-200-* config.json says
    model = _random_model(M2M100ForConditionalGeneration, config, seed)
    _save_model(model, m2m100_generation_config(), out_dir)
    return out_dir


def build_tiny_nllb(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny NLLB-200 (M2M-100 architecture, NllbTokenizer); returns out_dir."""
    with _quiet_build():
        tok = write_nllb_tokenizer(Path(out_dir))
        return _build_m2m100(Path(out_dir), tok, TINY_NLLB, seed)


def build_random_nllb(out_dir: Path, *, seed: int = 0) -> Path:
    """Random-weight nllb-200-distilled-600M architecture (12+12 layers, d_model 1024, the
    256,206-id vocabulary): real cost, no real output."""
    with _quiet_build():
        tok = write_nllb_tokenizer(Path(out_dir), vocab_size=NLLB_200_VOCAB_SIZE)
        return _build_m2m100(Path(out_dir), tok, NLLB_200_DISTILLED_600M, seed)


M2M100_418M = Seq2SeqDims(1024, 12, 12, 16, 4096, 1024)
M2M100_VOCAB_JSON_SIZE = 128004  # vocab.json; + 100 language tokens + 8 made-up words = 128112


def build_random_m2m100(out_dir: Path, *, seed: int = 0) -> Path:
    """Random-weight m2m100_418M architecture (12+12 layers, d_model 1024, 128,112 ids)."""
    with _quiet_build():
        tok = write_m2m100_tokenizer(Path(out_dir), vocab_size=M2M100_VOCAB_JSON_SIZE)
        return _build_m2m100(Path(out_dir), tok, M2M100_418M, seed)


def build_tiny_m2m100(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny M2M-100 (M2M100Tokenizer with __xx__ language tokens); returns out_dir."""
    with _quiet_build():
        tok = write_m2m100_tokenizer(Path(out_dir))
        return _build_m2m100(Path(out_dir), tok, TINY_NLLB, seed)


MBART50_VOCAB_SIZE = 250054  # facebook/mbart-large-50-many-to-many-mmt


def write_mbart50_tokenizer(out_dir: Path) -> MBart50Tokenizer:
    """mBART-50's tokenizer: <s> <pad> </s> <unk>, the pieces, then the 52 language codes
    (special) and <mask>; the source code opens every input, </s> ends it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # The class reorders a SentencePiece-ordered list (<unk> <s> </s> first) into fairseq's.
    specials = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0)]
    tok = MBart50Tokenizer(
        vocab=specials + _spm_pieces(MARIAN_SPM.read_bytes()),
        bos_token="<s>",  # the real special_tokens_map.json names it; the class has no default
        model_max_length=1024,
    )
    tok.save_pretrained(out_dir)
    return tok


def mbart50_config(vocab_size: int, dims: Seq2SeqDims = TINY_NLLB) -> MBartConfig:
    """Config mirroring mbart-large-50-many-to-many-mmt: pre-norm with an embedding norm,
    </s> starts decoding and ends it at the limit."""
    return MBartConfig(
        vocab_size=vocab_size,
        **_dims_kwargs(dims),
        activation_function="relu",
        scale_embedding=True,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
        # Written in the real config.json (fairseq's names); ctranslate2's loader reads them.
        normalize_before=True,
        normalize_embedding=True,
        add_final_layer_norm=True,
        tokenizer_class="MBart50Tokenizer",
        architectures=["MBartForConditionalGeneration"],
    )


def build_tiny_mbart50(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny mBART-50 (MBart50Tokenizer with xx_XX language codes); returns out_dir."""
    out_dir = Path(out_dir)
    with _quiet_build():
        tok = write_mbart50_tokenizer(out_dir)
        config = mbart50_config(len(tok))
        model = _random_model(MBartForConditionalGeneration, config, seed)
        gen = GenerationConfig(
            bos_token_id=0,
            pad_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=2,
            forced_eos_token_id=2,
            max_length=200,
            num_beams=5,
            early_stopping=True,
        )
        _save_model(model, gen, out_dir)
    return out_dir


def t5_config(
    vocab_size: int,
    *,
    d_model: int = 16,
    layers: int = 2,
    heads: int = 2,
    d_kv: int | None = None,
    d_ff: int | None = None,
) -> T5Config:
    """T5 v1.1 layout as MADLAD-400 and Flan-T5 have it (gated GELU, untied head)."""
    return T5Config(
        vocab_size=vocab_size,
        d_model=d_model,
        d_kv=d_kv or d_model // heads,
        d_ff=d_ff or 2 * d_model,
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=heads,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        architectures=["T5ForConditionalGeneration"],
    )


def t5_generation_config(num_beams: int = 1) -> GenerationConfig:
    return GenerationConfig(
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, num_beams=num_beams
    )


def build_tiny_madlad(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny MADLAD-400 (T5 with <2xx> tokens, 512-token window); returns out_dir."""
    with _quiet_build():
        tok = write_madlad_tokenizer(Path(out_dir))
        config = t5_config(len(tok))
        model = _random_model(T5ForConditionalGeneration, config, seed, _TINY_T5_INIT_STD)
        _untie_output_layer(model, _TINY_T5_INIT_STD)
        _save_model(model, t5_generation_config(), Path(out_dir))
    return Path(out_dir)


# ------------------------------------------------------------------ other summarizers
# T5 (t5-small / Flan-T5: a "summarize: " prefix in task_specific_params, a 512-token
# window) and Pegasus (pegasus-cnn_dailymail: <pad> starts decoding, 1024 positions).

# t5-small's summarization parameters, lengths scaled down as TINY_SUMMARIZATION's are.
T5_SUMMARIZATION = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 200,
    "min_length": 30,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
    "prefix": "summarize: ",
}
TINY_T5_SUMMARIZATION = {**T5_SUMMARIZATION, "min_length": 8, "max_length": 24}
# google/pegasus-cnn_dailymail's generation defaults, lengths scaled down.
PEGASUS_CNN_DAILYMAIL = {"length_penalty": 0.8, "max_length": 128, "min_length": 32, "num_beams": 8}
TINY_PEGASUS_SUMMARIZATION = {**PEGASUS_CNN_DAILYMAIL, "min_length": 8, "max_length": 24}
TINY_PEGASUS = Seq2SeqDims(16, 2, 2, 2, 32, 128, _TINY_INIT_STD)


def build_tiny_t5_summarizer(out_dir: Path, *, seed: int = 0, window: int = 512) -> Path:
    """Tiny T5 summarizer: "summarize: " prefix and defaults in task_specific_params."""
    out_dir = Path(out_dir)
    with _quiet_build():
        tok = write_t5_tokenizer(out_dir, model_max_length=window)
        config = t5_config(len(tok))
        config.task_specific_params = {"summarization": dict(TINY_T5_SUMMARIZATION)}
        model = _random_model(T5ForConditionalGeneration, config, seed, _TINY_T5_INIT_STD)
        _untie_output_layer(model, _TINY_T5_INIT_STD)
        _save_model(model, t5_generation_config(), out_dir)
    return out_dir


def write_pegasus_tokenizer(
    out_dir: Path, *, model_max_length: int = 128, vocab_size: int | None = None
) -> PegasusTokenizer:
    """Pegasus' tokenizer: <pad> </s> <mask_1> <mask_2> <unk_2>..<unk_102>, then <unk> and
    the pieces (its offset of 103). With ``vocab_size``, filler pieces pad it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<mask_1>", 0.0), ("<mask_2>", 0.0)]
    specials += [(f"<unk_{i}>", 0.0) for i in range(2, 103)]
    vocab = [*specials, ("<unk>", 0.0), *_spm_pieces(MARIAN_SPM.read_bytes())]
    if vocab_size is not None:
        fillers = _filler_pieces(vocab_size - len(vocab), "▁", (p for p, _ in vocab))
        vocab += [(piece, -100.0) for piece in fillers]
    tok = PegasusTokenizer(vocab=vocab, model_max_length=model_max_length)
    tok.save_pretrained(out_dir)
    return tok


def build_tiny_pegasus(out_dir: Path, *, seed: int = 0) -> Path:
    """Tiny Pegasus summarizer (128 positions) with pegasus-cnn_dailymail-like defaults."""
    return _build_pegasus(Path(out_dir), TINY_PEGASUS, TINY_PEGASUS_SUMMARIZATION, seed)


PEGASUS_CNN_DAILYMAIL_DIMS = Seq2SeqDims(1024, 16, 16, 16, 4096, 1024)
PEGASUS_VOCAB_SIZE = 96103


def build_random_pegasus(out_dir: Path, *, seed: int = 0) -> Path:
    """Random-weight google/pegasus-cnn_dailymail architecture (16+16 layers, d_model 1024,
    96,103 ids, 1,024 positions) with its generation defaults."""
    return _build_pegasus(
        Path(out_dir), PEGASUS_CNN_DAILYMAIL_DIMS, PEGASUS_CNN_DAILYMAIL, seed, PEGASUS_VOCAB_SIZE
    )


# google/flan-t5-base: d_model 768, 12+12 layers, 12 heads of 64, gated-GELU FFN 2048.
FLAN_T5_BASE = {"d_model": 768, "layers": 12, "heads": 12, "d_kv": 64, "d_ff": 2048}
T5_VOCAB_SIZE = 32128


def build_random_flan_t5_base(out_dir: Path, *, seed: int = 0) -> Path:
    """Random-weight google/flan-t5-base architecture (32,128 ids, 512-token window) with
    t5's summarization parameters ("summarize: " prefix)."""
    out_dir = Path(out_dir)
    with _quiet_build():
        tok = write_t5_tokenizer(out_dir, vocab_size=T5_VOCAB_SIZE)
        config = t5_config(len(tok), **FLAN_T5_BASE)
        config.task_specific_params = {"summarization": dict(T5_SUMMARIZATION)}
        model = _random_model(T5ForConditionalGeneration, config, seed, 0.05)
        _untie_output_layer(model, 0.05)
        _save_model(model, t5_generation_config(), out_dir)
    return out_dir


def _untie_output_layer(model: PreTrainedModel, std: float) -> None:
    """T5 v1.1 checkpoints (Flan-T5, MADLAD-400) have an output layer of their own;
    transformers 5 ties it to the embeddings unless the saved weights differ."""
    weight = model.get_output_embeddings().weight
    with torch.no_grad():
        model.lm_head.weight = torch.nn.Parameter(torch.empty_like(weight).normal_(0.0, std))


def _build_pegasus(
    out_dir: Path,
    dims: Seq2SeqDims,
    summarization: dict[str, Any],
    seed: int,
    vocab_size: int | None = None,
) -> Path:
    with _quiet_build():
        tok = write_pegasus_tokenizer(
            out_dir, model_max_length=dims.max_positions, vocab_size=vocab_size
        )
        config = PegasusConfig(
            vocab_size=len(tok),
            **_dims_kwargs(dims),
            activation_function="relu",
            scale_embedding=True,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
            forced_eos_token_id=1,
            architectures=["PegasusForConditionalGeneration"],
        )
        model = _random_model(PegasusForConditionalGeneration, config, seed)
        gen = GenerationConfig(
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
            forced_eos_token_id=1,
            **summarization,
        )
        _save_model(model, gen, out_dir)
    return out_dir


# -------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--random-real",
        action="store_true",
        help="full-size opus-mt-id-en / distilbart-cnn-12-6 architectures with random weights",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.random_real:
        marian = build_random_marian(args.out_dir / "marian", seed=args.seed)
        bart = build_random_distilbart(args.out_dir / "bart", seed=args.seed)
    else:
        marian = build_tiny_marian(args.out_dir / "marian", seed=args.seed)
        bart = build_tiny_bart(args.out_dir / "bart", seed=args.seed)
    print(marian)
    print(bart)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
