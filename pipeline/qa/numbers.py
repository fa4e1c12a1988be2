"""Numbers read by value, in Indonesian and in English, so a translation can be checked.

Indonesian writes `Rp1,5 triliun`, `10.000 orang`, `3,2 persen`, `pukul 10.30 WIB`,
`12 Januari 2024`: a decimal comma, a thousands dot, words for scales. English writes
`Rp1.5 trillion`, `10,000 people`, `3.2 percent`, `10:30`, `January 12, 2024`. Each
number found becomes a `Quantity`: where it is, and the readings it may have (a value, a
time of day, a day of a month); two quantities agree when they share a reading and their
units do not contradict each other.

How each language's digits are read:

- Indonesian: `1.000` and `1.314,40` are a thousand and 1314.4 (dots group thousands, the
  comma is the decimal mark); `12,5` is 12.5. A dot followed by one or two digits is
  not a thousands group: `10.30` is a time of day when it can be one (hours <= 24,
  minutes < 60), else, like `2.5`, a label written with a dot (a version, a section, a
  score, or an English-style decimal): it reads as the same digits in English (`2.5`).
- English: `1,000` and `1,314.40` are a thousand and 1314.4; `1.000` is one; `10:30` is a
  time; `10.30 am` is a time; `10.30` alone may be a time or a decimal.

Scales (`ribu/juta/miliar/triliun`, `thousand/million/billion/trillion`), percent
(`persen`, `%`, `percent`), currencies (`Rp`, `US$`, `IDR`, `rupiah`, `dolar AS`, ...),
ranges (`10-12 persen`: the unit and scale of the end apply to the start), ordinals
(`ke-3`, `3rd`, `third`), dates (a day beside a month name; the year is a number of its
own) and spelled-out small numbers (`tiga`, `three`, `dua puluh`) are read too.

    >>> [q.readings for q in parse_numbers("Rp1,5 triliun dan 10.000 orang", "id")]
    [(('value', 1500000000000.0),), (('value', 10000.0),)]
    >>> [q.readings for q in parse_numbers("1.000", "en")]
    [(('value', 1.0),)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Language = Literal["id", "en"]
Reading = tuple[str, float]  # ("value", 1.5e12) | ("time", minutes) | ("date", month*100+day)

SCALES = {
    "id": {"ribu": 1e3, "rb": 1e3, "juta": 1e6, "jt": 1e6, "miliar": 1e9, "milyar": 1e9,
           "triliun": 1e12},
    "en": {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
           "trillion": 1e12, "tn": 1e12},
}  # fmt: skip
SCALE_NAMES = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
MONTHS = {
    "id": ["januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus",
           "september", "oktober", "november", "desember"],
    "en": ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"],
}  # fmt: skip
# Short month names both languages use in news ("12 Jan 2024", "Sept. 3").
_SHORT_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "agu": 8,
                 "agt": 8, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "oct": 10, "nov": 11,
                 "des": 12, "dec": 12}  # fmt: skip
WORDS = {
    "id": {"nol": 0, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
           "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "seratus": 100,
           "seribu": 1000, "sejuta": 1e6},
    "en": {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
           "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
           "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
           "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
           "hundred": 100, "a hundred": 100, "a thousand": 1000, "a million": 1e6,
           # English words a number is often translated into ("dua kali" -> "twice").
           "once": 1, "twice": 2, "thrice": 3, "both": 2, "pair": 2, "couple": 2,
           "double": 2, "triple": 3, "dozen": 12, "a dozen": 12, "half": 0.5,
           "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
           "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
           "twelfth": 12},
}  # fmt: skip
# "satu" (one) is read but never required: Indonesian uses it where English writes "a".
_NOT_REQUIRED_WORDS = frozenset({"satu"})
_ID_TEENS = re.compile(r"(dua|tiga|empat|lima|enam|tujuh|delapan|sembilan)\s+belas", re.I)
_ID_TENS = re.compile(
    r"(dua|tiga|empat|lima|enam|tujuh|delapan|sembilan)\s+puluh"
    r"(?:\s+(satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan))?",
    re.I,
)
_EN_TENS = re.compile(
    r"(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(one|two|three|four|five|six"
    r"|seven|eight|nine)",
    re.I,
)
CURRENCIES = {
    "IDR": ("rp", "idr", "rupiah"),
    "USD": ("us$", "usd", "$", "dolar as", "dollar as", "us dollar", "us dollars",
            "dollar", "dollars", "dolar", "u.s. dollars"),
    "EUR": ("€", "eur", "euro", "euros"),
    "SGD": ("s$", "sgd", "dolar singapura", "singapore dollars"),
    "MYR": ("rm", "myr", "ringgit"),
    "JPY": ("¥", "jpy", "yen"),
}  # fmt: skip
_CURRENCY_OF = {name.lower(): code for code, names in CURRENCIES.items() for name in names}
_PREFIX_CURRENCY = re.compile(
    r"(?:(?<![\w$])(?:US\$|S\$|Rp|IDR|USD|EUR|SGD|RM|MYR|JPY)\.?|\$|€|¥)\s?$", re.I
)
_SUFFIX_CURRENCY = re.compile(
    r"^\s*(?:U\.S\.\s+dollars|US\s+dollars?|Singapore\s+dollars|dolar\s+Singapura"
    r"|dol+ar\s+AS|rupiah|dollars?|dolar|euros?|yen|ringgit)\b",
    re.I,
)
_PERCENT = {
    "id": re.compile(r"^\s?(?:%|persen\b|prosen\b)", re.I),
    "en": re.compile(r"^\s?(?:%|percent\b|per\s+cent\b|pct\b)", re.I),
}
# A run of digits with separators; a letter or digit right before it makes it part of a
# code ("COVID19" is read as 19 all the same: both sides copy it).
_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,:])\d+(?:[.,:]\d+)*")
_ORDINAL_ID = re.compile(r"(?:^|\W)ke-$", re.I)
_ORDINAL_EN = re.compile(r"^(?:st|nd|rd|th)\b", re.I)
_RANGE = re.compile(r"\s?(?:-|–|—|s/d|s\.d\.|sampai|hingga|to|until)\s?", re.I)
_AM_PM = re.compile(r"^\s?(a\.?m\.?|p\.?m\.?)(?!\w)", re.I)


@dataclass(frozen=True)
class Quantity:
    """One number in a sentence: `text[start:end]` and what it may mean."""

    start: int
    end: int
    text: str  # as written, with its currency, scale and unit
    readings: tuple[Reading, ...]
    unit: str | None = None  # "percent", or a currency code ("IDR", "USD", ...)
    scale: float = 1.0  # the scale word's factor (1e12 for "triliun"), 1.0 without one
    kind: str = "number"  # "number", "time", "date", "ordinal", "word"
    required: bool = True  # False: read (to match against) but never asked for

    def agrees_with(self, other: Quantity) -> bool:
        """Same reading, and units that do not contradict (one side may leave it out)."""
        if self.unit and other.unit and self.unit != other.unit:
            return False
        return any(_same(a, b) for a in self.readings for b in other.readings)

    def english_form(self) -> str:
        """How the number reads in English, for forcing it into a translation."""
        if self.kind == "label":
            return self.text
        kind, value = self.readings[0]
        if kind == "time":
            return f"{int(value) // 60:02d}:{int(value) % 60:02d}"
        if kind == "date":
            month, day = divmod(int(value), 100)
            return f"{MONTHS['en'][month - 1].title()} {day}"
        mantissa = value / self.scale
        # Years stay ungrouped ("2024"), as do numbers written without a separator.
        grouped = bool(re.search(r"\d[.,]\d{3}", self.text)) or mantissa >= 10_000
        number = _english_digits(mantissa, grouped=grouped)
        if self.kind == "ordinal":
            return number + _ordinal_suffix(int(mantissa))
        words = [number]
        if self.scale != 1.0:
            words.append(SCALE_NAMES.get(self.scale, ""))
        if self.unit == "percent":
            words.append("percent")
        return " ".join(w for w in words if w)


def parse_numbers(
    text: str, language: Language, skip: Sequence[tuple[int, int]] = ()
) -> list[Quantity]:
    """Every number in `text` read by `language`'s conventions, in order; numbers inside
    the `skip` spans (URLs, English quotes) are left out."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = list(skip)
    for quantity in [*_dates(text, language), *_digit_numbers(text, language)]:
        if not _overlaps(quantity.start, quantity.end, taken):
            found.append(quantity)
            taken.append((quantity.start, quantity.end))
    for quantity in _word_numbers(text, language):
        if not _overlaps(quantity.start, quantity.end, taken):
            found.append(quantity)
            taken.append((quantity.start, quantity.end))
    found.sort(key=lambda q: q.start)
    return _spread_ranges(text, found)


def missing_numbers(source: Iterable[Quantity], english: Sequence[Quantity]) -> list[Quantity]:
    """The source's required numbers left over when each English number stands for one
    source number at most (a maximum matching: "2007 ... 2007" needs two 2007s)."""
    required = [q for q in source if q.required]
    options = [[j for j, e in enumerate(english) if q.agrees_with(e)] for q in required]
    owner: dict[int, int] = {}  # English index -> the source index it stands for

    def assign(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or assign(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    matched = {i for i in range(len(required)) if assign(i, set())}
    return [q for i, q in enumerate(required) if i not in matched]


# -- digits -------------------------------------------------------------------------------


def _digit_numbers(text: str, language: Language) -> Iterable[Quantity]:
    for match in _DIGITS.finditer(text):
        start = match.start()
        readings, kind = _read_digits(match.group(), language)
        end, scale, unit = _scale_and_unit(text, match.end(), language)
        before = text[:start]
        if prefix := _PREFIX_CURRENCY.search(before[-6:]):
            unit = unit or _CURRENCY_OF.get(_squash(prefix.group()).rstrip("."))
            start -= len(prefix.group())
        if language == "id" and _ORDINAL_ID.search(before[-4:]):
            kind, start = "ordinal", start - 3
        elif language == "en" and (suffix := _ORDINAL_EN.match(text[match.end() :])):
            kind, end = "ordinal", max(end, match.end() + suffix.end())
        elif language == "en" and kind != "label" and (clock := _AM_PM.match(text[end:])):
            readings, kind, end = _clock(readings, clock.group(1)), "time", end + clock.end()
        if scale != 1.0:
            readings = (
                tuple((k, _scaled(v, scale)) for k, v in readings if k == "value") or readings
            )
        prefixed = start < match.start() or kind == "ordinal"
        required = not _glued(text, match.start(), match.end(), prefixed)
        yield Quantity(start, end, text[start:end], readings, unit, scale, kind, required)


def _glued(text: str, start: int, end: int, prefixed: bool) -> bool:
    """One digit that is a word's shorthand, not a number: a lowercase word's reduplication
    ("kira2" for "kira-kira") or a degree ("S3", a doctorate). Read, never required."""
    if prefixed or end - start != 1 or (end < len(text) and text[end].isalnum()):
        return False
    word = re.search(r"[A-Za-z]+$", text[:start])
    if word is None:
        return False
    return (word.group().islower() and len(word.group()) > 1) or word.group() in ("S", "D")


def _scale_and_unit(text: str, end: int, language: Language) -> tuple[int, float, str | None]:
    """What follows a number: a scale word, then percent or a currency name."""
    scale = 1.0
    scale_match = re.match(r"\s?([A-Za-z]+)\b", text[end:])
    if scale_match and (factor := SCALES[language].get(scale_match.group(1).lower())):
        scale, end = factor, end + scale_match.end()
    if percent := _PERCENT[language].match(text[end:]):
        return end + percent.end(), scale, "percent"
    if suffix := _SUFFIX_CURRENCY.match(text[end:]):
        return end + suffix.end(), scale, _CURRENCY_OF.get(_squash(suffix.group()))
    return end, scale, None


def _read_digits(digits: str, language: Language) -> tuple[tuple[Reading, ...], str]:
    """What one run of digits and separators means: (readings, kind)."""
    if ":" in digits:
        parts = digits.split(":")
        if len(parts) == 2 and _clock_time(parts[0], parts[1]) is not None:
            return (("time", _clock_time(parts[0], parts[1]) or 0.0),), "time"
        return tuple(("value", float(p)) for p in parts[:1]), "number"
    group, decimal = (".", ",") if language == "id" else (",", ".")
    if re.fullmatch(rf"\d{{1,3}}(?:\{group}\d{{3}})+(?:\{decimal}\d+)?", digits):
        whole, _, fraction = digits.partition(decimal)
        return (("value", float(whole.replace(group, "") + "." + (fraction or "0"))),), "number"
    if re.fullmatch(rf"\d+\{decimal}\d+", digits):
        hours, _, minutes = digits.partition(decimal)
        readings: list[Reading] = [("value", float(digits.replace(decimal, ".")))]
        if language == "en" and (time := _clock_time(hours, minutes)) is not None:
            readings.append(("time", time))
        return tuple(readings), "number"
    if re.fullmatch(r"\d+", digits):
        return (("value", float(digits)),), "number"
    if re.fullmatch(rf"\d+\{group}\d{{1,2}}", digits):
        # Indonesian "10.30" / "2.5", English "1,5": not a thousands group.
        hours, _, minutes = digits.partition(group)
        if language == "id" and (time := _clock_time(hours, minutes)) is not None:
            return (("time", time), ("value", float(f"{hours}.{minutes}"))), "time"
        return (("value", float(f"{hours}.{minutes}")),), "label"
    # Dotted codes ("1.2.3"): the same digits in the same order on both sides.
    return (("code", float(re.sub(r"\D", "", digits))),), "label"


def _clock_time(hours: str, minutes: str) -> float | None:
    if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        return None
    h, m = int(hours), int(minutes)
    return float(h * 60 + m) if h <= 24 and m < 60 else None


def _clock(readings: tuple[Reading, ...], marker: str) -> tuple[Reading, ...]:
    """An English "10.30 pm" / "10 am": the readings as times of a 24-hour day."""
    pm = marker.lower().startswith("p")
    out: list[Reading] = []
    for kind, value in readings:
        minutes = value if kind == "time" else None
        if kind == "value" and value == int(value) and 0 < value <= 12:
            minutes = value * 60
        if minutes is None:
            continue
        hours = int(minutes) // 60
        if pm and hours < 12:
            minutes += 12 * 60
        if not pm and hours == 12:
            minutes -= 12 * 60
        out.append(("time", minutes))
    return tuple(out) or readings


# -- dates and words ------------------------------------------------------------------------


def _month_number(word: str, language: Language) -> int | None:
    low = word.lower().rstrip(".")
    if low in MONTHS[language]:
        return MONTHS[language].index(low) + 1
    return _SHORT_MONTHS.get(low) if word[:1].isupper() else None


_MONTH_WORD = r"([A-Z][a-z]{2,8}\.?)"


def _dates(text: str, language: Language) -> Iterable[Quantity]:
    """A day beside a month name: "12 Januari", "January 12", "12th of January"."""
    patterns = [rf"(?<![\d.,])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_WORD}"]
    if language == "en":
        patterns.append(rf"{_MONTH_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\d.,:]\d)(?!\w)")
    for n, pattern in enumerate(patterns):
        for match in re.finditer(pattern, text):
            day, word = match.groups() if n == 0 else match.groups()[::-1]
            month = _month_number(word, language)
            if month is None or not 1 <= int(day) <= 31:
                continue
            start, end = match.span()
            if n == 0 and word.endswith("."):
                end -= 1
            reading: Reading = ("date", float(month * 100 + int(day)))
            yield Quantity(start, end, text[start:end], (reading,), kind="date")


def _word_numbers(text: str, language: Language) -> Iterable[Quantity]:
    """Spelled-out numbers, with a scale word after them ("tiga juta", "five million")."""
    spans: list[tuple[int, int, float, bool]] = []
    if language == "id":
        for match in _ID_TENS.finditer(text):
            ones = WORDS["id"].get((match.group(2) or "").lower(), 0)
            value = WORDS["id"][match.group(1).lower()] * 10 + (ones or 0)
            spans.append((match.start(), match.end(), float(value), True))
        for match in _ID_TEENS.finditer(text):
            spans.append(
                (match.start(), match.end(), WORDS["id"][match.group(1).lower()] + 10.0, True)
            )
    else:
        for match in _EN_TENS.finditer(text):
            value = WORDS["en"][match.group(1).lower()] + WORDS["en"][match.group(2).lower()]
            spans.append((match.start(), match.end(), float(value), True))
    words = {**WORDS[language], **({"satu": 1} if language == "id" else {})}
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    after = r"(?![\w-])" if language == "id" else r"(?!\w)"  # "four-column", not "dua-dua"
    for match in re.finditer(rf"(?<![\w-])({alternatives}){after}", text, re.I):
        word = match.group(1).lower()
        spans.append(
            (match.start(), match.end(), float(words[word]), word not in _NOT_REQUIRED_WORDS)
        )
    taken: list[tuple[int, int]] = []
    for start, end, value, required in sorted(spans, key=lambda s: (s[0], s[0] - s[1])):
        if _overlaps(start, end, taken):
            continue
        taken.append((start, end))
        scale = 1.0
        scale_match = re.match(r"^\s([A-Za-z]+)\b", text[end:])
        if scale_match and (factor := SCALES[language].get(scale_match.group(1).lower())):
            scale, end = factor, end + scale_match.end()
        reading: Reading = ("value", _scaled(value, scale))
        yield Quantity(start, end, text[start:end], (reading,), None, scale, "word", required)


# -- helpers -----------------------------------------------------------------------------


def _spread_ranges(text: str, found: list[Quantity]) -> list[Quantity]:
    """In "10-12 persen" and "1-2 juta" the start takes the end's unit and scale; in
    "19-21 Agustus" / "August 19-21" the bare day takes the other end's month."""
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        first, second = out[i], out[i + 1]
        if not _RANGE.fullmatch(text[first.end : second.start]):
            continue
        if first.kind == "number" and second.kind == "date" and _is_day(first):
            out[i] = _as_date(first, second)
        elif first.kind == "date" and second.kind == "number" and _is_day(second):
            out[i + 1] = _as_date(second, first)
        elif (
            first.kind == second.kind
            and not first.unit
            and first.scale == 1.0
            and (second.scale != 1.0 or second.unit)
            and text[second.start].isdigit()  # "2005 to Rp1.18 trillion" is no range
        ):
            scaled = tuple((k, _scaled(v, second.scale)) for k, v in first.readings if k == "value")
            out[i] = Quantity(first.start, first.end, first.text, scaled or first.readings,
                              second.unit, second.scale, first.kind, first.required)  # fmt: skip
    return out


def _is_day(quantity: Quantity) -> bool:
    kind, value = quantity.readings[0]
    return kind == "value" and value == int(value) and 1 <= value <= 31 and quantity.unit is None


def _as_date(day: Quantity, date: Quantity) -> Quantity:
    month = int(date.readings[0][1]) // 100
    reading: Reading = ("date", float(month * 100 + int(day.readings[0][1])))
    return Quantity(day.start, day.end, day.text, (reading,), kind="date")


def _scaled(value: float, scale: float) -> float:
    """value x scale in decimal, so 134.627 x 1e9 is 134627000000 exactly."""
    return float(Decimal(repr(value)) * Decimal(repr(scale)))


def _same(a: Reading, b: Reading) -> bool:
    if a[0] != b[0]:
        return False
    return math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=1e-9)


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def _english_digits(value: float, grouped: bool) -> str:
    if value == int(value):
        return f"{int(value):,}" if grouped else str(int(value))
    text = f"{value:,.6f}" if grouped else f"{value:.6f}"
    return text.rstrip("0").rstrip(".")


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
