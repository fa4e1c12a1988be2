"""Cheap checks for degenerate seq2seq output: loops, untranslated copies, empties, bad lengths.

The pipeline runs these on every translated sentence and every summary and turns each
finding into a warning on the article, so they must be fast (tens of microseconds per
sentence), deterministic, and quiet on normal English: a false alarm on every article is
worse than a missed one, because people stop reading the warnings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["GuardFinding", "GuardSettings", "check_summary", "check_translation"]

# Letters and digits only: punctuation and emoji never form words, so "......" or "😀😀😀"
# alone count as "no words", and "the government, the government" loops like without commas.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class GuardSettings:
    # A phrase may occur this many times in a row; one more is a loop. 3 lets real news
    # text through ("Hidup Jokowi! Hidup Jokowi! Hidup Jokowi!", "very, very, very"), while
    # seq2seq loops run until max_length, i.e. far past 4 repeats.
    max_ngram_repeats: int = 3
    # Longest phrase (in words) checked for back-to-back repeats. Loops in MT output are often
    # whole clauses ("he said that the president will ..."), not just 1-4 words. Costs nothing
    # on normal sentences (the check only runs once some word occurs > max_ngram_repeats times).
    max_loop_ngram: int = 16
    # Share of the output's ordinary (lowercase, non-number) words found in the source that
    # means "not translated". Indonesian and English share few such words (loanwords like
    # "data", "video", "bank"; genuine translations score well under 0.3), a half-translated
    # output lands near 0.5, an untranslated one near 1.0; 0.8 tolerates a word or two translated.
    copy_similarity: float = 0.8
    # Fewer ordinary words than this and there is nothing to judge: "2024.", "Joko Widodo.",
    # "Ya, saya." are legitimately copied or too short to tell.
    copy_min_words: int = 3
    # English chars / Indonesian chars. Indonesian->English runs ~0.8-1.2 by characters
    # (affixed Indonesian words are long, "anak-anak" -> "children", but English adds
    # articles), so (0.4, 2.5) only fires when over half the content was dropped or the
    # model kept generating (hallucinated tail, loop), not on ordinary phrasing differences.
    length_ratio_band: tuple[float, float] = (0.4, 2.5)
    # Below ~3 words ratios swing wildly ("Tidak." -> "No." is 0.5, "Ya." -> "Yes." 1.33), so
    # short sources are only checked for bloat, against this floor as the denominator.
    min_chars_for_ratio: int = 20
    # A summary at 90% or more of its text's length has not summarised anything.
    summary_max_ratio: float = 0.9
    # Texts shorter than this (~2 sentences) may fairly be "summarised" by themselves; only a
    # summary *longer* than such a text is flagged.
    min_chars_for_summary_ratio: int = 200


@dataclass(frozen=True)
class GuardFinding:
    kind: str  # "repetition" | "copy" | "empty" | "length_ratio" | "summary_longer"
    message: str  # human readable, with the numbers, e.g. "repetition loop: 'of the' repeated 9x"


_DEFAULT = GuardSettings()


def check_translation(
    source: str, output: str, settings: GuardSettings = _DEFAULT
) -> list[GuardFinding]:
    """Findings for one translated sentence (Indonesian `source`, English `output`)."""
    src_words = _WORD.findall(source)
    out_words = _WORD.findall(output)
    if not out_words:
        # Nothing to translate (emoji, "—") may legitimately give nothing back.
        if src_words:
            return [GuardFinding("empty", f"empty output for a {_nchars(source)}-char source")]
        return []

    findings: list[GuardFinding] = []
    rep = _repetition(out_words, settings)
    if rep is not None:
        findings.append(rep)
    copy = _copy(src_words, out_words, settings)
    if copy is not None:
        findings.append(copy)
    ratio = _length_ratio(source, output, settings)
    if ratio is not None:
        findings.append(ratio)
    return findings


def check_summary(
    source_en: str, summary: str, settings: GuardSettings = _DEFAULT
) -> list[GuardFinding]:
    """Findings for one summary of `source_en` (the English article).

    No copy check: an extractive or lead summary is verbatim source text by design, and a
    summary that copies the whole text is caught as "summary_longer".
    """
    has_source = _WORD.search(source_en) is not None
    words = _WORD.findall(summary)
    if not words:
        if has_source:
            return [GuardFinding("empty", f"empty summary for a {_nchars(source_en)}-char text")]
        return []

    findings: list[GuardFinding] = []
    rep = _repetition(words, settings)
    if rep is not None:
        findings.append(rep)
    n_src, n_sum = _nchars(source_en), _nchars(summary)
    ratio = n_sum / max(n_src, 1)
    if n_sum > n_src or (
        n_src >= settings.min_chars_for_summary_ratio and ratio >= settings.summary_max_ratio
    ):
        what = "longer than" if n_sum > n_src else "about as long as"
        findings.append(
            GuardFinding(
                "summary_longer",
                f"summary {what} its text: {n_sum} vs {n_src} chars "
                f"(ratio {ratio:.2f}, limit {settings.summary_max_ratio:.2f})",
            )
        )
    return findings


def _nchars(text: str) -> int:
    # Whitespace-insensitive length, so wrapped lines or double spaces don't move the ratio.
    return len(" ".join(text.split()))


def _repetition(words: list[str], settings: GuardSettings) -> GuardFinding | None:
    limit = settings.max_ngram_repeats
    toks = [w.lower() for w in words]
    top = max(Counter(toks).values())
    # Every word of a phrase repeated k times occurs >= k times; most sentences stop here.
    if top <= limit:
        return None

    # Back-to-back repeats of a phrase of p words: t[i] == t[i-p] over a run of r positions
    # means the phrase occurs r // p + 1 times in a row. Shortest looping phrase wins.
    n = len(toks)
    for p in range(1, min(settings.max_loop_ngram, n // (limit + 1)) + 1):
        best, best_start, run = 0, 0, 0
        for i in range(p, n):
            if toks[i] == toks[i - p]:
                run += 1
                reps = run // p + 1
                if reps > best:
                    best, best_start = reps, i - run + 1 - p
            else:
                run = 0
        if best > limit:
            phrase = " ".join(toks[best_start : best_start + p])
            return GuardFinding(
                "repetition",
                f"repetition loop: '{phrase}' repeated {best}x in a row (limit {limit})",
            )

    # Scattered repeats ("the government of the government and the government of ...").
    # Needs both many occurrences and a large share of the text, so that "of the" five times
    # in a long summary stays quiet. Single words are left out: "the" is allowed to be common.
    often = 2 * limit
    if top <= often:
        return None
    for p in range(2, 5):
        grams = Counter(zip(*(toks[k:] for k in range(p)), strict=False))
        gram, count = grams.most_common(1)[0]
        if count > often and p * count >= 0.4 * n:
            return GuardFinding(
                "repetition",
                f"repetition: '{' '.join(gram)}' occurs {count}x in {n} words (limit {often})",
            )
    return None


def _copy(
    src_words: list[str], out_words: list[str], settings: GuardSettings
) -> GuardFinding | None:
    # Judge only ordinary words: numbers and capitalised words (names, acronyms, the first
    # word) are copied by any correct translation.
    plain = [w for w in out_words if w.isalpha() and not w[0].isupper()]
    if len(plain) < settings.copy_min_words:
        return None
    src = {w.lower() for w in src_words}
    shared = sum(1 for w in plain if w.lower() in src)
    share = shared / len(plain)
    if share < settings.copy_similarity:
        return None
    return GuardFinding(
        "copy",
        f"output copies the source untranslated: {shared}/{len(plain)} words "
        f"({share:.0%}) are in the source (limit {settings.copy_similarity:.0%})",
    )


def _length_ratio(source: str, output: str, settings: GuardSettings) -> GuardFinding | None:
    lo, hi = settings.length_ratio_band
    n_src, n_out = _nchars(source), _nchars(output)
    if n_src >= settings.min_chars_for_ratio:
        ratio = n_out / n_src
        if lo <= ratio <= hi:
            return None
    else:
        # Short source: only bloat is meaningful ("Ya." -> three lines of text).
        ratio = n_out / max(n_src, 1)
        if n_out <= hi * settings.min_chars_for_ratio:
            return None
    return GuardFinding(
        "length_ratio",
        f"length ratio {ratio:.2f} outside {lo:g}-{hi:g}: "
        f"{n_out} English chars for {n_src} Indonesian chars",
    )
