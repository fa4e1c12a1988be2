"""Vocabulary shortlists (`translate.shortlist`): the file format, and building one.

Both backends read the same file: the torch backend restricts its output layer to each
batch's candidates (pipeline.generation.restricted_head), CTranslate2 uses it as vmap.txt.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.output.atomic import atomic_write_text


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
    atomic_write_text(Path(path), "\n".join(lines) + "\n")
    return Path(path)
