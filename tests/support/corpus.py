"""The project's own small Indonesian/English corpus, from which the test tokenizers were made.

Generated from templates and a few hand-written sentences: no data file, no environment
variable, so every machine gets the same pairs. ``make_tokenizers.py`` trains the committed
tokenizer files on it; the builders never train anything.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def iter_texts(pairs: list[tuple[str, str]], *, indonesian: bool, english: bool) -> Iterator[str]:
    """Flatten pairs into the requested side(s) for tokenizer training."""
    for src, tgt in pairs:
        if indonesian:
            yield src
        if english:
            yield tgt
