"""CTranslate2-native model folders with random int8 weights, written straight from a
CTranslate2 model spec: for models that ship only in CTranslate2's format (quickmt) and for
one too large to build in torch here (MADLAD-400-3B: about 12 GB in float32, 3 GB as int8).

Each weight matrix is drawn as int8 with per-row scales (what CTranslate2's int8
quantization stores), one matrix at a time, so building never holds float weights. The
folder has the layout id2en's CTranslate2 backend reads without conversion: model.bin,
CTranslate2's config.json and vocabularies, and src.spm.model / tgt.spm.model (the
committed test SentencePiece model, its pieces at the start of each vocabulary, filler
pieces after them up to the real vocabulary size). Cost only: the outputs mean nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.make_tokenizers import MARIAN_SPM
from tests.support.tiny_models import _filler_pieces, _spm_pieces


@dataclass(frozen=True)
class Transformer:
    """What a Transformer's spec and weight shapes need (layers as encoder, decoder)."""

    layers: tuple[int, int]
    d_model: int
    heads: int
    head_dim: int
    ffn: int
    source_vocab: int
    target_vocab: int
    t5: bool = False  # gated-GELU FFN, RMS norms, relative attention bias, no position table

    @property
    def inner(self) -> int:
        return self.heads * self.head_dim


# quickmt-id-en: a Transformer "big" (d_model 1024, 16 heads, FFN 4096), 8 encoder and 2
# decoder layers, separate 20,000-piece source and target vocabularies, pre-norm.
QUICKMT_ID_EN = Transformer((8, 2), 1024, 16, 64, 4096, 20000, 20000)
# google/madlad400-3b-mt: T5 v1.1 layout, 32+32 layers, d_model 1024, 16 heads of 128,
# gated-GELU FFN 8192, a 256,000-id vocabulary shared by both sides, untied output layer.
MADLAD400_3B = Transformer((32, 32), 1024, 16, 128, 8192, 256000, 256000, t5=True)


def spec_of(dims: Transformer) -> Any:
    from ctranslate2.specs import common_spec, transformer_spec

    spec = transformer_spec.TransformerSpec.from_config(
        dims.layers,
        dims.heads,
        pre_norm=True,
        activation=common_spec.Activation.GELUTanh if dims.t5 else common_spec.Activation.RELU,
        ffn_glu=dims.t5,
        relative_attention_bias=dims.t5,
        rms_norm=dims.t5,
    )
    if dims.t5:
        spec.encoder.scale_embeddings = False
        spec.decoder.scale_embeddings = False
    return spec


def shape_of(name: str, dims: Transformer) -> tuple[int, ...]:
    """A weight's shape from its name in the spec (encoder/layer_3/ffn/linear_0/weight)."""
    d, inner, parts = dims.d_model, dims.inner, name.split("/")
    leaf, owner = parts[-1], parts[-2]
    if leaf in ("gamma", "beta"):
        return (d,)
    if leaf == "relative_attention_bias":
        return (32, dims.heads)  # T5's 32 buckets
    if "embeddings" in owner:
        return (dims.source_vocab if parts[0] == "encoder" else dims.target_vocab, d)
    if owner == "projection":
        return (dims.target_vocab, d)
    if parts[-3] == "ffn":
        return (d, dims.ffn) if owner == "linear_1" else (dims.ffn, d)
    if parts[-3] == "self_attention":
        return (3 * inner, d) if owner == "linear_0" else (d, inner)
    if parts[-3] == "attention":  # the decoder's cross-attention: queries, keys+values, out
        return {"linear_0": (inner, d), "linear_1": (2 * inner, d), "linear_2": (d, inner)}[owner]
    raise ValueError(f"no shape rule for {name}")


def fill(spec: Any, dims: Transformer, seed: int) -> int:
    """Set every unset weight: matrices as random int8 with per-row scales (about N(0, 0.02)
    once dequantized), norms as ones. Returns the parameter count."""
    from ctranslate2.specs.model_spec import visit_spec

    rng = np.random.default_rng(seed)
    unset: list[tuple[Any, str, Any]] = []
    visit_spec(spec, lambda layer, name, value: unset.append((layer, name, value)))
    count = 0
    for layer, name, value in unset:
        leaf = name.split("/")[-1]
        if value is not None or leaf not in ("weight", "gamma", "beta", "relative_attention_bias"):
            continue
        shape = shape_of(name, dims)
        count += int(np.prod(shape))
        if leaf == "weight":
            setattr(layer, leaf, rng.integers(-127, 128, size=shape, dtype=np.int8))
            scale = np.full(shape[0], 127 / 0.05, dtype=np.float32)  # |w| <= 0.05
            layer.weight_scale = scale
        elif leaf == "relative_attention_bias":
            setattr(layer, leaf, rng.normal(0, 0.02, size=shape).astype(np.float32))
            layer.relative_attention_max_distance = np.int32(128)
        else:
            setattr(layer, leaf, np.full(shape, 1.0 if leaf == "gamma" else 0.0, np.float32))
    return count


def vocabulary(dims: Transformer, size: int) -> list[str]:
    """The committed SentencePiece model's pieces after the family's special tokens, then
    fillers up to `size`."""
    specials = ["<pad>", "</s>", "<unk>"] if dims.t5 else ["<unk>", "<blank>", "<s>", "</s>"]
    pieces = specials + [p for p, _ in _spm_pieces(MARIAN_SPM.read_bytes())]
    return pieces + _filler_pieces(size - len(pieces), "▁", pieces)


def write_random_ct2(out_dir: Path, dims: Transformer, *, seed: int = 0) -> int:
    """Write the folder; returns the model's parameter count."""
    spec = spec_of(dims)
    parameters = fill(spec, dims, seed)
    spec.register_source_vocabulary(vocabulary(dims, dims.source_vocab))
    spec.register_target_vocabulary(vocabulary(dims, dims.target_vocab))
    config = spec.config
    if dims.t5:
        config.bos_token = config.decoder_start_token = "<pad>"
    config.add_source_eos = True  # CTranslate2 ends each source, as native exports do
    spec.validate()
    if dims.t5:  # one embedding table for both sides, as T5's converted "shared" weight
        spec.decoder.embeddings.weight = "encoder/embeddings_0/weight"
        spec.decoder.embeddings.weight_scale = "encoder/embeddings_0/weight_scale"
        parameters -= dims.target_vocab * dims.d_model
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    for name in ("src.spm.model", "tgt.spm.model"):
        shutil.copyfile(MARIAN_SPM, out_dir / name)
    return parameters
