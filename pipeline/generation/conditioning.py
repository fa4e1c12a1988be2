"""How a model is told its languages and task: multilingual translators (NLLB-200,
M2M-100, mBART-50) get a source language token and a forced target language token,
MADLAD-400 (T5) a `<2en>` source prefix, T5 summarizers their `summarize: ` prefix.

Read from the model's tokenizer and config when the backend opens, so that
`translate.model=facebook/nllb-200-distilled-600M` needs no other setting; the settings
`translate.source_lang` / `translate.target_lang` / `source_prefix` override what is
inferred. Both backends share the result: torch forces the target token through
`forced_bos_token_id`, CTranslate2 turns that into a target prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.config import BackendSettings, LanguageSettings, ModelSource
from pipeline.errors import ModelLoadError

# (source, target) language codes per family, as that family's tokenizer spells them.
DEFAULT_LANGUAGES: dict[str, tuple[str | None, str]] = {
    "nllb": ("ind_Latn", "eng_Latn"),
    "m2m100": ("id", "en"),
    "mbart50": ("id_ID", "en_XX"),
    "madlad": (None, "en"),  # MADLAD detects the source language itself
}
# What a code of each family looks like, for error messages.
_CODE_EXAMPLES = {
    "nllb": "ind_Latn, eng_Latn",
    "m2m100": "id, en",
    "mbart50": "id_ID, en_XX",
    "madlad": "en (the prefix becomes <2en>)",
}
_T5_TYPES = ("t5", "mt5", "umt5")


@dataclass(frozen=True)
class Conditioning:
    """What a backend adds to every input and generation for this model."""

    family: str  # "nllb", "m2m100", "mbart50", "madlad", or the config's model_type
    source_lang: str | None = None
    target_lang: str | None = None
    source_prefix: str = ""  # text put before every source text
    forced_bos_token_id: int | None = None  # the target language token, generated first
    language_token_ids: frozenset[int] = field(default_factory=frozenset)  # never in outputs

    @property
    def key(self) -> str:
        """What this conditioning changes in the outputs ("" when nothing): part of the
        backend id, so cached translations of another language pair are never reused."""
        parts = []
        if self.source_lang or self.target_lang:
            parts.append(f"lang-{self.source_lang or 'auto'}-{self.target_lang or 'auto'}")
        if self.source_prefix:
            parts.append(f"prefix-{self.source_prefix.strip()}")
        return "/".join(parts)

    def generation_defaults(self) -> dict[str, Any]:
        """Settings laid over the model's own generation defaults."""
        if self.forced_bos_token_id is None:
            return {}
        return {"forced_bos_token_id": self.forced_bos_token_id}

    def apply(self, tokenizer: Any) -> None:
        """Set the tokenizer's source (and target) language: it adds the source token."""
        if self.family in ("nllb", "m2m100", "mbart50"):
            tokenizer.src_lang = self.source_lang
            tokenizer.tgt_lang = self.target_lang


NO_CONDITIONING = Conditioning(family="seq2seq")


def model_family(model_config: Any, tokenizer: Any) -> str:
    """The family a model's conditioning follows, from its tokenizer class and config."""
    name = type(tokenizer).__name__.removesuffix("Fast")
    by_tokenizer = {"NllbTokenizer": "nllb", "M2M100Tokenizer": "m2m100"}
    by_tokenizer["MBart50Tokenizer"] = "mbart50"
    if name in by_tokenizer:
        return by_tokenizer[name]
    model_type = str(getattr(model_config, "model_type", "") or "")
    if model_type in _T5_TYPES and _token_id(tokenizer, "<2en>") is not None:
        return "madlad"
    return model_type or "seq2seq"


def condition(
    settings: ModelSource, model_config: Any, tokenizer: Any, task: str | None
) -> Conditioning:
    """The conditioning of `settings.model` for `task`, checked against its tokenizer."""
    family = model_family(model_config, tokenizer)
    asked_source, asked_target = _asked_languages(settings)
    prefix = _task_prefix(model_config, task)
    if family not in DEFAULT_LANGUAGES or task != "translation":
        if asked_source or asked_target:
            raise ModelLoadError(
                f"translate.source_lang/target_lang are set, but {settings.model} "
                f"({family}) takes no language codes: it translates one language pair\n"
                "  fix: remove translate.source_lang and translate.target_lang"
            )
        return Conditioning(family, source_prefix=_prefix(settings, prefix))
    default_source, default_target = DEFAULT_LANGUAGES[family]
    source = asked_source or default_source
    target = asked_target or default_target
    if family == "madlad":
        token = f"<2{target}>"
        _require_token(tokenizer, token, "target_lang", target, family, settings.model)
        languages = _tokens_like(tokenizer, lambda p: p.startswith("<2") and p.endswith(">"))
        return Conditioning(
            family,
            target_lang=target,
            source_prefix=_prefix(settings, f"{token} "),
            language_token_ids=languages,
        )
    assert source is not None  # every family but MADLAD names its source language
    languages = _language_ids(tokenizer, family)
    for setting, code in (("source_lang", source), ("target_lang", target)):
        token = _language_token(family, code)
        if _token_id(tokenizer, token) not in languages:
            raise _unknown_language(setting, code, token, family, settings.model)
    target_id = _token_id(tokenizer, _language_token(family, target))
    return Conditioning(
        family,
        source_lang=source,
        target_lang=target,
        source_prefix=_prefix(settings, prefix),
        forced_bos_token_id=target_id,
        language_token_ids=languages,
    )


def _asked_languages(settings: ModelSource) -> tuple[str | None, str | None]:
    if isinstance(settings, LanguageSettings):
        return settings.source_lang, settings.target_lang
    return None, None


def _prefix(settings: ModelSource, inferred: str) -> str:
    """The configured source prefix, else the inferred one."""
    if isinstance(settings, BackendSettings) and settings.source_prefix is not None:
        return settings.source_prefix
    return inferred


def _task_prefix(model_config: Any, task: str | None) -> str:
    """A T5 checkpoint's prefix for `task` (task_specific_params), e.g. "summarize: "."""
    params = getattr(model_config, "task_specific_params", None) or {}
    prefix = (params.get(task or "") or {}).get("prefix")
    return prefix if isinstance(prefix, str) else ""


def _language_token(family: str, code: str) -> str:
    """M2M-100 spells language tokens __en__; NLLB and mBART-50 use the code itself."""
    return f"__{code}__" if family == "m2m100" else code


def _language_ids(tokenizer: Any, family: str) -> frozenset[int]:
    """The ids of every language token the tokenizer knows: none belongs in an output."""
    if family == "m2m100":
        return frozenset(int(i) for i in (getattr(tokenizer, "lang_code_to_id", {}) or {}).values())
    codes = [
        str(t)
        for t in getattr(tokenizer, "all_special_tokens", [])
        if "_" in str(t) and not str(t).startswith("<")
    ]
    ids = (_token_id(tokenizer, code) for code in codes)
    return frozenset(i for i in ids if i is not None)


def _tokens_like(tokenizer: Any, pick: Any) -> frozenset[int]:
    return frozenset(i for piece, i in tokenizer.get_vocab().items() if pick(piece))


def _token_id(tokenizer: Any, token: str) -> int | None:
    """The id of a whole-token `token`, or None when the vocabulary lacks it."""
    found = tokenizer.convert_tokens_to_ids(token)
    if found is None or found == tokenizer.unk_token_id:
        return None
    return int(found)


def _require_token(
    tokenizer: Any, token: str, setting: str, code: str, family: str, model: str
) -> int:
    found = _token_id(tokenizer, token)
    if found is None:
        raise _unknown_language(setting, code, token, family, model)
    return found


def _unknown_language(setting: str, code: str, token: str, family: str, model: str) -> Exception:
    return ModelLoadError(
        f"translate.{setting} {code!r} is not a language of {model} ({family}): its "
        f"vocabulary has no {token!r} language token\n"
        f"  fix: use this family's codes (e.g. {_CODE_EXAMPLES[family]})"
    )
