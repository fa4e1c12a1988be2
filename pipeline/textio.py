"""Turn the bytes of a file into text, or say clearly why they are not text."""

from __future__ import annotations

import codecs

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or .docx/.xlsx)",
    b"\x1f\x8b": "a gzip archive",
    b"RIFF": "a RIFF media file",
    b"\x7fELF": "an executable",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


def decode_bytes(data: bytes) -> tuple[str, list[str]]:
    """Decode with BOM, then UTF-8, then cp1252; return the text and notes for the record."""
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise DecodeError(f"this is {kind}, not text; remove it or convert it to .txt")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), [] if encoding == "utf-8-sig" else [
                    f"decoded as {encoding.upper()} (byte-order mark)"
                ]
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"has a {encoding} byte-order mark but is not valid {encoding}: "
                    f"{exc.reason} at byte {exc.start}"
                ) from None
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return utf16, ["decoded as UTF-16 without a byte-order mark"]
    if _looks_binary(data):
        raise DecodeError("looks like binary data (many NUL/control bytes), not text")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        return text, [f"not valid UTF-8 (byte {first_bad}); decoded as Latin-1"]
    return text, [f"not valid UTF-8 (byte {first_bad}); decoded as Windows-1252"]


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
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return (sample.count(0) > 0 and controls / len(sample) > 0.05) or controls / len(sample) > 0.3
