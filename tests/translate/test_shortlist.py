"""The vocabulary shortlist: the file format, the builder, and both engines honouring it."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import torch

from pipeline.translate.shortlist import Shortlist, build_shortlist, write_shortlist
from tests.helpers import SENTENCES, make_stage


def test_candidates_are_the_fixed_set_plus_every_matching_ngram(tmp_path: Path) -> None:
    path = tmp_path / "s.vmap"
    path.write_text("\tthe a\n▁rumah\thouse home\n▁rumah ▁sakit\thospital\n", encoding="utf-8")
    shortlist = Shortlist.load(path)
    assert shortlist.candidates([["▁rumah"]]) == {"the", "a", "house", "home"}
    assert shortlist.candidates([["▁rumah", "▁sakit"]]) == {
        "the",
        "a",
        "house",
        "home",
        "hospital",
    }
    assert shortlist.candidates([["▁sakit", "▁rumah"]]) == {"the", "a", "house", "home"}


def test_builder_keeps_frequent_targets_and_best_cooccurring_ones(tmp_path: Path) -> None:
    pairs = [(["rumah", "besar"], ["big", "house"])] * 5 + [(["besar"], ["big"])] * 5
    pairs += [(["kota"], ["city", "the"])] * 3
    fixed, mapping = build_shortlist(pairs, frequent=1, per_source=1)
    assert fixed == ["big"]
    assert mapping["rumah"] == ["house"] and mapping["besar"] == ["big"]
    written = Shortlist.load(write_shortlist(tmp_path / "s.vmap", fixed, mapping))
    assert written.candidates([["rumah"]]) == {"big", "house"}


def _random_shortlist(models: Path, out: Path, fixed: int, per_source: int) -> Path:
    vocab = json.loads((models / "marian" / "vocab.json").read_text(encoding="utf-8"))
    pieces = [p for p in vocab if p not in ("</s>", "<unk>", "<pad>")]
    rng = random.Random(0)
    mapping = {p: rng.sample(pieces, per_source) for p in pieces}
    return write_shortlist(out, rng.sample(pieces, fixed), mapping)


def _recorded_outputs(stage: Any, texts: list[str]) -> list[list[int]]:
    model, recorded = stage.backend.loaded.model, []
    original = model.generate

    def recording(**kwargs: Any) -> Any:
        output = original(**kwargs)
        # id2en's loop returns (sequences, scores) when the backend asks for scores.
        sequences = output[0] if isinstance(output, tuple) else output
        recorded.extend(sequences.tolist())
        return output

    model.generate = recording
    try:
        stage.translate_texts(texts)
    finally:
        del model.generate
    return recorded


def test_torch_outputs_use_only_candidate_tokens(tiny_models: Path, tmp_path: Path) -> None:
    path = _random_shortlist(tiny_models, tmp_path / "s.vmap", fixed=10, per_source=3)
    stage = make_stage(tiny_models, shortlist=str(path), num_beams=2)
    tok = stage.backend.tokenizer
    sources = [[*tok.tokenize(t), tok.eos_token] for t in SENTENCES]
    allowed = Shortlist.load(path).candidates(sources) | {tok.eos_token, tok.unk_token}
    allowed_ids = set(tok.convert_tokens_to_ids(sorted(allowed))) | {tok.pad_token_id}
    outputs = _recorded_outputs(stage, SENTENCES)
    assert outputs and all(set(seq) <= allowed_ids for seq in outputs)
    assert stage.backend.shortlist.sizes  # candidates counted per batch


def test_a_shortlist_of_everything_changes_nothing(tiny_models: Path, tmp_path: Path) -> None:
    vocab = json.loads((tiny_models / "marian" / "vocab.json").read_text(encoding="utf-8"))
    path = write_shortlist(tmp_path / "all.vmap", [p for p in vocab if p != "<pad>"], {})
    plain = make_stage(tiny_models, num_beams=3).translate_texts(SENTENCES)
    listed = make_stage(tiny_models, num_beams=3, shortlist=str(path)).translate_texts(SENTENCES)
    assert [listed[t].text for t in SENTENCES] == [plain[t].text for t in SENTENCES]


def test_ctranslate2_vmap_agrees_with_the_torch_shortlist(
    tiny_models: Path, tmp_path: Path
) -> None:
    pytest.importorskip("ctranslate2")
    from tests.helpers import make_ct2_stage

    path = _random_shortlist(tiny_models, tmp_path / "s.vmap", fixed=20, per_source=5)
    torch_stage = make_stage(tiny_models, shortlist=str(path), num_beams=2)
    ct2_stage = make_ct2_stage(tiny_models, tmp_path / "ct2", shortlist=str(path), num_beams=2)
    torch_out, ct2_out = (
        torch_stage.translate_texts(SENTENCES),
        ct2_stage.translate_texts(SENTENCES),
    )
    assert [ct2_out[t].text for t in SENTENCES] == [torch_out[t].text for t in SENTENCES]
    assert (
        ct2_stage.backend.model_dir is not None
        and (ct2_stage.backend.model_dir / "vmap.txt").exists()
    )
    assert (
        "shortlist" in ct2_stage.backend.backend_id
        and "shortlist" in torch_stage.backend.backend_id
    )


@pytest.mark.parametrize("quantize", ["none", "dynamic-int8"])
def test_lean_loop_scores_only_the_shortlist_and_agrees_with_transformers_loop(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quantize: str
) -> None:
    import pipeline.generation.beam_search as beam_search

    # Private on purpose: only columns scored shows the saving (outputs match either way),
    # and no public call reports it.
    widths: list[int] = []
    original = beam_search._Scorer.__init__

    def spying(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        widths.append(self.logits.shape[-1])

    monkeypatch.setattr(beam_search._Scorer, "__init__", spying)
    path = _random_shortlist(tiny_models, tmp_path / "s.vmap", fixed=10, per_source=3)
    outputs = {}
    for loop in ("transformers", "id2en"):
        stage = make_stage(
            tiny_models, shortlist=str(path), num_beams=3, search_loop=loop, quantize=quantize
        )
        found = stage.translate_texts(SENTENCES)
        outputs[loop] = [(found[t].text, found[t].output_tokens) for t in SENTENCES]
    assert outputs["id2en"] == outputs["transformers"]
    vocab = stage.backend.loaded.model.config.vocab_size
    assert widths and all(width < vocab for width in widths)  # restricted columns only
    assert set(widths) <= set(stage.backend.shortlist.sizes)


@pytest.mark.filterwarnings("ignore:torch.quantize_per")
def test_selected_rows_dequantize_exactly_as_torch_does() -> None:
    from pipeline.generation.restricted_head import selected_rows

    torch.manual_seed(0)
    weight = torch.randn(60, 16)
    ids = torch.tensor([0, 5, 17, 59])
    assert torch.equal(selected_rows(weight, ids), weight.index_select(0, ids))
    per_tensor = torch.quantize_per_tensor(weight, 0.05, 3, torch.qint8)
    per_channel = torch.quantize_per_channel(
        weight,
        torch.rand(60, dtype=torch.double) + 0.01,
        torch.randint(-4, 4, (60,)),
        0,
        torch.qint8,
    )
    for quantized in (per_tensor, per_channel):
        expected = quantized.dequantize().index_select(0, ids)
        assert torch.equal(selected_rows(quantized, ids), expected)
