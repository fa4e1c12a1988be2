"""Validated pipeline configuration: YAML files, dotted overrides, clear errors."""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from pipeline.errors import ConfigError, excerpt
from pipeline.registry import canonical_name, check_stage_names

logger = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parent / "configs"  # ships in the wheel
OutputFormat = Literal["jsonl", "parquet"]
# YAML aliases (*name) repeat an anchored value (&name). A config holds a few hundred
# values; nested aliases in a few hundred bytes can stand for billions ("billion laughs"),
# which validation and its error message would expand. More than this is refused.
MAX_YAML_VALUES = 10_000
MAX_PROBLEMS = 20  # validation problems listed in one error; the rest are counted


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSource(_Section):
    """Where a model comes from: a hub id or a local directory."""

    model: str
    revision: str | None = Field(None, description="hub revision (branch, tag or commit) to pin")
    cache_dir: str | None = Field(None, description="Hugging Face cache folder (default: HF_HOME)")
    local_files_only: bool = Field(
        False, description="never touch the network (also HF_HUB_OFFLINE=1)"
    )

    @field_validator("model")
    @classmethod
    def _expand_home(cls, value: str) -> str:
        """`~/models/marian` is a folder in the home directory, as in a shell."""
        return os.path.expanduser(value) if value.startswith("~") else value


class GenerationOverrides(_Section):
    """Fields that override the model's own generation_config, one by one.

    None means "keep the model's value". `extra` takes any other generate() field.
    """

    num_beams: int | None = Field(None, ge=1)
    max_new_tokens: int | None = Field(None, ge=1)
    max_length: int | None = Field(None, ge=1)
    min_length: int | None = Field(None, ge=0)
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = Field(None, ge=0)
    repetition_penalty: float | None = Field(None, gt=0)
    early_stopping: bool | None = None
    do_sample: bool | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def overrides(self) -> dict[str, Any]:
        names = [name for name in GenerationOverrides.model_fields if name != "extra"]
        fields = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        return {**fields, **self.extra}


class SplitSettings(_Section):
    max_chars: int | None = Field(
        400, ge=20, description="sentences longer than this are cut at clause boundaries"
    )
    extra_abbreviations: list[str] = Field(default_factory=list)


class SearchLoop(_Section):
    """Which beam-search loop runs inside generate()."""

    search_loop: Literal["id2en", "transformers"] = Field(
        "id2en",
        description="id2en: a leaner beam-search loop (same search, scores only each beam's "
        "top candidates; settings it does not mirror fall back to transformers' own); "
        "transformers: generate()'s loop as it is",
    )


class BackendSettings(ModelSource, GenerationOverrides, SearchLoop):
    """What a model stage's backend needs: the model, batching and precision."""

    max_batch_tokens: int = Field(
        6000, ge=64, description="token budget per batch (padded source tokens x beams)"
    )
    max_batch_sentences: int = Field(64, ge=1, description="inputs per batch at most")
    adapt_batch_to_memory: bool = Field(
        True, description="CUDA: shrink max_batch_tokens to what free GPU memory holds"
    )
    quantize: Literal["none", "dynamic-int8"] = Field(
        "none",
        description="torch dynamic int8 quantization of Linear layers (CPU only; torch.ao, "
        "deprecated upstream in favour of torchao but working in torch 2.x)",
    )
    ct2_compute_type: str = Field(
        "auto", description="CTranslate2: int8 on CPU, int8_float16 on CUDA when 'auto'"
    )
    ct2_model_dir: str | None = Field(
        None, description="where converted CTranslate2 models are kept (default: user cache)"
    )
    source_prefix: str | None = Field(
        None,
        description="text put before every input (default: the model's own, e.g. MADLAD's "
        "'<2en> ' or a T5 summarizer's 'summarize: '; '' for none)",
    )


class LanguageSettings(_Section):
    """A multilingual translator's languages, in its own codes (None: inferred per family)."""

    source_lang: str | None = Field(
        None,
        description="source language code of a multilingual model (default per family: "
        "NLLB ind_Latn, M2M-100 id, mBART-50 id_ID)",
    )
    target_lang: str | None = Field(
        None,
        description="target language code, forced as the first output token (default: "
        "NLLB eng_Latn, M2M-100 en, mBART-50 en_XX, MADLAD en as a <2en> prefix)",
    )


class TranslateSettings(BackendSettings, LanguageSettings):
    model: str = "Helsinki-NLP/opus-mt-id-en"
    max_input_tokens: int | None = Field(
        None, ge=8, description="cut longer sentences at clauses (default: the model's window)"
    )
    sentence_language: bool = Field(
        True,
        description="copy sentences that are English (lang en) or have no words (lang zxx: "
        "numbers, URLs, emoji) unchanged instead of translating them",
    )
    glossary: str | None = Field(
        None,
        description="required terms, a TSV file: Indonesian term TAB English rendering (empty: "
        "keep as written); URLs, e-mails, @handles and #hashtags are always kept",
    )
    dedupe: bool = Field(True, description="translate identical sentences once per run")
    dedupe_memory: int = Field(
        20000,
        ge=0,
        description="recent translations kept in memory so repeats across batches are "
        "translated once (0: only within a batch)",
    )
    cache_path: str | None = Field(
        None, description="SQLite file of finished translations, reused across runs"
    )
    shortlist: str | None = Field(
        None,
        description="vocabulary shortlist file (CTranslate2 vmap format: source pieces TAB "
        "target pieces; empty source = always allowed): the output layer scores only each "
        "batch's candidates. Faster; measure its quality effect with `id2en eval`",
    )


class GuardSettingsConfig(_Section):
    enabled: bool = True
    retry: bool = Field(True, description="retry a flagged item once with safer decoding")
    min_score: float | None = Field(
        None,
        le=0,
        description="warn about a sentence or summary whose score (mean log-probability per "
        "output token) is below this, e.g. -1.5 (default: off)",
    )
    length_ratio_min: float = Field(0.4, gt=0)
    length_ratio_max: float = Field(2.5, gt=0)


class SummarizeSettings(BackendSettings):
    model: str = "sshleifer/distilbart-cnn-12-6"
    long_input: Literal["chunk", "select", "truncate", "error"] = Field(
        "chunk",
        description=(
            "text over the model's window: chunk (map-reduce: reads all of it), select (one "
            "pass over the most central sentences that fit), truncate (the first window), "
            "error; select and truncate warn"
        ),
    )
    max_input_tokens: int | None = Field(
        None, ge=16, description="window size (default: the model's max positions)"
    )
    max_batch_tokens: int = Field(
        8192, ge=64, description="token budget per batch (padded source tokens x beams)"
    )
    max_length_ratio: float | None = Field(
        None, gt=0, le=1, description="cap summary tokens at this fraction of the input tokens"
    )
    extractive_sentences: int = Field(3, ge=1, description="summarize.extractive: sentences kept")


class Stages(_Section):
    split: str | None = "split.rules"
    translate: str | None = "translate.seq2seq"
    summarize: str | None = "summarize.seq2seq"

    @field_validator("split", "translate", "summarize")
    @classmethod
    def _current_name(cls, value: str | None) -> str | None:
        return canonical_name(value)  # "translate.marian" is read as "translate.seq2seq"


class RunSettings(_Section):
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N | mps")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: cores)")
    batch_articles: int = Field(16, ge=1, description="articles pooled per pipeline batch")
    formats: list[OutputFormat] = Field(default_factory=lambda: list[OutputFormat](["jsonl"]))
    progress: Literal["auto", "always", "never"] = "auto"
    non_indonesian: Literal["translate", "skip"] = Field(
        "translate",
        description="an article detected as English: translate it anyway (with a warning) "
        "or record it with status 'skipped'",
    )
    follow_links: bool = Field(
        False,
        description="read symbolic links that lead outside the input folder (default: each "
        "one is reported as a failed entry and not read)",
    )
    max_input_bytes: int | None = Field(
        50_000_000,
        ge=1,
        description="a bigger input file fails with a clear error instead of exhausting memory",
    )
    # Tables given to `id2en run` (.parquet, .csv, .tsv, .json): one article per row.
    text_column: str = Field("text", min_length=1, description="tables: the article text")
    id_column: str | None = Field(
        None, description="tables: the ids (default: column 'id' if there is one, else row number)"
    )
    keep_columns: list[str] = Field(
        default_factory=list, description="tables: columns copied into each record's meta.columns"
    )
    delimiter: str | None = Field(
        None,
        description="CSV files: the field delimiter, e.g. ';' or 'tab' (default: sniffed among "
        ", ; tab | from the header line; .tsv files use tab)",
    )

    @field_validator("delimiter")
    @classmethod
    def _check_delimiter(cls, value: str | None) -> str | None:
        if value in ("tab", "\\t"):  # a tab is hard to type on a command line
            return "\t"
        if value is not None and (len(value) != 1 or value in '"\r\n'):
            raise ValueError(f"must be one character (e.g. ';' or 'tab'), not {value!r}")
        return value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        ok = value in {"auto", "cpu", "cuda", "mps"} or (
            value.startswith("cuda:") and value[5:].isdigit()
        )
        if not ok:
            raise ValueError("must be auto, cpu, cuda, cuda:N or mps")
        return value


class PipelineConfig(_Section):
    stages: Stages = Field(default_factory=Stages)
    run: RunSettings = Field(default_factory=RunSettings)
    split: SplitSettings = Field(default_factory=SplitSettings)
    translate: TranslateSettings = Field(default_factory=TranslateSettings)
    summarize: SummarizeSettings = Field(default_factory=SummarizeSettings)
    guards: GuardSettingsConfig = Field(default_factory=GuardSettingsConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def find_config(name: str | os.PathLike[str]) -> Path:
    """A config by name from the packaged configs ("gpu" -> configs/gpu.yaml), or a file.

    An argument that looks like a path (it has a "/" or ends in .yaml/.yml) is a file;
    anything else is a name first, so a file or folder called "tiny" in the current
    directory never hides the packaged config "tiny".
    """
    text = str(name)
    looks_like_path = "/" in text or os.sep in text or text.endswith((".yaml", ".yml"))
    packaged = CONFIG_DIR / f"{text}.yaml"
    if not looks_like_path and packaged.is_file():
        logger.info("config %r: the packaged config %s", text, packaged)
        return packaged
    path = Path(text).expanduser()
    if path.is_file():
        logger.info("config %r: the file %s", text, path.resolve())
        return path
    hint = " (a folder, not a YAML file)" if path.is_dir() else ""
    raise ConfigError(
        f"config {text!r} not found{hint}: give a path to a YAML file or one of "
        f"{', '.join(available_configs()) or '(none found)'}"
    )


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def parse_override(item: str) -> tuple[list[str], Any]:
    """A dotted override, its value parsed as YAML.

    >>> parse_override("translate.num_beams=2")
    (['translate', 'num_beams'], 2)
    >>> parse_override("stages.summarize=null")
    (['stages', 'summarize'], None)
    """
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"override {item!r}: expected SECTION.KEY=VALUE, e.g. translate.num_beams=2"
        )
    try:
        value = load_yaml(raw, f"override {key.strip()}") if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"override {excerpt(item)!r}: value is not valid YAML ({excerpt(str(exc))})"
        ) from None
    return key.strip().split("."), value


def load_yaml(text: str, where: str) -> Any:
    """YAML text as Python values (safe types only), refusing aliases that expand to more
    than MAX_YAML_VALUES values or that contain themselves."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ConfigError(f"{where}: YAML nested too deeply") from None
        if node is None:
            return None
        _count_values(node, {}, set(), where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _count_values(node: yaml.Node, counted: dict[int, int], open_: set[int], where: str) -> int:
    """Values under `node` with every alias expanded (each shared node counted once per use,
    computed once), raising ConfigError past MAX_YAML_VALUES."""
    key = id(node)
    if key in counted:
        return counted[key]
    if key in open_:
        raise ConfigError(f"{where}: a YAML alias (*name) contains itself; write the value out")
    total = 1
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
        open_.add(key)
        children = node.value if isinstance(node, yaml.SequenceNode) else _pairs(node)
        for child in children:
            total += _count_values(child, counted, open_, where)
            if total > MAX_YAML_VALUES:
                raise ConfigError(
                    f"{where}: YAML aliases expand to more than {MAX_YAML_VALUES:,} values "
                    "(&name / *name repeat a value, and nested they multiply); a config "
                    "needs far fewer: write the values out"
                )
        open_.discard(key)
    counted[key] = total
    return total


def _pairs(node: yaml.MappingNode) -> list[yaml.Node]:
    return [part for pair in node.value for part in pair]


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any]) -> dict[str, Any]:
    items = (
        [(key.split("."), value) for key, value in overrides.items()]
        if isinstance(overrides, dict)
        else [parse_override(item) for item in overrides]
    )
    for path, value in items:
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override {'.'.join(path)}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return data


def _describe(error: ErrorDetails, data: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    where = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{where}: unknown key{hint}; known keys here: {', '.join(known)}"
    return f"{where}: {error['msg']} (got {excerpt(repr(error.get('input')))})"


def _known_keys(section_path: list[str]) -> list[str]:
    model: type[BaseModel] = PipelineConfig
    for part in section_path:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def validate_config(data: dict[str, Any], source: str = "<config>") -> PipelineConfig:
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_describe(e, data) for e in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"... and {len(errors) - MAX_PROBLEMS} more problems")
        listed = "\n  ".join(problems)
        raise ConfigError(f"invalid config {excerpt(source)}:\n  {listed}") from None
    check_stage_names(config, source)
    return config


def load_config(
    source: str | os.PathLike[str] | dict[str, Any] | PipelineConfig | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
) -> PipelineConfig:
    """Build a validated config from a file/name, a dict, or defaults, plus overrides."""
    if isinstance(source, PipelineConfig):
        data, where = source.model_dump(), "<PipelineConfig>"
    elif isinstance(source, dict):
        data, where = dict(source), "<dict>"
    elif source is None:
        data, where = {}, "<defaults>"
    else:
        path = find_config(source)
        where = str(path)
        try:
            loaded = load_yaml(path.read_text(encoding="utf-8"), str(path))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {excerpt(str(exc), 1000)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping of sections")
        data = _resolve_relative_paths(loaded or {}, path.parent)
    if overrides:
        where += " with overrides " + (
            ", ".join(overrides) if isinstance(overrides, list) else str(overrides)
        )
        data = apply_overrides(data, overrides)
    return validate_config(data, where)


def _resolve_relative_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """`model: ./tiny/marian` in a config file means relative to that file."""
    for section in ("translate", "summarize"):
        block = data.get(section)
        if isinstance(block, dict):
            for key in (
                "model",
                "cache_dir",
                "cache_path",
                "ct2_model_dir",
                "shortlist",
                "glossary",
            ):
                value = block.get(key)
                if isinstance(value, str) and value.startswith(("./", "../")):
                    block[key] = str((base / value).resolve())
    return data
