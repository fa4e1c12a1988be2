"""Sentence boundaries in Indonesian news text.

Two steps. First the text is cut into units: blocks between blank lines, and inside a
block the lines that were broken on purpose (a headline, a caption, a list item) rather
than hard-wrapped. Then each unit is cut after ".", "?", "!" or an ellipsis when the rules
say the sentence really ends there. Offsets always index the string given.

The rules, in the order _is_boundary applies them:
- punctuation followed by a space: decimals, thousands, times, dates, e-mails and URLs
  ("2,75", "Rp15.650", "14.15", "(18/6)", "info@bi.go.id") are never candidates;
- a period inside brackets or inside a quotation that closes later in the paragraph;
- a lowercase next word: no boundary, unless a full word ends with a bare "." or "?";
- "?", "!", ellipses, and a period before closing quotes: a boundary;
- a list marker ("1.") at the start of a line, or run into the text: "1." after a colon,
  "2." after "1." in the same sentence, a number alone at the start of a sentence;
- single capital letters: initials ("H. Abdul Somad"), unless after a number ("1445 H."),
  a label noun ("vitamin C.", "Grup A.") or in a list of letters ("B, C dan D.");
- the abbreviation list (pipeline/data/abbreviations_id.txt): titles never end a
  sentence, "hlm."/"No."-like words not before a number, "dll."/"Tbk."/degrees only
  before a capital that does not continue the name ("Co. Ltd.", "Tbk. (BBNI)");
- dotted forms not in the list: initials ("B.J.") never, degrees ("S.Kom.") like "Tbk.".
"""

from __future__ import annotations

import re
from itertools import pairwise

from pipeline.splitter.abbreviations import Lexicon

# One or more blank lines (whitespace-only lines count as blank) separate paragraphs.
_BLANK = re.compile(r"\n[^\S\n]*\n\s*")
# Sentence-final punctuation with its closing quotes and brackets, before a space or the
# end; or a period glued to the next sentence ("tersebut.Sementara") in scraped text.
# (Both branches start with the punctuation, which lets the regex engine skip ahead fast.)
_CANDIDATE = re.compile(
    r"[.!?…]+(?:(?P<close>[\"'”’»)\]]*)(?=\s|$)|(?=[A-Z][a-z]+(?:[\s,;:.!?]|$)))"
)
_OPENERS = "\"'“‘«([{"
# What may stand before the first letter of a sentence: quotes, brackets, dashes, bullets.
_LEAD = re.compile(r"\s*([\"'“‘«(\[{*_•\-–—]*)(.)", re.DOTALL)
# A list item at the start of a line: a bullet, "1.", "1)", "a.", "(a)".
_BULLET = re.compile(r"(?:[-–—•*·▪●◦‣]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(\d{1,2}\))\s")
# A list marker that ends in a period and must not end a sentence: "1.", "b.", "IV.".
_MARKER = re.compile(r"\d{1,3}|[A-Za-z]|[IVXivx]{1,5}")
# Dotted short forms: "B.J", "S.Kom", "a.n", "Ph.D" (the final period is not part of it).
_DOTTED = re.compile(r"(?:[A-Za-z]{1,4}\.)+[A-Za-z]{1,4}")
_WS = " \n\t\r"
# A line longer than this was not hard-wrapped by anyone; its line break is meant.
_LONG_LINE = 160
# Double quotes, and how far a closing one may be for a quote to hold a sentence open.
_QUOTE = re.compile(r'["“”]')
_QUOTE_REACH = 600
# How far a closing bracket may be for a period before it to count as inside the brackets.
_BRACKET_REACH = 80
# Nouns that take a letter as a label ("vitamin C", "Grup A"): a capital after them is a
# label that can end a sentence, not a person's initial.
_LABEL_NOUN_WORDS = """
vitamin grup golongan kelas huruf tipe blok tingkat kategori seri zona babak poin opsi
pilihan kode varian sektor gelombang putaran tahap ruang gedung lantai menara pintu
gerbang terminal kolom baris tabel gambar lampiran jalur pasal ayat nomor model versi
tim regu paket skema lajur loket peron pos wilayah klaster kluster sel kamar
"""
# Nouns counted with a Roman numeral ("sesi I", "bab V", "Perang Dunia I"): a one-letter
# numeral after them is a label that can end a sentence, like the letters above.
_ORDINAL_NOUN_WORDS = """
sesi bab tahap babak jilid angkatan periode fase termin kuartal triwulan semester caturwulan
edisi bagian abad pelita repelita kodam dunia kabinet musim pekan sidang muktamar kongres
munas rakernas konferensi pertemuan jalur pemilu ronde laga pelatnas
"""
_LABEL_NOUNS = frozenset(_LABEL_NOUN_WORDS.split() + _ORDINAL_NOUN_WORDS.split())
# Function words (prepositions, conjunctions, determiners) a sentence never ends on: a line
# that ends with one goes on, even before a capitalised name ("di\nIstana Merdeka").
_FUNCTION_WORD_LIST = """
di ke dari dan yang pada untuk dengan oleh dalam atau serta bahwa karena tetapi namun
sebagai seperti antara bagi tentang terhadap sejak menuju kepada akan adalah ialah yaitu
yakni para sang si sebuah seorang kaum oleh maupun ataupun melalui tanpa menurut agar
supaya jika bila apabila ketika saat
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())
_LIST_JOINERS = frozenset({"dan", "atau", "serta", "hingga", "sampai", "-", "–"})


def units(text: str, lexicon: Lexicon) -> list[tuple[int, int]]:
    """Spans of paragraph blocks and deliberately broken lines, in order.

    Hard-wrapped lines stay together; a line that ends before the wrap width, a list item
    and a line no one would wrap (over 160 characters) end their unit.
    """
    found: list[tuple[int, int]] = []
    pos = 0
    for m in _BLANK.finditer(text):
        _block_units(text, pos, m.start(), lexicon, found)
        pos = m.end()
    _block_units(text, pos, len(text), lexicon, found)
    return found


def _block_units(
    text: str, start: int, end: int, lexicon: Lexicon, found: list[tuple[int, int]]
) -> None:
    if "\n" not in text[start:end]:
        if text[start:end].strip():
            found.append((start, end))
        return
    lines: list[tuple[int, int]] = []  # (start, end without trailing whitespace)
    pos = start
    for line in text[start:end].split("\n"):
        lines.append((pos, pos + len(line.rstrip())))
        pos += len(line) + 1
    widths = [e - s for s, e in lines if e - s <= _LONG_LINE]
    wrap_width = max(widths) if widths else 0
    unwrapped = len(widths) < len(lines)  # some line here was never hard-wrapped
    breaks = [_hard_break(text, a, b, wrap_width, unwrapped, lexicon) for a, b in pairwise(lines)]
    _list_breaks([text[s:e].lstrip() for s, e in lines], breaks)
    unit_start = start
    for (_, a_end), (b_start, _), hard in zip(lines, lines[1:], breaks, strict=False):
        if hard:
            found.append((unit_start, a_end))
            unit_start = b_start
    if text[unit_start:end].strip():
        found.append((unit_start, end))


def _hard_break(
    text: str,
    line_a: tuple[int, int],
    line_b: tuple[int, int],
    width: int,
    unwrapped: bool,
    lexicon: Lexicon,
) -> bool:
    """Whether the newline between line a and line b is meant, not a wrap."""
    a = text[line_a[0] : line_a[1]].lstrip()
    b = text[line_b[0] : line_b[1]].lstrip()
    if not a or not b:
        return False
    # A wrapped line is full: the next word would not have fitted on it.
    fits = line_a[1] - line_a[0] + 1 + len(b.split(None, 1)[0]) <= width
    last = a[-1]
    if _BULLET.match(b) and (last in '.:;!?"”)' or _BULLET.match(a) or fits):
        return True
    # A sentence that visibly goes on: a lowercase start, or a line ending in a comma,
    # a hyphen or a dateline dash ("JAKARTA, KOMPAS.com -").
    if b[0].islower() or last in ",;-–—(" or a.rsplit(None, 1)[-1] in _FUNCTION_WORDS:
        return False
    if last == ".":
        # "Jl.", "Prof." never end a line on purpose; "No." goes on with its number.
        kind = lexicon.kind(a.rsplit(None, 1)[-1][:-1].lstrip(_OPENERS))
        if kind == "title" or (kind == "number" and b[0].isdigit()):
            return False
    if len(a) > _LONG_LINE or fits:
        return True
    # Where some lines were never wrapped, one that ends a sentence ends its paragraph.
    return unwrapped and last in '.!?…"”'


def _list_breaks(lines: list[str], breaks: list[bool]) -> None:
    """Break after list items that lack final punctuation, which the width test misses
    when an item is the longest line of its block.

    breaks[k] is the break after lines[k]. Items are lines that start with a capital and
    end in a word (_item). A list is two items broken off already, or ":" and one item:
    an item inside one ends its line; a ":" line before an item that is followed by
    another item ends too."""
    for k in range(len(breaks)):
        if breaks[k] or not lines[k + 1][:1].isupper():
            continue
        if lines[k].endswith(":"):
            nxt = k + 2 < len(lines) and breaks[k + 1] and _item(lines[k + 2])
            breaks[k] = _item(lines[k + 1]) and nxt
        elif _item(lines[k]) and k >= 1 and breaks[k - 1]:
            before = lines[k - 1]
            opened = before.endswith(":") or (
                _item(before)
                and k >= 2
                and breaks[k - 2]
                and (_item(lines[k - 2]) or lines[k - 2].endswith(":"))
            )
            breaks[k] = opened


def _item(line: str) -> bool:
    """A line that may be a list item without final punctuation: "Subsidi listrik"."""
    line = _BULLET.sub("", line, count=1) if _BULLET.match(line) else line
    if not line or len(line) > _LONG_LINE or not (line[0].isupper() or line[0].isdigit()):
        return False
    return line[-1].isalnum() and line.rsplit(None, 1)[-1] not in _FUNCTION_WORDS


def boundaries(text: str, start: int, end: int, lexicon: Lexicon) -> list[int]:
    """Offsets inside [start, end) where a sentence ends (exclusive end of the sentence)."""
    first = start
    while first < end and text[first] in _WS:
        first += 1
    last = end
    while last > first and text[last - 1] in _WS:
        last -= 1
    found: list[int] = []
    sentence_start = first
    for m in _CANDIDATE.finditer(text, first, last):
        stop = m.end()
        if stop >= last:
            break  # the unit ends here anyway
        if _is_boundary(text, m, first, sentence_start, last, lexicon):
            found.append(stop)
            sentence_start = stop
    return found


def _is_boundary(  # noqa: C901 - one early return per boundary rule
    text: str, m: re.Match[str], first: int, sentence_start: int, end: int, lexicon: Lexicon
) -> bool:
    lead = _LEAD.match(text, m.end(), end)
    if lead is None:
        return False
    nxt = lead.group(2)  # first letter or digit of the next sentence, past quotes/brackets
    p0 = m.start()
    token_start = _token_start(text, first, p0)
    word = text[token_start:p0].lstrip(_OPENERS)
    close = m.group("close")
    if close is None:  # glued "tersebut.Sementara": only after a lowercase word
        glued = m.end() - p0 == 1 and len(word) >= 3 and word.isalpha() and word.islower()
        return glued and lexicon.kind(word) != "title"
    if _in_brackets(text, sentence_start, p0, end):
        return False  # "(SSK. II)", "(Bl.)": brackets close before the sentence does
    if _in_quote(text, sentence_start, m.end(), end):
        return False  # '"Kami siap. Semua sudah di lokasi," kata dia.' is one unit
    punct = text[p0 : m.end() - len(close)]
    if nxt.islower():
        # Indonesian sentences start with a capital, so a lowercase next word usually means
        # an abbreviation or a quote going on ("cukup?" tanyanya). A full word with a bare
        # "." or "?" before it is a sentence whose writer did not capitalise the next one.
        full = _full_word(word) and lexicon.kind(word) is None
        return not close and punct in (".", "?", "!") and full
    if punct != ".":
        return True  # "?", "!", an ellipsis before a capital, a digit or a quote
    if close or not word:
        return True  # "mendesak.” Rapat": an abbreviation does not end inside quotes
    if token_start == first and _MARKER.fullmatch(word):
        return False  # "1. Pertama" at the start of a line is a list marker
    if _inline_marker(text, sentence_start, token_start, word):
        return False  # "Pemenangnya: 1. Budi 2. Ani 3. Citra." is one sentence
    if len(word) == 1 and word.isupper():
        # "1445 H." and "vitamin C." can end a sentence; "H. Abdul", "B. Sutrisno" cannot.
        before_start, before = _token_before(text, first, token_start)
        if before[-1:] in (".", "!", "?"):
            return False  # the letter opens a sentence: "... pukul 14.15. H. Abdul Somad"
        if before[:1].isdigit() or before.strip(",").lower() in _LABEL_NOUNS:
            return True
        # The last of a list of letters: "terminal B, C dan D."
        if before.lower() in _LIST_JOINERS:
            before = _token_before(text, first, before_start)[1]
        return len(before.rstrip(",")) == 1 and before[0].isupper()
    kind = lexicon.kind(word)
    if kind is None and "/" in word:
        kind = lexicon.kind(word.rsplit("/", 1)[1])  # "RT 03/RW. 05"
    if kind == "title":
        return False
    if kind == "number" and nxt.isdigit():
        return False
    if kind == "final":
        return _name_ends(text, lead, lexicon)
    if "." in word and _DOTTED.fullmatch(word):
        parts = word.split(".")
        if all(len(p) == 1 for p in parts):
            return False  # initials "B.J." and short forms "a.n.", "s.d.", "e.g."
        if parts[0][:1].isupper():
            return _name_ends(text, lead, lexicon)  # a degree not in the list ("S.Kom.")
    return True


def _inline_marker(text: str, sentence_start: int, token_start: int, word: str) -> bool:
    """Whether the number before "." at token_start numbers an item of a list run into the
    text: "1." after a colon, "n." when "n-1." is a marker earlier in this sentence, or a
    number that stands alone at the start of a sentence ("... menang. 2. Ani kalah.")."""
    if len(word) > 2 or not word.isdigit():
        return False
    before = text[sentence_start:token_start].rstrip()
    if not before:
        return True
    number = int(word)
    if number == 1:
        return before.endswith(":")
    return re.search(rf"(?:^|[\s:]){number - 1}\.\s", before) is not None


def _name_ends(text: str, lead: re.Match[str], lexicon: Lexicon) -> bool:
    """After "Tbk.", "Ltd.", "S.H.": a boundary only before a capitalised word that does not
    continue the name ("Co. Ltd.", "Tbk. (BBNI)", "S.H. M.H.")."""
    if "(" in lead.group(1) or "[" in lead.group(1) or not lead.group(2).isupper():
        return False
    token_end = lead.end()
    while token_end < len(text) and not text[token_end].isspace():
        token_end += 1
    token = text[lead.start(2) : token_end].rstrip(",;:")
    if token.endswith("."):
        word = token[:-1]
        if lexicon.kind(word) == "final" or ("." in word and _DOTTED.fullmatch(word)):
            return False
    return True


def _in_brackets(text: str, sentence_start: int, p0: int, end: int) -> bool:
    """Whether p0 lies inside "(...)" opened in this sentence and closed soon after."""
    opened = text.rfind("(", sentence_start, p0)
    if opened < 0 or text.find(")", opened, p0) >= 0:
        return False
    return text.find(")", p0, min(end, p0 + _BRACKET_REACH)) >= 0


def _in_quote(text: str, sentence_start: int, pos: int, end: int) -> bool:
    """Whether a double quote opened in this sentence is still open at pos and closes later
    in the unit. Unbalanced quotes (never closed) do not hold a sentence open."""
    if not any(q in text[sentence_start:pos] for q in ('"', "“")):
        return False
    is_open = False
    for m in _QUOTE.finditer(text, sentence_start, pos):
        is_open = _opens(text, m.start(), is_open)
    if not is_open:
        return False
    # The next mark must close it; if another quote opens first, this one never closed.
    nxt = _QUOTE.search(text, pos, min(end, pos + _QUOTE_REACH))
    return nxt is not None and not _opens(text, nxt.start(), True)


def _opens(text: str, i: int, is_open: bool) -> bool:
    """The quote state after the mark at i: curly marks say it, a straight one by context."""
    mark = text[i]
    if mark == "“":
        return True
    if mark == "”":
        return False
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isspace() or before in "([{-–—":
        # '..., "katanya.' is a misplaced closing mark: a quotation starts with a capital.
        return not after.isspace() and not (is_open and after.islower())
    if after.isspace() or after in ".,;:!?)]}":
        return False
    return not is_open


def _full_word(word: str) -> bool:
    """A word, number or acronym that is not an abbreviation: "lain", "1879", "II"."""
    if "." in word or not word.isalnum():
        return False
    return len(word) >= 4 or word.isdigit() or (len(word) >= 2 and word.isupper())


def _token_before(text: str, first: int, pos: int) -> tuple[int, str]:
    """(start, text) of the token before the whitespace that precedes pos."""
    end = pos
    while end > first and text[end - 1] in _WS:
        end -= 1
    begin = _token_start(text, first, end)
    return begin, text[begin:end].lstrip(_OPENERS)


def _token_start(text: str, first: int, end: int) -> int:
    """Start of the whitespace-delimited token that ends at `end`, not before `first`."""
    return max(text.rfind(" ", first, end), text.rfind("\n", first, end), first - 1) + 1
