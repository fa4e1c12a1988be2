"""translate.ctranslate2: the translate stage on CTranslate2 (install `id2en[ctranslate2]`).

Everything but the generate step is the torch stage's: pooling, window fitting, dedupe, the
persistent cache and the guards. The Hugging Face model is converted on first use into a
cache folder keyed by model, revision and weight type, and reused afterwards; the tokenizer
and the merged generation settings are the same ones the torch stage uses, mapped across.

Marian specifics, checked against CTranslate2's converter: the decoder starts from a zero
embedding exactly like transformers' pad-token start, and the converted vocabulary drops the
trailing <pad>, so token ids agree for every other token and <pad> can never be generated
(what `bad_words_ids: [[pad]]` does in transformers).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pipeline.batching import token_budget_batches
from pipeline.config import ModelSource, PipelineConfig
from pipeline.generation import Generated, group_by_settings, is_out_of_memory, token_ids
from pipeline.models import (
    LoadedModel,
    ModelLoadError,
    generation_defaults,
    input_window,
    is_offline,
    physical_cores,
)
from pipeline.stages.translate import Shortlist, TorchTranslateStage
from pipeline.translation_cache import model_fingerprint

logger = logging.getLogger(__name__)

# Stored weight type per compute type: never store narrower than the compute type reads.
_STORED = {
    "int8": "int8",
    "int8_float32": "int8",
    "int8_float16": "int8",
    "int8_bfloat16": "int8",
    "int16": "int16",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
}
# generate() settings with no CTranslate2 counterpart that do not change the output.
_HARMLESS = {
    "bos_token_id",
    "decoder_start_token_id",
    "eos_token_id",
    "pad_token_id",
    "forced_eos_token_id",  # handled through the length mapping
    "renormalize_logits",
    "use_cache",
    "early_stopping",  # CTranslate2 stops once beam_size hypotheses finished (patience 1)
    "num_return_sequences",
    "output_scores",
    "return_dict_in_generate",
}
_MAPPED = {
    "num_beams",
    "length_penalty",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "max_new_tokens",
    "max_length",
    "min_new_tokens",
    "min_length",
    "bad_words_ids",
    "suppress_tokens",
    "do_sample",
    "top_k",
    "top_p",
    "temperature",
}


def _import_ct2() -> Any:
    try:
        import ctranslate2
    except ImportError as exc:
        raise ModelLoadError(
            "translate.ctranslate2 needs the ctranslate2 package: "
            "pip install 'id2en[ctranslate2]' (or pip install ctranslate2)"
        ) from exc
    return ctranslate2


# ------------------------------------------------------------------ device and weights


@dataclass(frozen=True)
class CT2Device:
    type: str  # "cpu" or "cuda"
    index: int = 0

    def __str__(self) -> str:
        return self.type if self.type == "cpu" else f"{self.type}:{self.index}"


def resolve_ct2_device(spec: str) -> CT2Device:
    ct2 = _import_ct2()
    gpus = ct2.get_cuda_device_count()
    if spec == "auto":
        return CT2Device("cuda") if gpus > 0 else CT2Device("cpu")
    if spec == "cpu":
        return CT2Device("cpu")
    if spec.startswith("cuda"):
        index = int(spec[5:]) if spec.startswith("cuda:") else 0
        if index >= gpus:
            raise ModelLoadError(
                f"device {spec!r} asked for, but CTranslate2 sees {gpus} CUDA device(s); "
                "use device: cpu or install a CUDA-enabled ctranslate2 wheel"
            )
        return CT2Device("cuda", index)
    raise ModelLoadError(f"translate.ctranslate2 runs on cpu or cuda, not {spec!r}")


def resolve_compute_type(spec: str, device: CT2Device) -> str:
    """'auto': int8 on CPU, int8_float16 on CUDA (fast, and near fp16 quality for Marian)."""
    if spec == "auto":
        return "int8" if device.type == "cpu" else "int8_float16"
    if spec not in _STORED:
        raise ModelLoadError(
            f"translate.ct2_compute_type {spec!r} is not one of auto, {', '.join(_STORED)}"
        )
    supported = _import_ct2().get_supported_compute_types(device.type, device.index)
    if spec not in supported:
        raise ModelLoadError(
            f"translate.ct2_compute_type {spec!r} is not supported on {device}; "
            f"this machine supports: {', '.join(sorted(supported))} (or use 'auto')"
        )
    return spec


def local_model_path(source: ModelSource) -> Path:
    """The model as a local folder: as given, or the pinned snapshot in the HF cache."""
    if Path(source.model).is_dir():
        return Path(source.model)
    from huggingface_hub import snapshot_download

    offline = is_offline(source)
    try:
        path = snapshot_download(
            source.model,
            revision=source.revision,
            cache_dir=source.cache_dir,
            local_files_only=offline,
            ignore_patterns=["*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "onnx/*"],
        )
    except Exception as exc:  # missing, offline or no access: one clear message
        from pipeline.models import _load_error

        raise _load_error(source, exc) from exc
    return Path(path)


def default_ct2_root() -> Path:
    """$ID2EN_CACHE/ctranslate2, else the user cache (XDG_CACHE_HOME or ~/.cache)/id2en/..."""
    if os.environ.get("ID2EN_CACHE"):
        return Path(os.environ["ID2EN_CACHE"]) / "ctranslate2"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "id2en" / "ctranslate2"


def converted_dir(root: Path, model: str, revision: str | None, stored: str) -> Path:
    """One folder per (model weights, revision, stored weight type)."""
    fingerprint = model_fingerprint(model, revision)
    digest = hashlib.sha256(f"{fingerprint}|{stored}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", Path(model).name if Path(model).is_dir() else model)
    return root / f"{slug.strip('-')}-{stored}-{digest}"


def ensure_converted(model_path: Path, target: Path, stored: str) -> Path:
    """Convert once; a finished folder is reused. Concurrent converters race harmlessly:
    each writes a private temp folder and the first rename wins."""
    ct2 = _import_ct2()
    if ct2.contains_model(str(target)):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    from ctranslate2.converters import TransformersConverter

    logger.info("converting %s to CTranslate2 (%s) in %s", model_path, stored, target)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        TransformersConverter(str(model_path)).convert(str(temp), quantization=stored, force=True)
        try:
            temp.rename(target)
        except OSError:  # another process finished first
            if not ct2.contains_model(str(target)):
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def with_vocabulary_map(model_dir: Path, shortlist: Shortlist) -> Path:
    """A sibling of the converted folder with the shortlist as its vmap.txt.

    The weights are linked, not copied or re-converted: one conversion serves any number
    of shortlists.
    """
    assert shortlist.path is not None
    target = model_dir.with_name(f"{model_dir.name}-vmap-{shortlist.digest}")
    if (target / "vmap.txt").exists():
        return target
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for item in model_dir.iterdir():
            (temp / item.name).symlink_to(item.resolve())
        shutil.copyfile(shortlist.path, temp / "vmap.txt")
        try:
            temp.rename(target)
        except OSError:  # another process made it first
            if not (target / "vmap.txt").exists():
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


# ------------------------------------------------------------------ settings mapping


def ct2_options(gen: dict[str, Any], tokenizer: Any, *, warn: bool = True) -> dict[str, Any]:
    """transformers generate() settings -> CTranslate2 translate_batch() options.

    Lengths: transformers' max_length/min_length count the decoder start token,
    max_new_tokens/min_new_tokens do not; CTranslate2 counts generated tokens. When
    forced_eos_token_id is set, transformers spends the last allowed step on a forced
    end token, so CTranslate2 gets one step less and produces the same text.
    """
    if warn:
        _warn_unmapped(gen)
    options: dict[str, Any] = {
        "beam_size": int(gen.get("num_beams") or 1),
        "length_penalty": float(gen.get("length_penalty", 1.0)),
        "repetition_penalty": float(gen.get("repetition_penalty") or 1.0),
        "no_repeat_ngram_size": int(gen.get("no_repeat_ngram_size") or 0),
        "max_input_length": 0,  # inputs were already fitted to the window
        "return_end_token": True,  # tells "ended" from "hit the length limit"
    }
    if gen.get("max_new_tokens") is not None:
        steps = int(gen["max_new_tokens"])
    else:
        steps = int(gen.get("max_length") or 20) - 1  # transformers' default max_length: 20
    if gen.get("forced_eos_token_id") is not None:
        steps -= 1
    options["max_decoding_length"] = max(1, steps)
    if gen.get("min_new_tokens") is not None:
        options["min_decoding_length"] = int(gen["min_new_tokens"])
    elif gen.get("min_length"):
        options["min_decoding_length"] = max(0, int(gen["min_length"]) - 1)
    suppressed = _suppressed_sequences(gen, tokenizer)
    if suppressed:
        options["suppress_sequences"] = suppressed
    if gen.get("do_sample"):
        options["sampling_topk"] = int(gen.get("top_k") or 50)  # transformers' default top_k
        options["sampling_topp"] = float(gen.get("top_p") or 1.0)
        options["sampling_temperature"] = float(gen.get("temperature") or 1.0)
    return options


def _suppressed_sequences(gen: dict[str, Any], tokenizer: Any) -> list[list[str]]:
    # <pad> is not in the converted vocabulary (it can never be generated), so drop it.
    pad = tokenizer.pad_token_id
    sequences = [list(s) for s in gen.get("bad_words_ids") or []]
    sequences += [[t] for t in gen.get("suppress_tokens") or []]
    kept = [s for s in sequences if s and pad not in s]
    return [tokenizer.convert_ids_to_tokens(s) for s in kept]


_warned: set[str] = set()


def _warn_unmapped(gen: dict[str, Any]) -> None:
    for key, value in gen.items():
        if value is None or key in _MAPPED or key in _HARMLESS or key in _warned:
            continue
        _warned.add(key)
        logger.warning("translate.ctranslate2: generation setting %s=%r is ignored", key, value)


# ------------------------------------------------------------------ the generate step


class CT2Generator:
    """Generator's interface (token_ids, generate) on a ctranslate2.Translator."""

    def __init__(
        self,
        translator: Any,
        tokenizer: Any,
        *,
        max_batch_tokens: int,
        max_batch_items: int,
    ):
        self.translator = translator
        self.tokenizer = tokenizer
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_items = max_batch_items
        self.oom_retries = 0
        self.translate_options: dict[str, Any] = {}  # extra options (e.g. use_vmap)

    def token_ids(self, texts: Sequence[str], *, truncate_to: int | None = None) -> list[list[int]]:
        return token_ids(self.tokenizer, texts, truncate_to=truncate_to)

    def generate(
        self,
        ids: Sequence[Sequence[int]],
        gen: dict[str, Any],
        per_item: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> list[Generated]:
        beams = int(gen.get("num_beams") or 1)
        budget = max(1, self.max_batch_tokens // beams)
        tokens = [self.tokenizer.convert_ids_to_tokens(list(x)) for x in ids]
        results: list[Generated | None] = [None] * len(ids)
        for batch in token_budget_batches([len(x) for x in ids], budget, self.max_batch_items):
            for settings, members in group_by_settings(batch, gen, per_item):
                options = ct2_options(settings, self.tokenizer) | self.translate_options
                forced_end = settings.get("forced_eos_token_id") is not None
                outputs = self._run(tokens, members, options, forced_end)
                for index, out in zip(members, outputs, strict=True):
                    results[index] = out
        return [r for r in results if r is not None]

    def _run(
        self,
        tokens: list[list[str]],
        members: list[int],
        options: dict[str, Any],
        forced_end: bool,
    ) -> list[Generated]:
        try:
            results = self.translator.translate_batch([tokens[i] for i in members], **options)
        except RuntimeError as exc:
            if not is_out_of_memory(exc) or len(members) == 1:
                raise
            self.oom_retries += 1
            self.max_batch_tokens = max(64, self.max_batch_tokens // 2)
            logger.warning("out of memory on a batch of %d; retrying in halves", len(members))
            half = len(members) // 2
            first = self._run(tokens, members[:half], options, forced_end)
            return first + self._run(tokens, members[half:], options, forced_end)
        return self._describe(results, options["max_decoding_length"], forced_end)

    def _describe(self, results: list[Any], limit: int, forced_end: bool) -> list[Generated]:
        eos = self.tokenizer.eos_token
        outputs, ended = [], []
        for result in results:
            hypothesis = list(result.hypotheses[0])
            finished = bool(hypothesis) and hypothesis[-1] == eos
            ended.append(finished)
            content = hypothesis[:-1] if finished else hypothesis
            outputs.append(self.tokenizer.convert_tokens_to_ids(content))
        texts = self.tokenizer.batch_decode(outputs, skip_special_tokens=True)
        return [
            Generated(
                text=text.strip(),
                # Count as transformers does: a cut output gets its forced end token too.
                output_tokens=len(out) + int(finished or forced_end),
                hit_length_limit=not finished and len(out) >= limit,
            )
            for text, out, finished in zip(texts, outputs, ended, strict=True)
        ]


# ------------------------------------------------------------------ the stage


class CTranslate2TranslateStage(TorchTranslateStage):
    name = "translate.ctranslate2"

    def __init__(self, config: PipelineConfig):
        super().__init__(config)
        self.model_dir: Path | None = None

    @cached_property
    def device(self) -> CT2Device:
        return resolve_ct2_device(self.config.run.device)

    @cached_property
    def compute_type(self) -> str:
        return resolve_compute_type(self.settings.ct2_compute_type, self.device)

    @cached_property
    def model_path(self) -> Path:
        """The HF model as a local folder, resolved once (a hub lookup may cost a request)."""
        return local_model_path(self.settings)

    @property
    def loaded(self) -> LoadedModel:
        """Tokenizer, config and generation defaults only: the torch weights stay on disk."""
        if self._loaded is None:
            self._loaded = self._load_light()
        return self._loaded

    def _load_light(self) -> LoadedModel:
        from transformers import AutoConfig, AutoTokenizer, GenerationConfig

        source: ModelSource = self.settings
        path = self.model_path
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            config = AutoConfig.from_pretrained(path)
        except (OSError, ValueError) as exc:
            from pipeline.models import _load_error

            raise _load_error(source, exc) from exc
        try:
            generation_config = GenerationConfig.from_pretrained(path)
        except OSError:  # older checkpoints keep generation settings in config.json
            generation_config = GenerationConfig.from_model_config(config)
        stub = SimpleNamespace(config=config, generation_config=generation_config)
        revision = source.revision or (path.name if not Path(source.model).is_dir() else None)
        return LoadedModel(
            name=source.model,
            revision=revision,
            tokenizer=tokenizer,
            model=stub,
            device=self.device,
            dtype=f"ctranslate2-{self.compute_type}",
            generation_defaults=generation_defaults(stub, self.task),
            max_input_tokens=input_window(stub, tokenizer),
        )

    @property
    def engine_id(self) -> str:
        return f"ctranslate2/{self.compute_type}" + self._shortlist_suffix()

    def _make_generator(self) -> CT2Generator:
        ct2 = _import_ct2()
        loaded, device, compute = self.loaded, self.device, self.compute_type
        root = Path(self.settings.ct2_model_dir or default_ct2_root()).expanduser()
        model_path = self.model_path
        stored = _STORED[compute]
        target = converted_dir(root, str(model_path), loaded.revision, stored)
        self.model_dir = ensure_converted(model_path, target, stored)
        if self.shortlist is not None:
            self.model_dir = with_vocabulary_map(self.model_dir, self.shortlist)
        threads = self.config.run.threads or physical_cores()
        translator = ct2.Translator(
            str(self.model_dir),
            device=device.type,
            device_index=device.index,
            compute_type=compute,
            inter_threads=1,  # one batch at a time; its threads do the work
            intra_threads=threads if device.type == "cpu" else 0,
        )
        logger.info(
            "CTranslate2 %s on %s (%s, %d threads)", self.model_dir, device, compute, threads
        )
        generator = CT2Generator(
            translator,
            loaded.tokenizer,
            max_batch_tokens=self.settings.max_batch_tokens,
            max_batch_items=self.settings.max_batch_sentences,
        )
        if self.shortlist is not None:
            generator.translate_options["use_vmap"] = True
        return generator
