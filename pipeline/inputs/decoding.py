"""Turn the bytes of a file into text, or say clearly why they are not text."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from pipeline.errors import DecodeError

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or .docx/.xlsx)",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"RIFF": "a RIFF media file (WAV, AVI or WebP)",
    b"ID3": "an MP3 file",
    b"OggS": "an Ogg media file",
    b"\x7fELF": "an executable",
    b"MZ": "a Windows executable",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document (.doc/.xls)",
    b"SQLite format 3\x00": "an SQLite database",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Controls that text files legitimately hold: tab, newline, form feed, carriage return.
_ALLOWED_CONTROLS = frozenset((9, 10, 12, 13))
# Vertical tab and form feed are line/page breaks, which the splitter keeps.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Indonesian in a Western code page is mostly ASCII; far more non-ASCII means another
# encoding (Shift-JIS, GBK, KOI8...) read wrongly, and translating mojibake helps no one.
_MAX_NON_ASCII_SHARE = 0.3


def decode_bytes(data: bytes) -> tuple[str, list[str]]:
    """Decode with BOM, then UTF-8, then cp1252; return the text and notes for the record."""
    _reject_known_binary(data)
    text, notes = _decode(data)
    controls = len(_CONTROL_CHARS.findall(text))
    if controls:
        notes.append(f"{controls} control character(s) such as NUL dropped before splitting")
    return text, notes


def _reject_known_binary(data: bytes) -> None:
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise DecodeError(f"this is {kind}, not text; remove it or convert it to .txt")
    if data[4:8] == b"ftyp":
        raise DecodeError("this is an MP4/MOV/HEIC media file, not text; remove it")


def _decode(data: bytes) -> tuple[str, list[str]]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"has a {encoding} byte-order mark but is not valid {encoding}: "
                    f"{exc.reason} at byte {exc.start}"
                ) from None
            notes = [] if encoding == "utf-8-sig" else [f"decoded as {encoding.upper()} (BOM)"]
            return text, notes
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return utf16, ["decoded as UTF-16 without a byte-order mark"]
    if _looks_binary(data):
        raise DecodeError(
            "looks like binary data (many NUL/control bytes), not text; "
            "remove it or save it as UTF-8 text"
        )
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    return _decode_not_utf8(data, first_bad)


def _decode_not_utf8(data: bytes, first_bad: int) -> tuple[str, list[str]]:
    """Mostly-UTF-8 with a few bad bytes stays UTF-8; otherwise a Western code page."""
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good_multibyte = sum(1 for ch in replaced if ord(ch) > 0x7F) - bad
    if good_multibyte > bad:
        return replaced, [f"{bad} invalid UTF-8 byte sequence(s) replaced by U+FFFD"]
    try:
        text, encoding = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "Latin-1"
    visible = [ch for ch in text if not ch.isspace()]
    share = sum(1 for ch in visible if ord(ch) > 0x7F) / max(1, len(visible))
    if share > _MAX_NON_ASCII_SHARE:
        raise DecodeError(
            f"not UTF-8 (byte {first_bad}) and not a Western text either ({share:.0%} of "
            "characters would be accented letters or symbols); convert it to UTF-8"
        )
    return text, [f"not valid UTF-8 (byte {first_bad}); decoded as {encoding}"]


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte of ASCII-range text."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    encoding = "utf-16-le" if odd_nuls > 3 * max(1, even_nuls) else None
    encoding = "utf-16-be" if even_nuls > 3 * max(1, odd_nuls) else encoding
    if encoding is None:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    # Binary data with NULs in alternate bytes decodes too, into unprintable junk.
    head = text[:2048]
    printable = sum(1 for ch in head if ch.isprintable() or ch in "\n\r\t")
    return text if printable >= 0.9 * len(head) else None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in _ALLOWED_CONTROLS)
    nuls = sample.count(0)
    # A stray NUL or two in real text is noise to drop; binary data is full of them.
    return (controls >= 8 and controls > 0.1 * len(sample)) or (
        nuls >= 4 and nuls > 0.01 * len(sample)
    )


# -- HTML pages saved as text ---------------------------------------------------------

_HTML_START = re.compile(
    r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>])", re.I | re.S
)
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>")
_HTML_TAGS = frozenset(
    str.split(
        """
    a abbr article aside b body br div em figcaption figure footer h1 h2 h3 h4 h5 h6 head
    header hr i img li link main meta nav noscript ol p script section span strong style
    table td th title tr u ul
    """
    )
)
# Elements whose content is never article text.
_SKIP = frozenset({"script", "style", "head", "noscript", "template", "svg", "iframe", "nav"})
# Elements that end a line of text (a paragraph, a heading, a list item...).
_BLOCKS = frozenset(
    str.split(
        """
    p div br h1 h2 h3 h4 h5 h6 li tr article section header footer blockquote figcaption
    title table ul ol pre hr main aside figure dd dt
    """
    )
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "source", "area", "col"})


def looks_like_html(text: str) -> bool:
    """A saved web page: a doctype/<html> start, or markup made of several HTML tags."""
    if _HTML_START.match(text[:4096]):
        return True
    sample = text[:65536]
    names = [m.group(1).lower() for m in _TAG.finditer(sample)]
    known = [n for n in names if n in _HTML_TAGS]
    closing = sample.count("</")
    return len(known) >= 5 and closing >= 2 and len(set(known)) >= 2


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        # Text inside a skipped element, dropped when it closes; an element never closed
        # (a stray "<svg ...>" in running text) gives its text back at the end.
        self.held: list[str] = []
        self.tags = 0

    def _out(self) -> list[str]:
        return self.held if self.skipping else self.parts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag == "body":
            self.skipping.clear()  # an unclosed <head> ends where the body starts
            self.held.clear()
        if tag in _SKIP and tag not in _VOID:
            self.skipping.append(tag)
        if tag in _BLOCKS:
            self._out().append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()
            if not self.skipping:
                self.held.clear()
        if tag in _BLOCKS:
            self._out().append("\n\n")

    def handle_data(self, data: str) -> None:
        self._out().append(data)


def html_to_text(page: str) -> tuple[str, int]:
    """The visible text of an HTML page, one block per paragraph, and the tag count."""
    parser = _TextExtractor()
    parser.feed(page)
    parser.close()
    raw = "".join(parser.parts + parser.held)  # held: an element that never closed
    blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", raw))
    return "\n\n".join(b for b in blocks if b), parser.tags
