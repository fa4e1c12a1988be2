"""The CTranslate2 backend (install `id2en[ctranslate2]`): the same tokenizer and merged
generation settings as the torch backend, mapped onto `Translator.translate_batch`.

The Hugging Face model is converted on first use into a cache folder
(pipeline.generation.ctranslate2_models) and reused afterwards. Only the tokenizer, the
model config and its generation config are read from the Hugging Face folder: the torch
weights stay on disk.

BART specifics: the forced <s> after the </s> decoder start becomes a target prefix
(`forced_prefix`), and the converter gets the config fields transformers 5 dropped
(ctranslate2_models.LEGACY_CONFIG_DEFAULTS).

Marian specifics, checked against CTranslate2's converter: the decoder starts from a zero
embedding exactly like transformers' pad-token start, and the converted vocabulary drops the
trailing <pad>, so token ids agree for every other token and <pad> can never be generated
(what `bad_words_ids: [[pad]]` does in transformers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ModelSource
from pipeline.generation.backend import Generated, RequiredTokens, mean_log_prob
from pipeline.generation.conditioning import Conditioning, condition
from pipeline.generation.ctranslate2_models import (
    STORED,
    CT2Device,
    converted_dir,
    default_ct2_root,
    ensure_converted,
    import_ctranslate2,
    is_native_folder,
    local_model_path,
    native_tokenizer,
    with_vocabulary_map,
)
from pipeline.generation.models import generation_defaults, input_window, load_error
from pipeline.generation.runner import BatchedBackend
from pipeline.generation.tokens import HubTokenizerMethods

logger = logging.getLogger(__name__)

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
    "forced_bos_token_id",  # a target prefix (forced_prefix)
    "do_sample",
    "top_k",
    "top_p",
    "temperature",
}


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
        "return_scores": True,  # sum(log p) / tokens ** length_penalty, end token counted
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
    if options.get("min_decoding_length", 0) > options["max_decoding_length"]:
        # A minimum up to the limit: transformers' forced end token wins the last step
        # (its processor runs after the minimum-length one), so the output stops there.
        options["min_decoding_length"] = options["max_decoding_length"]
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
        logger.warning("CTranslate2 backend: generation setting %s=%r is ignored", key, value)


def forced_prefix(gen: dict[str, Any], tokenizer: Any, rows: int) -> list[list[str]] | None:
    """transformers' forced_bos_token_id as a CTranslate2 target prefix.

    BART (distilbart) starts decoding from </s> and is forced to emit <s> next; the
    converted model keeps the </s> start, and the prefix forces the <s>. CTranslate2 counts
    the prefix in its decoding lengths as transformers counts the forced token, and returns
    it in the hypothesis, so lengths and outputs line up (tests/generation/test_ctranslate2.py
    checks token for token on a tiny BART).
    """
    bos = gen.get("forced_bos_token_id")
    if bos is None:
        return None
    return [[tokenizer.convert_ids_to_tokens(int(bos))] for _ in range(rows)]


@dataclass
class HubModelFiles:
    """What the CTranslate2 backend reads from a Hugging Face model folder."""

    path: Path
    revision: str | None
    tokenizer: Any
    generation_defaults: dict[str, Any]
    max_input_tokens: int
    conditioning: Conditioning
    native: bool = False  # already a CTranslate2 model: used as it is, not converted


# A CTranslate2-native folder has no generation config: id2en's defaults for one.
NATIVE_GENERATION_DEFAULTS = {"num_beams": 5, "max_length": 512}
NATIVE_WINDOW = 512  # tokens; its config does not say (translate.max_input_tokens does)


def read_model_files(source: ModelSource, task: str | None) -> HubModelFiles:
    """Tokenizer, config and generation defaults of a model; its weights are not loaded."""
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    path = local_model_path(source)
    if is_native_folder(path):
        tokenizer = native_tokenizer(source, path)
        return HubModelFiles(
            path=path,
            revision=source.revision or (path.name if not Path(source.model).is_dir() else None),
            tokenizer=tokenizer,
            generation_defaults=dict(NATIVE_GENERATION_DEFAULTS),
            max_input_tokens=NATIVE_WINDOW,
            conditioning=condition(source, None, tokenizer, task),
            native=True,
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise load_error(source, exc) from exc
    try:
        generation_config = GenerationConfig.from_pretrained(path)
    except OSError:  # older checkpoints keep generation settings in config.json
        generation_config = GenerationConfig.from_model_config(config)
    window = input_window(config, tokenizer)
    tokenizer.model_max_length = 1 << 30  # the stages cut or chunk long texts themselves
    return HubModelFiles(
        path=path,
        revision=source.revision or (path.name if not Path(source.model).is_dir() else None),
        tokenizer=tokenizer,
        generation_defaults=generation_defaults(config, generation_config, task, window),
        max_input_tokens=window,
        conditioning=condition(source, config, tokenizer, task),
    )


class CTranslate2Backend(HubTokenizerMethods, BatchedBackend):
    """A Backend on a ctranslate2.Translator (Marian, BART and other seq2seq models).

    It cannot force required tokens (translate_batch has no logits hook), so its
    capabilities say so and the runner refuses them."""

    name = "ctranslate2"

    def __init__(
        self,
        source: ModelSource,
        files: HubModelFiles,
        *,
        device: CT2Device,
        compute_type: str,
        threads: int,
        max_batch_tokens: int,
        max_batch_items: int,
        model_root: str | None = None,
        vocabulary_map: tuple[Path, str] | None = None,
    ):
        super().__init__(max_batch_tokens=max_batch_tokens, max_batch_items=max_batch_items)
        ct2 = import_ctranslate2()
        self.source, self.files = source, files
        self.tokenizer = files.tokenizer
        self.conditioning = files.conditioning
        self.conditioning.apply(self.tokenizer)
        self.generation_defaults = dict(files.generation_defaults)
        self.generation_defaults |= self.conditioning.generation_defaults()
        self.max_input_tokens = files.max_input_tokens
        self.device, self.compute_type = device, compute_type
        self.vocabulary_digest = vocabulary_map[1] if vocabulary_map else None
        self.model_dir = files.path
        if not files.native:
            root = Path(model_root or default_ct2_root()).expanduser()
            stored = STORED[compute_type]
            target = converted_dir(root, str(files.path), files.revision, stored)
            self.model_dir = ensure_converted(files.path, target, stored)
        self.translate_options: dict[str, Any] = {}
        if vocabulary_map is not None:
            self.model_dir = with_vocabulary_map(self.model_dir, *vocabulary_map)
            self.translate_options["use_vmap"] = True
        self.translator = ct2.Translator(
            str(self.model_dir),
            device=device.type,
            device_index=device.index,
            compute_type=compute_type,
            inter_threads=1,  # one batch at a time; its threads do the work
            intra_threads=threads if device.type == "cpu" else 0,
        )
        logger.info(
            "CTranslate2 %s on %s (%s, %d threads)", self.model_dir, device, compute_type, threads
        )

    @property
    def backend_id(self) -> str:
        suffix = f"/shortlist-{self.vocabulary_digest}" if self.vocabulary_digest else ""
        languages = f"/{self.conditioning.key}" if self.conditioning.key else ""
        return f"ctranslate2/{self.compute_type}{languages}{suffix}"

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.source.model,
            "revision": self.files.revision,
            "device": str(self.device),
            "dtype": f"ctranslate2-{self.compute_type}",
            "backend": self.backend_id,
        }

    def generate_batch(
        self,
        batch: list[Sequence[int]],
        settings: dict[str, Any],
        required: list[RequiredTokens] | None = None,  # never given: see capabilities
    ) -> list[Generated]:
        options = ct2_options(settings, self.tokenizer) | self.translate_options
        tokens = [self.pieces(x) for x in batch]
        prefix = forced_prefix(settings, self.tokenizer, len(batch))
        results = self.translator.translate_batch(tokens, target_prefix=prefix, **options)
        forced_end = settings.get("forced_eos_token_id") is not None
        described = self._describe(results, options["max_decoding_length"], forced_end)
        penalty = options["length_penalty"]
        for out, result in zip(described, results, strict=True):
            if result.scores:
                # CTranslate2 normalises by the hypothesis' own length (a cut one has no end
                # token); transformers' forced end token adds one token of log-probability 0.
                length = len(result.hypotheses[0])
                total = float(result.scores[0]) * length**penalty if length else 0.0
                out.score = mean_log_prob(total, out.output_tokens, 0.0)  # total / tokens
        return described

    def _describe(self, results: list[Any], limit: int, forced_end: bool) -> list[Generated]:
        eos = self.tokenizer.eos_token
        outputs, ended = [], []
        for result in results:
            hypothesis = list(result.hypotheses[0])
            finished = bool(hypothesis) and hypothesis[-1] == eos
            ended.append(finished)
            content = hypothesis[:-1] if finished else hypothesis
            outputs.append(self.piece_ids(content))
        texts = self.decode_outputs(outputs)
        return [
            Generated(
                text=text.strip(),
                # Count as transformers does: a cut output gets its forced end token too.
                output_tokens=len(out) + int(finished or forced_end),
                hit_length_limit=not finished and len(out) >= limit,
            )
            for text, out, finished in zip(texts, outputs, ended, strict=True)
        ]
