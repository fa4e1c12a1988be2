"""Is this article Indonesian? A small function-word detector, Indonesian versus English.

Function words ("yang", "dan", "di" / "the", "of", "and") make up a large, stable share of
any running text and hardly overlap between the two languages, so their shares separate
Indonesian from English reliably on a few dozen words, with no model and no dependency.
Short texts (a headline) and texts in neither language are reported as "unknown".

`sentence_language` judges one sentence for the translate stage: "en" for an English
sentence or fragment inside an Indonesian article (a quote, "The Jakarta Post"), "zxx"
(ISO 639: no linguistic content) for numbers, URLs, e-mail addresses, handles, hashtags,
emoji and punctuation alone, "id" for everything else. Both "en" and "zxx" sentences are
copied to the English side unchanged. It is built to never call Indonesian English: one
Indonesian function word or affixed form ("-nya", "me-...-kan") keeps a sentence "id".

    >>> guess_language("Presiden meresmikan jembatan yang baru di Jakarta pada hari Senin "
    ...                "dan warga menyambut baik proyek itu karena sudah lama ditunggu.").language
    'id'
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.types import Article

logger = logging.getLogger(__name__)

INDONESIAN = frozenset(
    str.split(
        """
    yang dan di ke dari ini itu dengan untuk pada adalah dalam tidak akan juga atau oleh
    karena sudah telah bahwa ada mereka kami kita saya ia dia para secara lebih bisa dapat
    seperti tersebut namun serta hingga sebagai antara menjadi masih belum setelah saat
    ketika sangat harus kepada bagi agar jika tetapi sejak bahkan yaitu sebuah seorang
    banyak kata ujar menurut sedang pun lagi tak kini atas bagaimana apa siapa sini sana
    sehingga sementara kemudian lalu maka pula hanya saja
    """
    )
)
ENGLISH = frozenset(
    str.split(
        """
    the of and to in is that for it was on with as by at be this are from have has had an
    not but they which were he she his her said will would their been who its or we you
    can more about after also there than when into what out up so if no new our could
    should these those them him being while where how all some other over such
    """
    )
)
MIN_WORDS = 12  # fewer words than this (a headline, a caption) are not judged
SAMPLE_CHARS = 20_000  # the head of a long article is enough to judge it
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class LanguageGuess:
    """The verdict and the evidence: shares of words that are each language's function words."""

    language: str  # "id", "en" or "unknown"
    indonesian: float
    english: float
    words: int

    def evidence(self) -> str:
        return (
            f"{self.english:.0%} of {self.words} words are English function words, "
            f"{self.indonesian:.0%} Indonesian"
        )


def guess_language(text: str) -> LanguageGuess:
    words = [w.lower() for w in _WORD.findall(text[:SAMPLE_CHARS])]
    total = len(words)
    if total == 0:
        return LanguageGuess("unknown", 0.0, 0.0, 0)
    indonesian = sum(1 for w in words if w in INDONESIAN) / total
    english = sum(1 for w in words if w in ENGLISH) / total
    language = "unknown"
    if total >= MIN_WORDS:
        # Indonesian news quotes English freely; only text with almost no Indonesian
        # function words is called English.
        if english >= 0.12 and indonesian < 0.05:
            language = "en"
        elif indonesian >= 0.06:
            language = "id"
    return LanguageGuess(language, indonesian, english, total)


# Sentence level. Beyond the function words above: English words common in quotes and
# titles that Indonesian news does not borrow ("no" is left out: Indonesian writes "No. 5").
ENGLISH_SENTENCE = ENGLISH | frozenset(
    str.split(
        """
    i me my your yours is am do does did don didn doesn isn wasn won very just really
    because there here why going want think know people thank thanks please us let
    among until any each every only then thus since before between through during under
    against without within may must might shall including both either whose whom upon
    however although though
    """
    )
)
# Indonesian words that open captions and credits ("Sumber: The Jakarta Post").
INDONESIAN_SENTENCE = INDONESIAN | frozenset(
    str.split("sumber foto baca penulis lihat simak halaman berita dok ilustrasi")
)
NO_LANGUAGE = "zxx"  # ISO 639-2: no linguistic content (numbers, URLs, emoji)
# Spans that carry no language: URLs, e-mail addresses, @handles, #hashtags.
_NON_WORDS = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<!\w)[@#][\w.]*\w",
    re.IGNORECASE,
)
# Indonesian affixed forms: "-nya", "-kan", "me(ng|ny|m|n)-...-i" (lowercase words only).
_INDONESIAN_FORM = re.compile(r"\w{2,}(?:nya|kan)|me(?:ng|ny|m|n)?\w{2,}i")
_FRAGMENT_WORDS = 6  # up to this many words, a title-like English fragment counts


def sentence_language(text: str) -> str:
    """ "id", "en" or "zxx" for one sentence (see the module docstring)."""
    words = _WORD.findall(_NON_WORDS.sub(" ", text))
    if not words:
        return NO_LANGUAGE
    lowered = [w.lower() for w in words]
    if any(w in INDONESIAN_SENTENCE for w in lowered) or any(
        _INDONESIAN_FORM.fullmatch(w) for w in words if w.islower()
    ):
        return "id"
    english = sum(1 for w in lowered if w in ENGLISH_SENTENCE)
    # A lowercase "a" is the English article; a capital "A" may be a label ("Grup A").
    english += sum(1 for w in words if w == "a")
    if english >= 2 and english >= 0.15 * len(words):
        return "en"
    # A short title-like fragment: "The Jakarta Post", "Bank of America".
    if english and len(words) <= _FRAGMENT_WORDS:
        rest = [w for w, low in zip(words, lowered, strict=True) if low not in ENGLISH_SENTENCE]
        if rest and all(w[0].isupper() for w in rest) and words[0][0].isupper():
            return "en"
    return "id"


SKIPPED = "skipped"  # meta key holding why an article was not processed


def check_language(article: Article, policy: str) -> None:
    """Flag an article that is English, not Indonesian; with policy "skip", skip it."""
    guess = guess_language(article.text)
    if guess.language != "en":
        if guess.language == "unknown" and guess.words >= 30 and guess.indonesian < 0.03:
            article.warn(f"the text does not look Indonesian ({guess.evidence()})")
        return
    if policy == "skip":
        message = (
            f"skipped: the text looks English, not Indonesian ({guess.evidence()}); "
            "set run.non_indonesian: translate to translate it anyway"
        )
        article.meta[SKIPPED] = message
    else:
        message = (
            f"the text looks English, not Indonesian ({guess.evidence()}); translated "
            "anyway, except sentences found English one by one, which are copied "
            "(set run.non_indonesian: skip to skip such articles)"
        )
    article.warn(message)
    logger.warning("%s: %s", article.source or article.id, message)
