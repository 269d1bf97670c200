"""Is it text? Sniffed from the bytes and the decoded text, whatever a server declared.

Servers label gzip files, images and PDFs ``text/html`` and omit types; a body read
as text then becomes an article of replacement characters. ``binary_format`` names
a known binary format by its magic number; ``not_text`` also judges decoded text
by its share of U+FFFD and control characters. Pure functions.
"""

from __future__ import annotations

import re

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"RIFF", "RIFF (WebP, WAV, AVI)"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"(\xb5/\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\x7fELF", "ELF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE (old Office)"),
    (b"OggS", "Ogg"),
    (b"ID3", "MP3"),
    (b"fLaC", "FLAC"),
    (b"wOFF", "WOFF"),
    (b"wOF2", "WOFF2"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (b"SQLite format 3\x00", "SQLite"),
)
# Text whose NUL bytes are its encoding's: UTF-16/32 byte order marks, and BOM-less
# UTF-16/32 XML (its "<" in the first code unit; XML 1.0 appendix F).
_UTF16_32 = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00\x00<")
SAMPLE = 65536  # characters judged
MAX_BAD_SHARE = 0.05  # of replacement and control characters
# U+FFFD and the C0 controls but tab, line feed, form feed and carriage return.
_BAD = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def binary_format(body: bytes) -> str | None:
    """The binary format ``body`` starts with (its magic number), or None."""
    head = body[:64].lstrip(b"\t\n\r ") if body[:1] in b"\t\n\r " else body[:64]
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "MP4/QuickTime"
    if b"\x00" in body[:1024] and not body.startswith(_UTF16_32):
        return "NUL bytes"
    return None


def bad_share(text: str) -> float:
    """The share of U+FFFD and control characters (other than tab, newlines, form feed)
    in the first ``SAMPLE`` characters of ``text``."""
    sample = text[:SAMPLE]
    if not sample:
        return 0.0
    return len(_BAD.findall(sample)) / len(sample)


def not_text(body: bytes, text: str) -> str | None:
    """Why ``body`` (decoded as ``text``) is not a text document, or None when it is."""
    kind = binary_format(body)
    if kind is not None:
        return f"binary content ({kind})"
    share = bad_share(text)
    if share > MAX_BAD_SHARE:
        return f"not text: {share:.0%} of characters undecodable or control characters"
    return None
