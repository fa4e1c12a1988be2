"""Points the library at the shared evaluation data beside the checkout.

The package never guesses where ../shared lives; benchmarks run from a checkout, so they
name it through ID2EN_SENTENCE_DATA (an explicit value in the environment wins).
"""

from __future__ import annotations

import os
from pathlib import Path

SENTENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "id-sentences"
os.environ.setdefault("ID2EN_SENTENCE_DATA", str(SENTENCE_DATA))
SHARED_SENTENCES = Path(os.environ["ID2EN_SENTENCE_DATA"]) / "sentences.jsonl"
