"""Bytes to text for fetched feeds and pages, trusting declarations only when the bytes agree.

Publishers in our languages still serve windows-1256 Arabic and cp1251/KOI8 Cyrillic,
and servers often add a default ``charset=iso-8859-1`` to UTF-8 pages. Browsers obey the
header and show mojibake; we would then match no place names at all. So the order is:

1. a byte order mark (UTF-8, UTF-16, UTF-32), and BOM-less UTF-16/32 XML sniffed from
   the first four bytes (XML 1.0 appendix F);
2. declared charsets — the document's own ``<?xml encoding>`` / ``<meta charset>``
   first when the Content-Type header only names a Western server default
   (latin-1, windows-1252, ASCII), else the header first — each trusted only if the
   bytes decode strictly with it and it is not obviously lying (see ``_lying``);
3. strict UTF-8;
4. charset_normalizer, first among the legacy encodings of the languages we watch
   (its unrestricted guess takes KOI8-R Russian for Shift JIS), then unrestricted;
5. UTF-8 with replacement characters, named ``"utf-8 (replaced)"`` so callers can tell.

``decode`` never raises. Encoding names are Python codec names (``cp1256``, ``koi8-r``).
"""

from __future__ import annotations

import codecs
import logging
import re
from functools import lru_cache

import charset_normalizer

log = logging.getLogger(__name__)

REPLACED = "utf-8 (replaced)"

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# "<?" in BOM-less UTF-16/32, as the XML specification's appendix F sniffs it.
_XML_SNIFF: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)

_HEADER_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([^"'\s/>;]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 4096
_WORD = re.compile(r"[^\W\d_]+")

# Labels Python does not know, or knows as something narrower than what publishers mean
# (the WHATWG Encoding Standard's mapping, where it matters for real pages).
_ALIASES = {
    "gb2312": "gbk",
    "x-gbk": "gbk",
    "x-sjis": "shift_jis",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "x-cp1251": "cp1251",
    "x-cp1256": "cp1256",
}
# Pages labelled Latin-1 are windows-1252 in practice (curly quotes at 0x93/0x94), as
# every browser reads them; true Latin-1 remains the fallback for bytes 0x81, 0x8D...
_SUPERSETS = {"iso8859-1": ("cp1252", "iso8859-1")}
# Codecs that are not character encodings of documents, or are unsafe to honour
# (UTF-7 is a classic filter-evasion trick; browsers refuse it too).
_NOT_CHARSETS = frozenset(
    {"utf-7", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "mbcs"}
)
# What servers say when nobody configured a charset.
_SERVER_DEFAULTS = frozenset({"iso8859-1", "cp1252", "ascii"})
_WESTERN = frozenset({"iso8859-1", "cp1252", "iso8859-15"})

# Legacy encodings of the languages Drawdown watches (Arabic, Persian, Kurdish,
# Russian, Ukrainian, Turkish, English, French), tried before anything else.
_WATCHED = [
    "cp1256",
    "iso8859_6",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "cp866",
    "mac_cyrillic",
    "cp1254",
    "iso8859_9",
    "cp1252",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
]


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The text of ``body`` and the name of the encoding it was read with; never raises."""
    if not body:
        return "", "utf-8"
    for bom, unicode in _BOMS:
        if body.startswith(bom):
            return _decode_or_replace(body[len(bom) :], unicode)
    for prefix, unicode in _XML_SNIFF:
        if body.startswith(prefix):
            return _decode_or_replace(body, unicode)
    for label in _declared(body, content_type):
        codec = _codec(label)
        if codec is None:
            log.debug("unknown charset label=%r", label)
            continue
        for candidate in _SUPERSETS.get(codec, (codec,)):
            text = _strict(body, candidate)
            if text is not None and not _lying(body, candidate, text):
                return text, candidate
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    return _detect(body)


def _declared(body: bytes, content_type: str | None) -> list[str]:
    """Charset labels in the order we try them: header, XML declaration, <meta>."""
    header = None
    if content_type:
        found = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
        header = found.group(1).decode("ascii", "replace") if found else None
    head = body[:_PRESCAN_BYTES]
    document = [
        found.group(1).decode("ascii", "replace")
        for found in (_XML_ENCODING.search(head), _META_CHARSET.search(head))
        if found
    ]
    if header is None:
        return document
    if _codec(header) in _SERVER_DEFAULTS:
        return [*document, header]
    return [header, *document]


def _codec(label: str) -> str | None:
    """The canonical Python codec name for a charset label, or None if we will not use it."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    if name in _NOT_CHARSETS or not getattr(codecs.lookup(name), "_is_text_encoding", True):
        return None
    return name


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _lying(body: bytes, codec: str, text: str) -> bool:
    """Whether a declaration that decoded strictly is still evidently wrong.

    - A single-byte charset on bytes that are valid UTF-8 with multibyte sequences:
      real windows-125x/KOI8/ISO-8859 text with letters above 0x7F practically never
      forms valid UTF-8, while UTF-8 behind a default server header is common.
    - UTF-16/32 declared on bytes with no NUL at all: an ASCII-compatible document
      transcoded to UTF-8 that kept its old declaration.
    - A Western charset whose accented words are mostly accents: Arabic or Cyrillic
      bytes read as Latin-1, not French.
    """
    if codec.startswith(("utf-16", "utf-32")):
        return b"\x00" not in body
    if not body.isascii() and _single_byte(codec) and _strict(body, "utf-8") is not None:
        return True
    return codec in _WESTERN and _mostly_foreign_words(text)


def _mostly_foreign_words(text: str) -> bool:
    """Whether words with accented letters are mostly accents, as in mojibake.

    French or Turkish words carry one or two accented letters among ASCII ones
    ("américaines"); Arabic or Cyrillic read as Latin-1 is whole words of them
    ("Àìåðèêàíñêèå"). All-ASCII words (markup, URLs, English) are left out of the count.
    """
    accented = total = 0
    for word in _WORD.findall(text):
        foreign = sum(1 for c in word if not c.isascii())
        if foreign:
            accented += foreign
            total += len(word)
    return accented >= 10 and accented > total * 0.6


@lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    """Whether every byte is one character in ``codec`` (no multibyte sequences)."""
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        return all(len(decoder.decode(bytes([b]), final=False)) == 1 for b in range(0x80, 0x100))
    except (LookupError, TypeError):
        return False


def _detect(body: bytes) -> tuple[str, str]:
    """charset_normalizer's guess, among the watched languages' encodings first."""
    for isolation in (_WATCHED, None):
        best = charset_normalizer.from_bytes(body, cp_isolation=isolation).best()
        if best is None:
            continue
        codec = _codec(best.encoding)
        text = _strict(body, codec) if codec else None
        if codec and text is not None:
            return text, codec
    log.debug("undecodable bytes, read as UTF-8 with replacement size=%d", len(body))
    return body.decode("utf-8", errors="replace"), REPLACED


def _decode_or_replace(body: bytes, codec: str) -> tuple[str, str]:
    text = _strict(body, codec)
    if text is not None:
        return text, codec
    return body.decode(codec, errors="replace"), f"{codec} (replaced)"
