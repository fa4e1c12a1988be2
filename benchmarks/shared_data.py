"""Points the library at the shared evaluation data beside the checkout, and puts the
checkout's root on ``sys.path`` so benchmarks can import the model builders in
``tests/support`` (they are not part of the installed package).

The package never guesses where ../shared lives; benchmarks run from a checkout, so they
name it through ID2EN_SENTENCE_DATA (an explicit value in the environment wins).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SENTENCE_DATA = ROOT.parent / "shared" / "data" / "id-sentences"
os.environ.setdefault("ID2EN_SENTENCE_DATA", str(SENTENCE_DATA))
SHARED_SENTENCES = Path(os.environ["ID2EN_SENTENCE_DATA"]) / "sentences.jsonl"


def shared_pairs(limit: int = 600) -> list[tuple[str, str]]:
    """(Indonesian, English) pairs of the shared sentence file, or [] when it is absent."""
    if not SHARED_SENTENCES.is_file():
        return []
    pairs: list[tuple[str, str]] = []
    with SHARED_SENTENCES.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("text") and row.get("text_en"):
                pairs.append((row["text"], row["text_en"]))
            if len(pairs) >= limit:
                break
    return pairs
