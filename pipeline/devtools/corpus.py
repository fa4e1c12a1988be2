"""Small Indonesian/English corpus for training throwaway tokenizers in tests and benchmarks.

The built-in pairs are generated from templates so the module has no data dependency; the
shared UD-derived sentence file is mixed in when present to get more realistic word pieces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from pipeline.splitter.evaluate import data_dir

logger = logging.getLogger(__name__)


# (Indonesian, English) building blocks; index-aligned so every combination is a valid pair.
_SUBJECTS = [
    ("Saya", "I"),
    ("Kami", "We"),
    ("Mereka", "They"),
    ("Guru itu", "The teacher"),
    ("Presiden", "The president"),
    ("Petani di desa", "The farmers in the village"),
    ("Pemerintah daerah", "The regional government"),
    ("Wartawan muda", "The young journalist"),
]
_VERBS = [
    ("membaca", "read"),
    ("membeli", "bought"),
    ("menjual", "sold"),
    ("membahas", "discussed"),
    ("melaporkan", "reported"),
    ("membangun", "built"),
    ("menolak", "rejected"),
]
_OBJECTS = [
    ("buku sejarah", "a history book"),
    ("beras dan sayur", "rice and vegetables"),
    ("rencana anggaran baru", "the new budget plan"),
    ("jembatan kecil", "a small bridge"),
    ("berita tentang banjir", "news about the flood"),
    ("mobil listrik", "an electric car"),
]
_PLACES = [
    ("di Jakarta", "in Jakarta"),
    ("di pasar", "at the market"),
    ("di kantor", "at the office"),
    ("di Surabaya", "in Surabaya"),
    ("di sekolah", "at school"),
]
_TIMES = [
    ("kemarin", "yesterday"),
    ("pada hari Senin", "on Monday"),
    ("tahun lalu", "last year"),
    ("pagi ini", "this morning"),
]

# Hand-written sentences with numbers, quotes and abbreviations that templates do not cover.
_FIXED = [
    ("Saya makan nasi.", "I eat rice."),
    ("Harga cabai naik 20 persen pada Maret 2024.", "Chili prices rose 20 percent in March 2024."),
    ('"Kami akan bekerja keras," kata Dr. Siti.', '"We will work hard," said Dr. Siti.'),
    ("Gempa berkekuatan 5,6 SR mengguncang Cianjur.", "A 5.6 magnitude quake shook Cianjur."),
    ("Apakah kamu sudah makan?", "Have you eaten yet?"),
    ("Jalan tol itu ditutup selama dua hari.", "The toll road was closed for two days."),
    ("PT Kereta Api Indonesia menambah jadwal.", "PT Kereta Api Indonesia added schedules."),
    ("Banjir merendam 1.200 rumah warga.", "The flood submerged 1,200 residents' houses."),
]


def builtin_pairs(limit: int = 400) -> list[tuple[str, str]]:
    """Deterministic (Indonesian, English) pairs: fixed sentences, then template combinations."""
    pairs = list(_FIXED)
    slots = (_SUBJECTS, _VERBS, _OBJECTS, _PLACES, _TIMES)
    # Slot sizes differ, so i % len(slot) yields lcm(8, 7, 6, 5, 4) = 840 distinct combinations
    # with every slot varying from one sentence to the next.
    for i in range(limit - len(pairs)):
        parts = [slot[i % len(slot)] for slot in slots]
        pairs.append((" ".join(p[0] for p in parts) + ".", " ".join(p[1] for p in parts) + "."))
    return pairs


def shared_pairs(path: Path | None = None, limit: int = 600) -> list[tuple[str, str]]:
    """Pairs from the shared sentence file, or [] when it is absent or unreadable."""
    if path is None:
        folder = data_dir()  # $ID2EN_SENTENCE_DATA, looked up late so tests can change it
        path = folder / "sentences.jsonl" if folder is not None else None
    if path is None or not path.is_file():
        return []
    pairs: list[tuple[str, str]] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("text") and row.get("text_en"):
                    pairs.append((row["text"], row["text_en"]))
                if len(pairs) >= limit:
                    break
    except (OSError, ValueError) as exc:  # a broken shared file must not break test setup
        logger.warning("ignoring shared corpus %s: %s", path, exc)
        return []
    return pairs


def training_pairs(use_shared: bool = True) -> list[tuple[str, str]]:
    """Built-in pairs plus, when available and requested, the shared sentence pairs."""
    pairs = builtin_pairs()
    if use_shared:
        pairs += shared_pairs()
    return pairs


def iter_texts(pairs: list[tuple[str, str]], *, indonesian: bool, english: bool) -> Iterator[str]:
    """Flatten pairs into the requested side(s) for tokenizer training."""
    for src, tgt in pairs:
        if indonesian:
            yield src
        if english:
            yield tgt
