"""QA checks on human-made reference pairs: how often each check flags a correct
translation (false alarms), and how many constructed number errors the number check
catches (recall).

The pairs are the shared UD sentences' `text` / `text_en` (the English the UD maintainers
added; CC BY-SA 4.0, read in place from ../shared, never copied). A flag there is either a
real mismatch in the reference or a false alarm: `--examples N` prints them to look at.
Constructed errors: in each reference English whose numbers all agree with the Indonesian,
one number is changed in value (its last digit), scale (million <-> billion) or decimal
mark (a decimal point moved or swapped for a comma, a thousands comma made a dot).

    python benchmarks/qa_false_alarms.py
    python benchmarks/qa_false_alarms.py --examples 20
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shared_data

from pipeline.qa.check import CHECKS, check_pair
from pipeline.qa.numbers import SCALE_NAMES, Quantity
from pipeline.qa.spans import english_numbers, requirements

SWAP_SCALE = {"thousand": "million", "million": "billion", "billion": "million",
              "trillion": "billion"}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=0, help="print this many flags a check")
    args = parser.parse_args()
    pairs = shared_data.shared_pairs(limit=10**6)
    if not pairs:
        print(f"no shared data at {shared_data.SHARED_SENTENCES}: nothing to measure")
        return 1
    flagged: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    with_numbers = 0
    for text, english in pairs:
        with_numbers += any(r.kind == "number" for r in requirements(text))
        for check in {f.check for f in check_pair(text, english)}:
            flagged[check] += 1
        for flag in check_pair(text, english):
            examples.setdefault(flag.check, []).append(
                f"{text}\n    -> {english}\n    {flag.message}"
            )
    print(f"{len(pairs)} reference pairs, {with_numbers} with a number in the Indonesian")
    print(f"{'check':<10} {'flagged':>8} {'of all':>8} {'of with-number':>15}")
    for check in CHECKS:
        n = flagged[check]
        share = f"{n / with_numbers:.1%}" if check == "numbers" else ""
        print(f"{check:<10} {n:>8} {n / len(pairs):>8.1%} {share:>15}")
    for check in CHECKS:
        for example in examples.get(check, [])[: args.examples]:
            print(f"[{check}] {example}")
    print_recall(pairs)
    return 0


def print_recall(pairs: list[tuple[str, str]]) -> None:
    made: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    for text, english in pairs:
        if any(f.check == "numbers" for f in check_pair(text, english, guards=None)):
            continue  # the reference itself disagrees: nothing to break
        for kind, changed in mutations(english):
            made[kind] += 1
            caught[kind] += any(
                f.check == "numbers" for f in check_pair(text, changed, guards=None)
            )
    print("\nconstructed number errors in the reference English (one number changed)")
    print(f"{'change':<10} {'made':>6} {'caught':>7} {'recall':>7}")
    for kind in ("value", "scale", "decimal"):
        recall = caught[kind] / max(1, made[kind])
        print(f"{kind:<10} {made[kind]:>6} {caught[kind]:>7} {recall:>7.1%}")
    total, hit = sum(made.values()), sum(caught.values())
    print(f"{'all':<10} {total:>6} {hit:>7} {hit / max(1, total):>7.1%}")


def mutations(english: str) -> list[tuple[str, str]]:
    """One change of each kind to the first number it applies to."""
    out: dict[str, str] = {}
    for quantity in english_numbers(english):
        if quantity.kind == "word":
            continue
        digits = re.search(r"\d[\d.,:]*\d|\d", quantity.text)
        if digits is None:
            continue
        start = quantity.start + digits.start()
        end = quantity.start + digits.end()
        core = digits.group()
        if "value" not in out:
            last = str((int(core[-1]) + 1) % 10)
            out["value"] = english[: end - 1] + last + english[end:]
        if "scale" not in out and quantity.scale != 1.0:
            name = SCALE_NAMES[quantity.scale]
            at = english.index(name, end)
            out["scale"] = english[:at] + SWAP_SCALE[name] + english[at + len(name) :]
        if "decimal" not in out and (moved := _decimal_change(core, quantity)):
            out["decimal"] = english[:start] + moved + english[end:]
    return list(out.items())


def _decimal_change(core: str, quantity: Quantity) -> str | None:
    if quantity.kind == "time" or ":" in core:
        return None
    if re.fullmatch(r"\d{1,3}(,\d{3})+", core):
        return core.replace(",", ".")  # 9,000 -> 9.000 (nine)
    whole, dot, fraction = core.partition(".")
    if dot and "," not in core:
        if len(fraction) == 3:
            return f"{whole},{fraction}"  # 1.314 -> 1,314
        if len(whole) > 1:
            return f"{whole[:-1]}.{whole[-1]}{fraction}"  # 14.5 -> 1.45
        return f"{whole}{fraction[0]}.{fraction[1:]}" if len(fraction) > 1 else f"{whole}{fraction}"
    return None


if __name__ == "__main__":
    raise SystemExit(main())
