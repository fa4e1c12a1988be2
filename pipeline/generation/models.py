"""The one place that loads models and tokenizers and picks device, dtype and threads."""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.config import ModelSource
from pipeline.errors import ModelLoadError

logger = logging.getLogger(__name__)

_THREADS_LOCK = threading.Lock()
_threads_set: int | None = None


def physical_cores() -> int:
    """Physical cores we may run on: hyper-threads slow GEMM-bound inference, not help it."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for cpu in allowed:
        siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))  # no topology (containers): count the CPU itself
    return max(1, len(cores))


def resolve_threads(threads: int | None) -> int:
    """The CPU threads a run uses: `run.threads`, or the physical cores when it is null."""
    return threads or physical_cores()


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads once per process (torch refuses inter-op changes later)."""
    global _threads_set
    import torch

    wanted = resolve_threads(threads)
    with _THREADS_LOCK:
        if _threads_set != wanted:
            torch.set_num_threads(wanted)
            _threads_set = wanted
    return wanted


def resolve_device(spec: str) -> Any:
    import torch

    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(
            f"device {spec!r} asked for, but this torch build sees no CUDA GPU "
            f"(torch {torch.__version__}); use device: cpu or install a CUDA build of torch"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError("device 'mps' asked for, but MPS is not available here")
    return device


def resolve_dtype(spec: str, device: Any) -> Any:
    """auto: bf16 on GPUs that support it, else fp16 on GPU; fp32 on CPU."""
    import torch

    if spec != "auto":
        return getattr(torch, spec)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


@dataclass
class LoadedModel:
    """A tokenizer, a model on its device, and its resolved generation defaults."""

    name: str
    revision: str | None
    tokenizer: Any
    model: Any
    device: Any
    dtype: Any
    generation_defaults: dict[str, Any] = field(default_factory=dict)
    max_input_tokens: int = 512  # the encoder's window, read from the model at load time

    def describe(self) -> dict[str, Any]:
        commit = getattr(self.model.config, "_commit_hash", None)
        return {
            "model": self.name,
            "revision": self.revision or commit,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
        }


def input_window(model_config: Any, tokenizer: Any) -> int:
    """The encoder's window: the model's positions, or the tokenizer's limit if smaller."""
    positions = getattr(model_config, "max_position_embeddings", None)
    limit = getattr(tokenizer, "model_max_length", None)
    candidates = [v for v in (positions, limit) if isinstance(v, int) and 0 < v < 1_000_000]
    return min(candidates) if candidates else 512


TINY_MODELS_FOLDER = ".tiny-models"  # where `-c tiny` reads the models tests/support builds

OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def offline_by_env() -> bool:
    """Whether the environment turns the hub off, read as huggingface_hub reads it: the
    first of OFFLINE_VARS that is set decides."""
    value = next((os.environ[name] for name in OFFLINE_VARS if os.environ.get(name)), "")
    return value.lower() in {"1", "true", "yes", "on"}


def is_offline(source: ModelSource) -> bool:
    """Local files only: asked for, set in the environment, or the hub cannot be reached."""
    return source.local_files_only or offline_by_env() or hub_unreachable(source) is not None


def hub_unreachable(source: ModelSource) -> str | None:
    """Why the hub cannot be reached for this model (probed once); None for a local folder."""
    if source.local_files_only or offline_by_env() or Path(source.model).expanduser().is_dir():
        return None
    if looks_like_local_path(source.model):
        return None
    from pipeline.generation.hub_access import unreachable_reason

    return unreachable_reason()


def looks_like_local_path(name: str) -> bool:
    """A hub id is "name" or "org/name"; a path starts with /, ., ~ or has more parts."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def load_error(source: ModelSource, exc: Exception) -> ModelLoadError:
    folder = Path(source.model).expanduser()
    tried = "local files only (offline)" if is_offline(source) else "local folder, cache, download"
    if not folder.exists() and looks_like_local_path(source.model):
        if TINY_MODELS_FOLDER in folder.parts:
            fix = (
                "build the tiny random-weight models there: in an id2en checkout, run "
                f"`python -m tests.support.tiny_models {TINY_MODELS_FOLDER}` in the folder "
                "you run id2en from"
            )
        else:
            fix = (
                "correct the path in `model:` (a relative path in a config file is relative "
                "to that file), or put the model there (on a connected machine: "
                "`id2en models download --to DIR`, then copy DIR here)"
            )
        return ModelLoadError(
            f"model folder {source.model!r} does not exist ({folder.resolve()}); tried: "
            f"{tried}\n  fix: {fix}"
        )
    where = "the local folder" if folder.exists() else "the Hugging Face hub/cache"
    cache = source.cache_dir or os.environ.get("HF_HOME") or "~/.cache/huggingface"
    unreachable = hub_unreachable(source)
    if unreachable is not None:
        from pipeline.generation.hub_access import hub_endpoint

        return ModelLoadError(
            f"could not reach the Hugging Face hub at {hub_endpoint()} ({unreachable}), and "
            f"model {source.model!r} (revision {source.revision or 'default'}) is not in the "
            f"cache ({cache})\n"
            "  fix: connect to the network (or set HF_ENDPOINT/HTTPS_PROXY), or on a connected "
            "machine run `id2en models download -c CONFIG` and copy the cache here (or "
            "`--to DIR` and point `model:` at the folder); HF_HUB_OFFLINE=1 skips the hub"
        )
    return ModelLoadError(
        f"could not load model {source.model!r} (revision {source.revision or 'default'}) "
        f"from {where}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
        f"  tried: {tried}"
        f"; cache: {cache}\n"
        "  fix: on a connected machine run `id2en models download -c CONFIG` (or "
        "`id2en models download --to DIR` and copy DIR here), then point `model:` at the "
        "folder, or set `cache_dir:`/HF_HOME to the cache that holds it"
    )


def generation_defaults(
    model_config: Any, generation_config: Any, task: str | None, window: int | None = None
) -> dict[str, Any]:
    """The model's own generation settings, with the checkpoint's task-specific ones on top.

    A model that names no length limit (MADLAD-400's generation config, for one) would get
    transformers' fallback of 20 tokens, cutting most sentences short: it gets its input
    `window` as max_length instead, as a CTranslate2-native folder gets 512."""
    defaults = {
        k: v
        for k, v in generation_config.to_diff_dict().items()
        if not k.startswith("_") and k != "transformers_version"
    }
    params = getattr(model_config, "task_specific_params", None) or {}
    task_params = params.get(task or "", {})
    defaults.update({k: v for k, v in task_params.items() if k != "prefix"})
    if window and defaults.get("max_length") is None and defaults.get("max_new_tokens") is None:
        defaults["max_length"] = window
    return defaults


def load_seq2seq(
    source: ModelSource,
    *,
    device: str = "auto",
    dtype: str = "auto",
    task: str | None = None,
    quantize: str = "none",
) -> LoadedModel:
    """Load once per process and configuration; later calls return the same objects."""
    key = (
        source.model,
        source.revision,
        source.cache_dir,
        source.local_files_only or offline_by_env(),  # asked for; the hub probe comes later
        device,
        dtype,
        task,
        quantize,
    )
    return _load_cached(key)


@lru_cache(maxsize=8)
def _load_cached(key: tuple[Any, ...]) -> LoadedModel:
    name, revision, cache_dir, offline, device_spec, dtype_spec, task, quantize = key
    source = ModelSource(
        model=name, revision=revision, cache_dir=cache_dir, local_files_only=offline
    )
    import torch
    from transformers import AutoModelForSeq2SeqLM

    device = resolve_device(device_spec)
    dtype = resolve_dtype(dtype_spec, device)
    logger.info("loading %s (revision %s) on %s as %s", name, revision or "default", device, dtype)
    tokenizer = load_tokenizer(source)
    try:
        with hub_progress_only_on_a_terminal():
            model = AutoModelForSeq2SeqLM.from_pretrained(name, dtype=dtype, **hub_kwargs(source))
    except Exception as exc:  # e.g. a truncated weights file (SafetensorError)
        raise load_error(source, exc) from exc
    model.eval()
    if quantize == "dynamic-int8":
        if device.type != "cpu":
            raise ModelLoadError("quantize: dynamic-int8 works on CPU only; set device: cpu")
        with warnings.catch_warnings():
            # torch 2.x marks torch.ao quantization deprecated (in favour of torchao) but it
            # works; the warnings would repeat on every run with nothing for the user to do.
            # The config field says so. Revisit when torch's requirement moves past 2.x.
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor", category=UserWarning)
            warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8
            )  # (torch leaves quantize_dynamic unannotated)
    else:
        model.to(device)
    window = input_window(model.config, tokenizer)
    # The stages count tokens of over-long texts on purpose (to cut or chunk them); the
    # window lives in LoadedModel, so the tokenizer's own length warning is only noise.
    tokenizer.model_max_length = 1 << 30
    defaults = generation_defaults(model.config, model.generation_config, task, window)
    return LoadedModel(
        max_input_tokens=window,
        name=name,
        revision=revision,
        tokenizer=tokenizer,
        model=model,
        device=device,
        dtype=dtype,
        generation_defaults=defaults,
    )


def load_tokenizer(source: ModelSource) -> Any:
    """The tokenizer of a configured model (load_seq2seq loads it this way too)."""
    from transformers import AutoTokenizer

    try:
        with hub_progress_only_on_a_terminal():
            return AutoTokenizer.from_pretrained(source.model, **hub_kwargs(source))
    except (OSError, ValueError, ImportError) as exc:
        raise load_error(source, exc) from exc


def hub_kwargs(source: ModelSource) -> dict[str, Any]:
    """Where from_pretrained looks: revision, cache folder, and whether the network is off."""
    return {
        "revision": source.revision,
        "cache_dir": source.cache_dir,
        "local_files_only": is_offline(source),
    }


@contextmanager
def hub_progress_only_on_a_terminal() -> Iterator[None]:
    """Download/loading bars help on a terminal and clutter batch logs everywhere else."""
    from transformers.utils import logging as hf_logging

    if sys.stderr.isatty() or not hf_logging.is_progress_bar_enabled():
        yield
        return
    # transformers leaves these two unannotated.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


# Files of a hub snapshot that id2en never reads: other frameworks' weights, and the
# training checkpoint quickmt ships beside its CTranslate2 model (eole-model/, 824 MB for
# quickmt-id-en, twice its model.bin).
SKIPPED_HUB_FILES = [
    "*.h5",
    "*.msgpack",
    "*.onnx",
    "*.ot",
    "*.tflite",
    "onnx/*",
    "eole-model/*",
    "eole_model/*",
    ".ipynb_checkpoints/*",
]


def download_models(sources: Sequence[ModelSource], to: str | None = None) -> list[str]:
    """Fetch model snapshots into the HF cache (or `to/<name>`) for later offline runs."""
    from huggingface_hub import snapshot_download

    paths = []
    for source in sources:
        if Path(source.model).is_dir():
            logger.info("%s is a local folder; nothing to download", source.model)
            paths.append(source.model)
            continue
        if looks_like_local_path(source.model):  # a folder that is not there: say how to make it
            raise load_error(source, FileNotFoundError(source.model))
        if hub_unreachable(source) is not None:
            raise load_error(source, ConnectionError("hub unreachable"))
        local_dir = str(Path(to) / source.model.replace("/", "--")) if to else None
        try:
            path = snapshot_download(
                source.model,
                revision=source.revision,
                cache_dir=source.cache_dir,
                local_dir=local_dir,
                ignore_patterns=SKIPPED_HUB_FILES,
            )
        except Exception as exc:  # network, auth or missing repo: one clear message
            raise load_error(source, exc) from exc
        paths.append(path)
    return paths
