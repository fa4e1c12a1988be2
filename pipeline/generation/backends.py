"""Which backend a model stage gets: the one place that builds them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pipeline.config import BackendSettings, RunSettings
    from pipeline.generation.backend import Backend, VocabularyShortlist

BackendKind = Literal["torch", "ctranslate2"]
BACKENDS: tuple[BackendKind, ...] = ("torch", "ctranslate2")
# The backend whose capabilities force required tokens (its logits processor).
FORCING_BACKEND: BackendKind = "torch"


def open_backend(
    kind: BackendKind,
    settings: BackendSettings,
    run: RunSettings,
    *,
    task: str | None,
    shortlist: VocabularyShortlist | None = None,
) -> Backend:
    """Load the model of a stage's settings on `kind`; `shortlist` restricts the output
    layer to each batch's candidates."""
    if kind == "torch":
        return _torch(settings, run, task, shortlist)
    if kind == "ctranslate2":
        return _ctranslate2(settings, run, task, shortlist)
    raise ValueError(f"unknown backend {kind!r}; expected one of {BACKENDS}")


def open_forcing_backend(
    settings: BackendSettings, run: RunSettings, *, task: str | None
) -> Backend:
    """The same model on a backend that forces required tokens, for a stage whose own
    backend cannot (its outputs missing a required term are retried there)."""
    return open_backend(FORCING_BACKEND, settings, run, task=task)


def _torch(
    settings: BackendSettings,
    run: RunSettings,
    task: str | None,
    shortlist: VocabularyShortlist | None,
) -> Backend:
    from pipeline.generation.conditioning import condition
    from pipeline.generation.models import load_seq2seq, set_threads
    from pipeline.generation.torch_backend import TorchBackend

    set_threads(run.threads)
    loaded = load_seq2seq(
        settings, device=run.device, dtype=run.dtype, task=task, quantize=settings.quantize
    )
    conditioning = condition(settings, loaded.model.config, loaded.tokenizer, task)
    return TorchBackend(
        loaded,
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_items=settings.max_batch_sentences,
        adapt_to_memory=settings.adapt_batch_to_memory,
        search_loop=settings.search_loop,
        quantize=settings.quantize,
        shortlist=shortlist,
        conditioning=conditioning,
    )


def _ctranslate2(
    settings: BackendSettings,
    run: RunSettings,
    task: str | None,
    shortlist: VocabularyShortlist | None,
) -> Backend:
    from pipeline.generation.ctranslate2_backend import CTranslate2Backend, read_model_files
    from pipeline.generation.ctranslate2_models import resolve_compute_type, resolve_ct2_device
    from pipeline.generation.models import resolve_threads

    device = resolve_ct2_device(run.device)
    compute_type = resolve_compute_type(settings.ct2_compute_type, device)
    vocabulary_map = None
    if shortlist is not None:
        if shortlist.path is None:
            raise ValueError("CTranslate2 reads a shortlist from its file: this one has none")
        vocabulary_map = (shortlist.path, shortlist.digest)
    return CTranslate2Backend(
        settings,
        read_model_files(settings, task),
        device=device,
        compute_type=compute_type,
        threads=resolve_threads(run.threads),
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_items=settings.max_batch_sentences,
        model_root=settings.ct2_model_dir,
        vocabulary_map=vocabulary_map,
    )
