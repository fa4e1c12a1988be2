"""Tiny offline model folders: layout mirrors the real checkpoints and loads via from_pretrained."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    GenerationConfig,
    MarianTokenizer,
    PreTrainedTokenizerBase,
)

from tests.support import corpus, make_tokenizers, tiny_models
from tests.support.tiny_models import (
    DISTILBART_CNN_12_6,
    DISTILBART_SUMMARIZATION,
    DISTILBART_VOCAB_SIZE,
    OPUS_MT_ID_EN,
    OPUS_MT_ID_EN_VOCAB_SIZE,
    bart_config,
    build_tiny_bart,
    build_tiny_marian,
    marian_config,
)

# MarianTokenizer warns on every load when the optional sacremoses package is missing.
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

ID_BATCH = ["Saya makan nasi.", "Harga cabai naik 20 persen pada Maret 2024 di Jakarta."]
EN_BATCH = ["I eat rice.", "Chili prices rose 20 percent in March 2024 in Jakarta."]


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny") / "marian")


@pytest.fixture(scope="module")
def bart_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bart(tmp_path_factory.mktemp("tiny") / "bart")


def _generate(folder: Path, texts: list[str], **kwargs: object) -> tuple[torch.Tensor, list[str]]:
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    enc = tok(texts, return_tensors="pt", padding=True)
    out = model.generate(**enc, max_new_tokens=8, num_beams=2, **kwargs)
    return out, tok.batch_decode(out, skip_special_tokens=True)


def test_marian_special_token_layout(marian_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(marian_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(marian_dir)
    cfg = model.config
    last = cfg.vocab_size - 1
    assert isinstance(tok, MarianTokenizer)
    assert type(model).__name__ == "MarianMTModel"
    assert cfg.architectures == ["MarianMTModel"]
    assert cfg.pad_token_id == cfg.decoder_start_token_id == last == tok.pad_token_id
    assert cfg.eos_token_id == tok.eos_token_id == 0
    assert tok.unk_token_id == 1
    assert tok.convert_ids_to_tokens([0, 1, last]) == ["</s>", "<unk>", "<pad>"]
    assert len(tok) == cfg.vocab_size
    assert tok.model_max_length == cfg.max_position_embeddings == 512
    assert tok("Saya makan nasi.")["input_ids"][-1] == 0  # Marian appends </s>, no bos


def test_marian_generation_defaults(marian_dir: Path) -> None:
    gen = GenerationConfig.from_pretrained(marian_dir)
    pad = json.loads((marian_dir / "config.json").read_text())["pad_token_id"]
    assert gen.num_beams == 6
    assert gen.max_length == 512
    assert gen.bad_words_ids == [[pad]]
    assert gen.decoder_start_token_id == gen.pad_token_id == pad
    assert gen.eos_token_id == gen.forced_eos_token_id == 0


def test_bart_special_token_layout(bart_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(bart_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(bart_dir)
    cfg = model.config
    assert tok.is_fast
    assert type(model).__name__ == "BartForConditionalGeneration"
    ids = tok.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    assert ids == [0, 1, 2, 3, cfg.vocab_size - 1]
    assert len(tok) == cfg.vocab_size
    assert tok.model_max_length == cfg.max_position_embeddings == 128
    enc = tok("A flood hit Jakarta.")["input_ids"]
    assert enc[0] == 0 and enc[-1] == 2
    assert cfg.task_specific_params["summarization"]["num_beams"] == 4


def test_bart_generation_defaults(bart_dir: Path) -> None:
    gen = GenerationConfig.from_pretrained(bart_dir)
    assert (gen.num_beams, gen.min_length, gen.max_length) == (4, 8, 24)
    assert gen.length_penalty == 2.0
    assert gen.no_repeat_ngram_size == 3
    assert gen.early_stopping is True
    assert (gen.forced_bos_token_id, gen.decoder_start_token_id) == (0, 2)
    assert (gen.bos_token_id, gen.pad_token_id, gen.eos_token_id) == (0, 1, 2)


@pytest.mark.parametrize(("name", "texts"), [("marian", ID_BATCH), ("bart", EN_BATCH)])
def test_batch_round_trip(name: str, texts: list[str], marian_dir: Path, bart_dir: Path) -> None:
    """Generated ids start from the decoder start token, stay inside the vocabulary, decode
    to the returned text, and are the same on a second run (deterministic beam search)."""
    folder = {"marian": marian_dir, "bart": bart_dir}[name]
    out, decoded = _generate(folder, texts, min_length=0)
    tok = AutoTokenizer.from_pretrained(folder)
    start = GenerationConfig.from_pretrained(folder).decoder_start_token_id
    assert out.shape[0] == 2 and 1 < out.shape[1] <= 1 + 8  # start token + max_new_tokens
    assert out[:, 0].tolist() == [start, start]
    assert int(out.min()) >= 0 and int(out.max()) < len(tok)
    assert decoded == [tok.decode(row, skip_special_tokens=True) for row in out]
    again, decoded_again = _generate(folder, texts, min_length=0)
    assert torch.equal(out, again) and decoded_again == decoded


def test_tiny_outputs_depend_on_input(marian_dir: Path) -> None:
    # The tiny init scale is chosen so that different inputs give different outputs.
    out, _ = _generate(marian_dir, ID_BATCH)
    assert not torch.equal(out[0], out[1])


@pytest.mark.parametrize("builder", [build_tiny_marian, build_tiny_bart])
def test_same_seed_is_deterministic(builder, tmp_path: Path) -> None:
    a, b, c = (builder(tmp_path / n, seed=s) for n, s in (("a", 0), ("b", 0), ("c", 1)))
    wa, wb, wc = (load_file(p / "model.safetensors") for p in (a, b, c))
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)
    for f in a.iterdir():  # tokenizer files and configs are byte-identical too
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
    texts = ID_BATCH if builder is build_tiny_marian else EN_BATCH
    assert torch.equal(_generate(a, texts)[0], _generate(b, texts)[0])


def test_folders_are_relocatable(marian_dir: Path, bart_dir: Path, tmp_path: Path) -> None:
    for folder in (marian_dir, bart_dir):
        for f in folder.iterdir():
            if f.suffix == ".json":
                assert str(folder.parent) not in f.read_text(), f
        moved = Path(shutil.copytree(folder, tmp_path / "moved" / folder.name))
        tok: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(moved)
        assert tok("ok")["input_ids"]


# Texts whose ids the pinned digests below cover: Indonesian and English words, numbers,
# punctuation, a URL and characters outside ASCII.
DIGEST_TEXTS = [
    *ID_BATCH,
    *EN_BATCH,
    "Lihat https://example.org/a_b?c=1 atau kirim surel ke redaksi@example.co.id.",
    "Rp1,5 triliun — naik 3,2% (yoy); « kutipan » dan emoji 🙂.",
]
# What the builders write must not depend on the machine (no ../shared, no environment
# variable) or on the tokenizers/sentencepiece release: the files are committed and read,
# never trained. A change to them, or to how a release tokenizes with them, fails here
# first. After a deliberate change (python -m tests.support.make_tokenizers), update these.
TOKENIZER_FILES_SHA256 = "f2e2c938fafce92aa22898b3837431245722029532b46807c86293e92fd9c4da"
MARIAN_IDS_SHA256 = "9449990dd1e35b524e804260152c34802478c6711722efb52fa52707c97b9060"
BART_IDS_SHA256 = "6379bf275e233b23544fb4e7e9d27cf479d814e89969ddd4d2ec52182d29d2a6"


def _ids_digest(folder: Path) -> str:
    tok = AutoTokenizer.from_pretrained(folder)
    ids = [tok(text)["input_ids"] for text in DIGEST_TEXTS]
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


def test_committed_tokenizer_files_are_the_pinned_ones() -> None:
    assert make_tokenizers.tokenizer_files_digest() == TOKENIZER_FILES_SHA256


def test_builders_tokenize_as_pinned_whatever_the_environment(
    marian_dir: Path, bart_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _ids_digest(marian_dir) == MARIAN_IDS_SHA256
    assert _ids_digest(bart_dir) == BART_IDS_SHA256
    assert (marian_dir / "source.spm").read_bytes() == make_tokenizers.MARIAN_SPM.read_bytes()
    # The shared data set named or not: the same tokenizer files come out.
    monkeypatch.setenv("ID2EN_SENTENCE_DATA", str(tmp_path / "elsewhere"))
    again = build_tiny_marian(tmp_path / "marian")
    for name in ("source.spm", "target.spm", "vocab.json"):
        assert (again / name).read_bytes() == (marian_dir / name).read_bytes(), name


def test_builtin_corpus_is_deterministic_and_varied() -> None:
    assert corpus.builtin_pairs() == corpus.builtin_pairs()
    assert len(set(corpus.builtin_pairs())) >= 300


def test_real_size_configs_without_weights() -> None:
    m = marian_config(OPUS_MT_ID_EN_VOCAB_SIZE, OPUS_MT_ID_EN)
    assert (m.vocab_size, m.d_model, m.encoder_layers, m.decoder_layers) == (54796, 512, 6, 6)
    assert (m.encoder_attention_heads, m.encoder_ffn_dim, m.max_position_embeddings) == (
        8,
        2048,
        512,
    )
    assert m.pad_token_id == m.decoder_start_token_id == 54795
    assert m.activation_function == "swish" and m.scale_embedding
    assert m.share_encoder_decoder_embeddings and m.static_position_embeddings
    b = bart_config(DISTILBART_VOCAB_SIZE, DISTILBART_CNN_12_6, DISTILBART_SUMMARIZATION)
    assert (b.vocab_size, b.d_model, b.encoder_layers, b.decoder_layers) == (50264, 1024, 12, 6)
    assert (b.encoder_attention_heads, b.encoder_ffn_dim, b.max_position_embeddings) == (
        16,
        4096,
        1024,
    )
    assert b.task_specific_params["summarization"] == DISTILBART_SUMMARIZATION


def test_real_size_marian_tokenizer(tmp_path: Path) -> None:
    tok = tiny_models.write_marian_tokenizer(tmp_path, vocab_size=OPUS_MT_ID_EN_VOCAB_SIZE)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert len(tok) == len(loaded) == 54796
    assert loaded.pad_token_id == 54795 and loaded.eos_token_id == 0
    assert isinstance(loaded.decode([54000, 54001]), str)  # filler ids decode without error


def test_cli_writes_both_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tiny_models.main([str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "marian"), str(tmp_path / "bart")]
    assert (tmp_path / "marian" / "source.spm").is_file()
    assert (tmp_path / "bart" / "tokenizer.json").is_file()


def test_non_word_bias_steers_a_random_model_to_english_words(tmp_path: Path) -> None:
    # real=False: tiny dims with the real 54796-entry vocab, ~54,500 of them fillers (" wN").
    plain = tiny_models.build_random_marian(tmp_path / "plain", real=False)
    biased = tiny_models.build_random_marian(tmp_path / "biased", real=False, non_word_bias=-100.0)
    tok = AutoTokenizer.from_pretrained(biased)
    vocab = tok.get_vocab()
    english = tiny_models._english_words()
    assert "the" in english and "dan" not in english  # Indonesian's "and" is not English
    words = {i for p, i in vocab.items() if p[0] == "▁" and len(p) > 2 and p[1:] in english}
    fillers = {i for p, i in vocab.items() if tiny_models._is_filler(p)}
    assert len(fillers) > 50_000 and words

    bias = load_file(biased / "model.safetensors")["final_logits_bias"][0]  # saved with weights
    unbiased = set(torch.nonzero(bias == 0).flatten().tolist())
    assert unbiased == words | set(tok.all_special_ids)
    assert bias.min().item() == -100.0

    def generated(folder: Path) -> set[int]:
        out, _ = _generate(folder, ID_BATCH, min_new_tokens=8)
        return set(out.flatten().tolist()) - set(tok.all_special_ids)

    assert generated(plain) & fillers  # without the bias fillers win (the vocab is mostly them)
    assert generated(biased) <= words


def test_real_size_tokenizers_have_the_checkpoints_vocabulary_sizes(tmp_path: Path) -> None:
    """m2m100_418M's 128,112 embedding rows (vocab.json, 100 language tokens, 8 made-up
    words), pegasus-cnn_dailymail's 96,103 ids and T5's 32,128."""
    m2m = tiny_models.write_m2m100_tokenizer(
        tmp_path / "m2m", vocab_size=tiny_models.M2M100_VOCAB_JSON_SIZE
    )
    assert tiny_models._model_vocab(m2m) == 128112
    pegasus = tiny_models.write_pegasus_tokenizer(
        tmp_path / "pegasus", vocab_size=tiny_models.PEGASUS_VOCAB_SIZE
    )
    assert len(pegasus) == 96103
    t5 = tiny_models.write_t5_tokenizer(tmp_path / "t5", vocab_size=tiny_models.T5_VOCAB_SIZE)
    assert len(t5) == 32128
    # The fillers never win over the real pieces: text tokenizes as with the small vocab.
    small = tiny_models.write_t5_tokenizer(tmp_path / "t5-small")
    assert t5.tokenize("Saya makan nasi.") == small.tokenize("Saya makan nasi.")


def test_t5_models_have_an_output_layer_of_their_own(tmp_path: Path) -> None:
    """MADLAD-400 and Flan-T5 checkpoints do not tie their output layer to the embeddings;
    transformers 5 ties T5's unless the saved weights differ, so the builders save both."""
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_models.build_tiny_madlad(tmp_path / "m"))
    assert model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr()
    assert not torch.equal(model.lm_head.weight, model.shared.weight)
