"""The seam between stages and backends: what a stage may ask a backend (token counts,
decoding, capabilities, required tokens as a typed argument), and nothing else."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline.generation.backend import BackendCapabilities, Generated, RequiredTokens
from pipeline.generation.runner import BatchedBackend
from tests.helpers import SENTENCES, make_stage

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
STAGE_FOLDERS = ("translate", "summarize", "guards")


# -- stages see the protocol only ----------------------------------------------------------


def _stage_modules() -> list[Path]:
    paths = [p for folder in STAGE_FOLDERS for p in sorted((PACKAGE / folder).glob("*.py"))]
    return [*paths, PACKAGE / "generation" / "model_stage.py"]


def test_stages_never_touch_a_tokenizer_or_ask_which_backend_they_hold() -> None:
    offences = []
    for path in _stage_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and node.attr == "tokenizer":
                offences.append(f"{name} reads .tokenizer")
            if isinstance(node, ast.Compare):
                attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                if "backend_kind" in attrs:
                    offences.append(f"{name} branches on backend_kind")
    assert offences == []


def test_required_tokens_are_no_generate_setting() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert "id2en_required_tokens" not in path.read_text(encoding="utf-8"), path


def test_each_backend_says_whether_it_forces_required_tokens() -> None:
    pytest.importorskip("ctranslate2")
    from pipeline.generation.ctranslate2_backend import CTranslate2Backend
    from pipeline.generation.torch_backend import TorchBackend

    assert TorchBackend.capabilities == BackendCapabilities(forces_required_tokens=True)
    assert CTranslate2Backend.capabilities.forces_required_tokens is False


# -- required tokens through the batching runner -------------------------------------------


class Recording(BatchedBackend):
    """Batches of at most two inputs; each output names its input and its requirements."""

    def __init__(self, *, forces: bool = True, fail_pairs: bool = False):
        super().__init__(max_batch_tokens=10_000, max_batch_items=2)
        self.capabilities = BackendCapabilities(forces_required_tokens=forces)
        self.fail_pairs = fail_pairs
        self.batches_seen: list[tuple[list[int], list[RequiredTokens] | None]] = []

    def generate_batch(
        self,
        batch: list[Sequence[int]],
        settings: dict[str, Any],
        required: list[RequiredTokens] | None = None,
    ) -> list[Generated]:
        if self.fail_pairs and len(batch) > 1:
            raise RuntimeError("CUDA out of memory")
        self.batches_seen.append(([ids[0] for ids in batch], required))
        rows = required or [RequiredTokens()] * len(batch)
        return [
            Generated(f"{ids[0]}:{row.sequences}", 1, False)
            for ids, row in zip(batch, rows, strict=True)
        ]


IDS = [[0], [1, 1, 1], [2, 2], [3, 3, 3, 3]]
REQUIRED = [RequiredTokens(((7,),)), RequiredTokens(), RequiredTokens(((8, 9),)), RequiredTokens()]


@pytest.mark.parametrize("fail_pairs", [False, True], ids=["batches", "halved"])
def test_each_input_gets_its_own_requirements_whatever_the_batches(fail_pairs: bool) -> None:
    backend = Recording(fail_pairs=fail_pairs)
    outputs = backend.generate(IDS, {"num_beams": 1}, required=REQUIRED)
    assert [o.text for o in outputs] == [f"{i}:{r.sequences}" for i, r in enumerate(REQUIRED)]
    assert len(backend.batches_seen) == (4 if fail_pairs else 2)
    for firsts, rows in backend.batches_seen:  # a batch without requirements gets None
        wanted = [REQUIRED[i] for i in firsts]
        assert rows == (wanted if any(r.sequences for r in wanted) else None)


def test_no_requirements_reach_no_batch() -> None:
    backend = Recording()
    backend.generate(IDS, {}, required=[RequiredTokens()] * len(IDS))
    backend.generate(IDS, {})
    assert all(rows is None for _, rows in backend.batches_seen)


def test_a_backend_that_cannot_force_refuses_requirements() -> None:
    backend = Recording(forces=False)
    with pytest.raises(ValueError, match="cannot force required tokens"):
        backend.generate(IDS, {}, required=REQUIRED)
    assert backend.batches_seen == []
    assert len(backend.generate(IDS, {}, required=[RequiredTokens()] * len(IDS))) == len(IDS)
    with pytest.raises(ValueError, match="2 required-token entries for 4 inputs"):
        Recording().generate(IDS, {}, required=REQUIRED[:2])


# -- token methods and forcing on a real (tiny) model --------------------------------------


def test_token_methods_agree_with_each_other(tiny_models: Path) -> None:
    backend = make_stage(tiny_models).backend
    texts = SENTENCES[:3]
    with_specials = backend.token_ids(texts)
    without = backend.token_ids(texts, special_tokens=False)
    assert backend.count_tokens(texts) == [len(ids) for ids in with_specials]
    assert backend.count_tokens(texts, special_tokens=False) == [len(ids) for ids in without]
    specials = backend.count_tokens([""])[0]  # the begin/end tokens every input gets
    extra = [len(a) - len(b) for a, b in zip(with_specials, without, strict=True)]
    assert specials >= 1 and extra == [specials] * len(texts)
    assert backend.decode(without[0]) == backend.decode(with_specials[0], skip_special_tokens=True)
    window = 6
    cut = backend.truncate(texts[0], window)
    assert backend.count_tokens([cut])[0] <= window < backend.count_tokens([texts[0]])[0]
    assert (
        backend.token_ids([texts[0]], truncate_to=window)[0][:-1]
        == (backend.token_ids([cut])[0][:-1])
    )
    target = backend.target_token_ids("Bank Indonesia")
    assert target and all(isinstance(i, int) for i in target)


def test_ctranslate2_counts_and_cuts_as_torch_does(tiny_models: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    from tests.helpers import make_ct2_stage

    torch_backend = make_stage(tiny_models).backend
    ct2_backend = make_ct2_stage(tiny_models, tmp_path / "ct2").backend
    for backend in (torch_backend, ct2_backend):
        assert backend.capabilities.forces_required_tokens is (backend is torch_backend)
    text = SENTENCES[0]
    for name, call in [
        ("count_tokens", lambda b: b.count_tokens(SENTENCES, special_tokens=False)),
        ("token_ids", lambda b: b.token_ids(SENTENCES, truncate_to=5)),
        ("target_token_ids", lambda b: b.target_token_ids("Bank Indonesia")),
        ("truncate", lambda b: b.truncate(text, 5)),
        ("decode", lambda b: b.decode(b.token_ids([text])[0])),
    ]:
        assert call(ct2_backend) == call(torch_backend), name


def test_torch_forces_a_required_sequence_into_its_own_row_only(tiny_models: Path) -> None:
    stage = make_stage(tiny_models, num_beams=2)
    backend, settings = stage.backend, stage.generation_settings
    ids = backend.token_ids(SENTENCES[:2])
    term = backend.target_token_ids("Bank Indonesia")
    free = backend.generate(ids, settings)
    forced = backend.generate(ids, settings, required=[RequiredTokens((term,)), RequiredTokens()])
    assert "Bank Indonesia" in forced[0].text and "Bank Indonesia" not in free[0].text
    assert forced[1] == free[1]
