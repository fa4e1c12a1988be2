"""translate.marian: sentences pooled across a batch of articles, translated with generate()."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import PipelineConfig
from pipeline.generation import Generator
from pipeline.guards import GuardFinding, check_translation
from pipeline.splitter import cut_at_clauses
from pipeline.stages.base import ModelStage
from pipeline.stages.checks import SAFER_DECODING, guard_settings, record_findings, retry_flagged
from pipeline.translation_cache import TranslationCache, TranslationLike, namespace_key
from pipeline.types import Article

logger = logging.getLogger(__name__)


@dataclass
class TranslateStats:
    """Where this stage's translations came from, over its lifetime (a run)."""

    requested: int = 0  # texts asked for, repeats included
    unique: int = 0  # distinct texts among them
    memo_hits: int = 0  # already translated earlier in this run
    cache_hits: int = 0  # found in the persistent cache
    generated: int = 0  # sent to the model


@dataclass
class _Unit:
    """One sentence of one article, as the pieces that fit the model's window."""

    article: Article
    index: int
    pieces: list[str]


class TorchTranslateStage(ModelStage):
    name = "translate.marian"
    task = "translation"

    def __init__(self, config: PipelineConfig):
        super().__init__(config, config.translate)
        self.stats = TranslateStats()
        # Recent translations (namespace, text) -> output: repeats across the batches of
        # one run (datelines, boilerplate) are translated once. Bounded, so memory is too.
        self._memo: OrderedDict[tuple[str, str], TranslationLike] = OrderedDict()
        self._ids: dict[str, list[int]] = {}  # token ids computed while fitting the window
        path = self.settings.cache_path
        self.cache = TranslationCache(path) if path else None
        self._shortlist: Shortlist | None = None

    @property
    def generator(self) -> Any:
        if self._generator is None:
            self._generator = self._make_generator()
        return self._generator

    def _make_generator(self) -> Any:
        """The generate step; other engines (CTranslate2) swap in their own here."""
        kwargs: dict[str, Any] = {
            "max_batch_tokens": self.settings.max_batch_tokens,
            "max_batch_items": self.settings.max_batch_sentences,
            "adapt_to_memory": self.settings.adapt_batch_to_memory,
            "search_loop": self.settings.search_loop,
        }
        if self.shortlist is not None:
            return ShortlistGenerator(self.loaded, self.shortlist, **kwargs)
        return Generator(self.loaded, **kwargs)

    @property
    def shortlist(self) -> Shortlist | None:
        if self._shortlist is None and self.settings.shortlist:
            self._shortlist = Shortlist.load(self.settings.shortlist)
        return self._shortlist

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"engine": self.engine_id}

    @property
    def engine_id(self) -> str:
        """What besides model and settings decides the numbers: engine, precision, shortlist."""
        dtype = str(self.loaded.dtype).replace("torch.", "")
        return f"torch/{dtype}/{self.settings.quantize}" + self._shortlist_suffix()

    def _shortlist_suffix(self) -> str:
        return f"/shortlist-{self.shortlist.digest}" if self.shortlist is not None else ""

    @property
    def generation_settings(self) -> dict[str, Any]:
        settings = super().generation_settings
        settings.setdefault("use_cache", True)  # the KV cache: never recompute past steps
        return settings

    def _namespace(self) -> str:
        """The cache key part besides the sentence; settings are read afresh each call."""
        loaded = self.loaded
        revision = loaded.describe()["revision"]
        key, description = namespace_key(
            loaded.name, revision, self.engine_id, self.generation_settings
        )
        if self.cache is not None:
            self.cache.register(key, description)
        return key

    def __call__(self, articles: list[Article]) -> list[Article]:
        started = time.perf_counter()
        units = [
            _Unit(article, i, [])
            for article in articles
            if article.error is None
            for i, sentence in enumerate(article.sentences)
            if sentence.en is None
        ]
        if not units:
            return articles
        try:
            self._fit_to_window(units)
            texts = [piece for unit in units for piece in unit.pieces]
            translated = self.translate_texts(texts)
        finally:
            self._ids.clear()
        self._assign(units, translated)
        if self.config.guards.enabled:
            self._guard(units)
        done = [a for a in articles if a.error is None]
        self.record(
            done, "translate", time.perf_counter() - started, [len(a.sentences) for a in done]
        )
        return articles

    def translate_texts(self, texts: list[str]) -> dict[str, TranslationLike]:
        """Translate each distinct text once: from this run's memory, then the persistent
        cache, then the model. Returns text -> translation (a Generated or cached entry)."""
        unique = list(dict.fromkeys(texts))
        self.stats.requested += len(texts)
        self.stats.unique += len(unique)
        space = self._namespace()
        dedupe = self.settings.dedupe
        found = self._recall(space, unique) if dedupe else self._from_cache(space, unique)
        todo = [t for t in (unique if dedupe else texts) if t not in found]
        fresh: dict[str, TranslationLike] = {}
        if todo:
            fresh = dict(zip(todo, self._generate(todo), strict=True))
            self.stats.generated += len(todo)
            if self.cache is not None:
                self.cache.put_many(space, fresh)
        self._remember(space, fresh)
        logger.debug(
            "translate: %d texts, %d distinct, %d recalled, %d generated",
            len(texts),
            len(unique),
            len(found),
            len(todo),
        )
        return found | fresh

    def recall(self, text: str) -> TranslationLike | None:
        """This run's translation of `text`, if it is still in memory."""
        return self._memo.get((self._namespace(), text))

    def _generate(self, texts: list[str]) -> list[TranslationLike]:
        generator = self.generator
        known = self._ids
        missing = [t for t in texts if t not in known]
        fresh_ids = generator.token_ids(missing) if missing else []
        ids_by_text = dict(zip(missing, fresh_ids, strict=True)) | known
        ids = [ids_by_text[t] for t in texts]
        return list(generator.generate(ids, self.generation_settings))

    def _recall(self, namespace: str, texts: list[str]) -> dict[str, TranslationLike]:
        memo = self._memo
        found: dict[str, TranslationLike] = {}
        for text in texts:
            hit = memo.get((namespace, text))
            if hit is not None:
                memo.move_to_end((namespace, text))
                found[text] = hit
        self.stats.memo_hits += len(found)
        rest = [t for t in texts if t not in found]
        return found | self._from_cache(namespace, rest)

    def _from_cache(self, namespace: str, texts: list[str]) -> dict[str, TranslationLike]:
        if self.cache is None or not texts:
            return {}
        hits = self.cache.get_many(namespace, texts)
        self.stats.cache_hits += len(hits)
        self._remember(namespace, hits)
        return dict(hits)

    def _remember(self, namespace: str, outputs: dict[str, TranslationLike]) -> None:
        limit = self.settings.dedupe_memory if self.settings.dedupe else 0
        if limit <= 0:
            return
        memo = self._memo
        for text, output in outputs.items():
            memo[(namespace, text)] = output
            memo.move_to_end((namespace, text))
        while len(memo) > limit:
            memo.popitem(last=False)

    def _guard(self, units: list[_Unit]) -> None:
        settings = guard_settings(self.config)

        def check(source: str, output: str) -> list[GuardFinding]:
            return check_translation(source, output, settings)

        flagged: dict[str, list[GuardFinding]] = {}
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            findings = check(sentence.text, sentence.en or "")
            if findings:
                flagged[sentence.text] = findings
        fixed: dict[str, tuple[str, list[GuardFinding]]] = {}
        if self.config.guards.retry:
            fixed = retry_flagged(flagged, self._retry_safer, check)
        for unit in units:
            sentence = unit.article.sentences[unit.index]
            findings = flagged.get(sentence.text)
            if not findings:
                continue
            where = f"sentence {unit.index}"
            if sentence.text in fixed:
                sentence.en, remaining = fixed[sentence.text]
                kinds = ", ".join(f.kind for f in findings)
                unit.article.warn(f"{where}: retried with safer decoding after: {kinds}")
                record_findings(unit.article, where, remaining)
            else:
                record_findings(unit.article, where, findings)

    def _retry_safer(self, sources: list[str]) -> dict[str, str]:
        """Whole sentences again, with loop-breaking decoding (pieces over the window skip)."""
        window = self.window
        ids = self.generator.token_ids(sources)
        fits = [(s, i) for s, i in zip(sources, ids, strict=True) if len(i) <= window]
        if not fits:
            return {}
        outputs = self.generator.generate(
            [i for _, i in fits], self.generation_settings | SAFER_DECODING
        )
        return {s: o.text for (s, _), o in zip(fits, outputs, strict=True)}

    def _fit_to_window(self, units: list[_Unit]) -> None:
        """Cut sentences over the model's window at clause boundaries, never silently."""
        window = self.window
        texts = [u.article.sentences[u.index].text for u in units]
        all_ids = self.generator.token_ids(texts)
        self._ids.update(zip(texts, all_ids, strict=True))  # reused when translating
        lengths = [len(ids) for ids in all_ids]
        for unit, text, length in zip(units, texts, lengths, strict=True):
            if length <= window:
                unit.pieces = [text]
                continue
            unit.pieces = self._cut(text, length, window)
            sentence = unit.article.sentences[unit.index]
            note = (
                f"translated in {len(unit.pieces)} pieces cut at clause boundaries: "
                f"{length} tokens > {window}-token model window"
            )
            sentence.cut = f"{sentence.cut}; {note}" if sentence.cut else note
            unit.article.warn(f"sentence {unit.index}: {note}")

    def _cut(self, text: str, length: int, window: int) -> list[str]:
        chars_per_token = len(text) / max(1, length)
        for shrink in (0.9, 0.7, 0.5, 0.3, 0.15):
            max_chars = max(8, int(window * chars_per_token * shrink))
            pieces = [text[a:b].strip() for a, b in cut_at_clauses(text, max_chars)]
            pieces = [p for p in pieces if p]
            if all(len(ids) <= window for ids in self.generator.token_ids(pieces)):
                return pieces
        # Text with no spaces at all (a URL, a base64 blob): cut it by characters.
        step = max(1, int(window * chars_per_token * 0.15))
        return [text[i : i + step] for i in range(0, len(text), step)]

    def _assign(self, units: list[_Unit], translated: dict[str, Any]) -> None:
        for unit in units:
            outputs = [translated[p] for p in unit.pieces]
            sentence = unit.article.sentences[unit.index]
            sentence.en = " ".join(o.text for o in outputs if o.text)
            for output in outputs:
                if output.hit_length_limit:
                    unit.article.warn(
                        f"sentence {unit.index}: translation stopped at the maximum length "
                        f"({output.output_tokens} tokens) and may be cut short"
                    )


# ------------------------------------------------------------------ vocabulary shortlist


@dataclass
class Shortlist:
    """A lexical shortlist, as Bergamot uses: per batch, the output layer scores only the
    target tokens that the batch's source tokens make plausible, plus a fixed common set.

    The file format is CTranslate2's vocabulary map (so both engines read one file): one
    rule per line, ``source n-gram<TAB>target tokens``, space-separated SentencePiece
    pieces; a line with an empty source lists tokens that are always candidates.
    """

    rules: list[dict[tuple[str, ...], list[str]]]  # by n-gram size - 1
    fixed: list[str]
    digest: str = ""
    path: Path | None = None
    sizes: list[int] = field(default_factory=list)  # candidates per batch, for reports

    @classmethod
    def load(cls, path: str | Path) -> Shortlist:
        raw = Path(path).read_bytes()
        rules: list[dict[tuple[str, ...], list[str]]] = []
        fixed: list[str] = []
        for line in raw.decode("utf-8").splitlines():
            source, _, targets = line.partition("\t")
            tokens = targets.split()
            if not source.strip():
                fixed.extend(tokens)
                continue
            key = tuple(source.split(" "))
            while len(rules) < len(key):
                rules.append({})
            rules[len(key) - 1][key] = tokens
        digest = hashlib.sha256(raw).hexdigest()[:12]
        return cls(rules, fixed, digest, Path(path))

    def candidates(self, sources: Iterable[Sequence[str]]) -> set[str]:
        """Target pieces allowed for a batch of tokenized sources (every n-gram looked up)."""
        allowed = set(self.fixed)
        for tokens in sources:
            for size, table in enumerate(self.rules, start=1):
                for start in range(len(tokens) - size + 1):
                    allowed.update(table.get(tuple(tokens[start : start + size]), ()))
        return allowed


def build_shortlist(
    pairs: Iterable[tuple[Sequence[str], Sequence[str]]],
    *,
    frequent: int = 100,
    per_source: int = 50,
) -> tuple[list[str], dict[str, list[str]]]:
    """Fixed tokens and per-source-token candidates from tokenized (source, target) pairs.

    Bergamot aligns words; without an aligner, the Dice coefficient of co-occurrence
    within a sentence pair ranks the candidates (good enough for a shortlist, whose misses
    only cost quality where the model would have wanted a rare unlisted token). Pairs can be
    parallel data or the model's own full-vocabulary outputs on a sample of the corpus.
    """
    source_count: Counter[str] = Counter()
    target_count: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for source, target in pairs:
        src, tgt = set(source), set(target)
        source_count.update(src)
        target_count.update(tgt)
        together.update((s, t) for s in src for t in tgt)
    fixed = [t for t, _ in target_count.most_common(frequent)]
    ranked: dict[str, list[tuple[float, str]]] = {}
    for (s, t), both in together.items():
        dice = 2 * both / (source_count[s] + target_count[t])
        ranked.setdefault(s, []).append((dice, t))
    mapping = {
        s: [t for _, t in sorted(options, key=lambda o: (-o[0], o[1]))[:per_source]]
        for s, options in ranked.items()
    }
    return fixed, mapping


def write_shortlist(path: str | Path, fixed: Sequence[str], mapping: dict[str, list[str]]) -> Path:
    lines = ["\t" + " ".join(fixed)]
    lines += [f"{source}\t{' '.join(targets)}" for source, targets in sorted(mapping.items())]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


class _RestrictedHead:
    """Stands in for a model's output layer: scores only `ids`, -inf elsewhere, so the
    search and its logits processors still see full-vocabulary ids."""

    def __init__(self, weight: Any, bias: Any, ids: Any):
        self.ids = ids
        self.vocab = weight.shape[0]
        self.weight = selected_rows(weight, ids)
        self.bias = selected_rows(bias, ids) if bias is not None else None

    def __call__(self, hidden: Any) -> Any:
        import torch

        scores = torch.matmul(hidden, self.weight.to(hidden.dtype).t())
        if self.bias is not None:
            scores = scores + self.bias.to(hidden.dtype)
        out = hidden.new_full((*hidden.shape[:-1], self.vocab), float("-inf"))
        out[..., self.ids] = scores
        return out


def head_parameters(model: Any) -> tuple[Any, Any]:
    """The output layer's weight and bias. torch's dynamic int8 Linear unpacks them on each
    call (0.3 s for opus-mt's 54,796 rows), so a generator reads them once."""

    def read(name: str) -> Any:
        value = getattr(model.get_output_embeddings(), name, None)
        return value() if callable(value) else value

    return read("weight"), read("bias")


def selected_rows(value: Any, ids: Any) -> Any:
    """Rows `ids` of a weight, in float: a quantized weight dequantizes only those rows
    (the whole 54,796-row output layer took 0.3 s per batch)."""
    import torch

    if not value.is_quantized:
        return value.index_select(0, ids)
    scheme = value.qscheme()
    rows = value.int_repr().index_select(0, ids).float()
    if scheme in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        return (rows - value.q_zero_point()) * value.q_scale()
    if scheme in (torch.per_channel_affine, torch.per_channel_symmetric) and (
        value.q_per_channel_axis() == 0
    ):
        # In double, as dequantize() computes per-channel values (bit for bit the same).
        scales = value.q_per_channel_scales().index_select(0, ids)[:, None].double()
        points = value.q_per_channel_zero_points().index_select(0, ids)[:, None].double()
        return ((rows.double() - points) * scales).float()
    return value.dequantize().index_select(0, ids)


@contextlib.contextmanager
def restricted_output(model: Any, ids: Any, parameters: tuple[Any, Any]) -> Iterator[None]:
    """Swap the model's lm_head for a restricted one while one batch generates;
    `parameters` are the head's (weight, bias), read once (see head_parameters)."""
    head = model.get_output_embeddings()
    original_forward = head.forward
    restricted = _RestrictedHead(*parameters, ids)
    head.forward = restricted
    try:
        yield
    finally:
        head.forward = original_forward


class ShortlistGenerator(Generator):
    """Generator whose output layer, per batch, covers only the shortlist's candidates."""

    def __init__(self, loaded: Any, shortlist: Shortlist, **kwargs: Any):
        super().__init__(loaded, **kwargs)
        self.shortlist = shortlist
        tok = loaded.tokenizer
        # Tokens the search may need whatever the source: end, unknown.
        self._always = {t for t in (tok.eos_token, tok.unk_token) if t}
        self._head_parameters: tuple[Any, Any] | None = None

    def _generate_once(self, batch: list[Sequence[int]], gen: dict[str, Any]) -> list[Any]:
        import torch

        tok = self.loaded.tokenizer
        sources = [tok.convert_ids_to_tokens(list(ids)) for ids in batch]
        pieces = self.shortlist.candidates(sources) | self._always
        ids = sorted({i for i in tok.convert_tokens_to_ids(sorted(pieces)) if i is not None})
        self.shortlist.sizes.append(len(ids))
        index = torch.tensor(ids, dtype=torch.long, device=self.loaded.device)
        if self._head_parameters is None:
            self._head_parameters = head_parameters(self.loaded.model)
        with restricted_output(self.loaded.model, index, self._head_parameters):
            return super()._generate_once(batch, gen)
