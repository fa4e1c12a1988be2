"""Sentence-language detector benchmark: is this sentence English, inside Indonesian news?

The translate stage copies sentences that `sentence_language` calls English ("en") to the
English side unchanged, so an Indonesian sentence called English goes untranslated: the
target is zero of those on the shared UD Indonesian sentences. Recall is measured on two
English sets: the UD maintainers' English of the same sentences (machine translation, CC
BY-SA 4.0, read in place from ../shared) and benchmarks/data/english_sentences.jsonl
(English prose from permissively licensed package descriptions; see its README).

    python benchmarks/language_eval.py
    python benchmarks/language_eval.py --errors 10   # also show misses and false alarms
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shared_data

from pipeline.inputs.language import sentence_language
from pipeline.splitter.evaluate import load_jsonl

ENGLISH_FILE = Path(__file__).resolve().parent / "data" / "english_sentences.jsonl"


def verdicts(texts: list[str]) -> Counter[str]:
    return Counter(sentence_language(t) for t in texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=0, help="show this many errors per set")
    args = parser.parse_args()
    rows = load_jsonl(shared_data.SHARED_SENTENCES)
    indonesian = [r["text"] for r in rows]
    sets = {
        "UD Indonesian (negatives)": indonesian,
        "UD English, MT (positives)": [r["text_en"] for r in rows if r.get("text_en")],
        "package prose (positives)": [r["text"] for r in load_jsonl(ENGLISH_FILE)],
    }
    started = time.perf_counter()
    counts = {name: verdicts(texts) for name, texts in sets.items()}
    seconds = time.perf_counter() - started
    print(f"{'set':28} {'n':>5} {'en':>5} {'id':>5} {'zxx':>4}")
    for name, texts in sets.items():
        c = counts[name]
        print(f"{name:28} {len(texts):5} {c['en']:5} {c['id']:5} {c['zxx']:4}")
    false_en = counts["UD Indonesian (negatives)"]["en"]
    for name in ("UD English, MT (positives)", "package prose (positives)"):
        found = counts[name]["en"]
        precision = found / (found + false_en) if found + false_en else 0.0
        recall = found / len(sets[name])
        print(f"'en' vs UD Indonesian, {name}: precision {precision:.4f} recall {recall:.4f}")
    total = sum(len(t) for t in sets.values())
    print(f"speed: {total / seconds:,.0f} sentences/s")
    if args.errors:
        _show_errors(sets, args.errors)
    ok = false_en == 0
    print(f"target {'PASS' if ok else 'FAIL'}: no UD Indonesian sentence called English")
    return 0 if ok else 1


def _show_errors(sets: dict[str, list[str]], limit: int) -> None:
    for name, texts in sets.items():
        wanted = "id" if name.startswith("UD Indonesian") else "en"
        wrong = [t for t in texts if sentence_language(t) != wanted][:limit]
        print(f"\n{name}: first {len(wrong)} not '{wanted}'")
        for text in wrong:
            print(f"  {sentence_language(text)}: {text[:110]}")


if __name__ == "__main__":
    sys.exit(main())
