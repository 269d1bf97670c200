"""ingest.charset: declared charsets trusted only when the bytes agree; detection otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.charset import REPLACED, decode

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "feeds" / "encoding"

ARABIC = (
    "أعلنت وزارة الدفاع الأمريكية اليوم أن القوات الأمريكية بدأت الانسحاب من قاعدة قسرك "
    "في ريف الحسكة. وقال مسؤولون إن العملية ستستمر عدة أسابيع، وإن المعدات الثقيلة نقلت "
    "إلى العراق عبر معبر الوليد."
)
RUSSIAN = (
    "Американские военные начали вывод войск с базы Касрак на северо-востоке Сирии. "
    "По словам местных источников, колонна из нескольких десятков грузовиков направилась "
    "в сторону иракской границы."
)
UKRAINIAN = (
    "Американські війська почали виведення з бази Касрак на північному сході Сирії. "
    "За словами місцевих джерел, колона з кількох десятків вантажівок рушила в бік "
    "іракського кордону, а ґрунтові дороги перекрили."
)
FRENCH = (
    "Les forces américaines ont commencé à se retirer de la base de Qasrak, dans le "
    "nord-est de la Syrie. Selon des sources locales, un convoi s’est dirigé vers la "
    "frontière irakienne — «\u00a0sans incident\u00a0», précise-t-on."
)


def page(text: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head>{head}<title>x</title></head><body><p>{text}</p></body></html>"
    )


# ---------------------------------------------------------------- detection, nothing declared


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (ARABIC, "windows-1256", "cp1256"),
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (UKRAINIAN, "koi8-u", "koi8-u"),
        (UKRAINIAN, "cp1251", "cp1251"),
        (ARABIC, "utf-8", "utf-8"),
    ],
)
def test_undeclared_legacy_encodings_are_detected(text: str, codec: str, expected: str) -> None:
    assert decode(text.encode(codec)) == (text, expected)


def test_undeclared_encoding_is_detected_inside_markup() -> None:
    html = page(RUSSIAN)
    assert decode(html.encode("koi8-r"), "text/html") == (html, "koi8-r")


# ---------------------------------------------------------------- declarations


def test_content_type_charset_is_used() -> None:
    body = ARABIC.encode("cp1256")
    assert decode(body, "text/html; charset=windows-1256") == (ARABIC, "cp1256")


def test_quoted_content_type_charset_is_used() -> None:
    body = UKRAINIAN.encode("koi8-u")
    assert decode(body, 'text/plain; charset="KOI8-U"') == (UKRAINIAN, "koi8-u")


def test_meta_charset_is_used() -> None:
    html = page(ARABIC, '<meta charset="windows-1256">')
    assert decode(html.encode("cp1256"), "text/html") == (html, "cp1256")


def test_meta_http_equiv_charset_is_used() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    html = page(RUSSIAN, head)
    assert decode(html.encode("koi8-r")) == (html, "koi8-r")


def test_xml_declaration_is_used() -> None:
    xml = f'<?xml version="1.0" encoding="koi8-u"?>\n<rss><channel><title>{UKRAINIAN}</title></rss>'
    assert decode(xml.encode("koi8-u"), "application/rss+xml") == (xml, "koi8-u")


def test_latin1_label_reads_as_windows_1252_like_browsers() -> None:
    body = FRENCH.encode("cp1252")  # curly apostrophe 0x92 and em dash 0x97
    assert decode(body, "text/html; charset=ISO-8859-1") == (FRENCH, "cp1252")


# ---------------------------------------------------------------- lying declarations


@pytest.mark.parametrize("text", [ARABIC, RUSSIAN, FRENCH])
def test_utf8_behind_a_latin1_header_is_utf8(text: str) -> None:
    html = page(text)
    assert decode(html.encode(), "text/html; charset=iso-8859-1") == (html, "utf-8")


def test_utf8_behind_a_single_byte_cyrillic_header_is_utf8() -> None:
    assert decode(RUSSIAN.encode(), "text/html; charset=windows-1251") == (RUSSIAN, "utf-8")


def test_utf8_behind_a_lying_meta_is_utf8() -> None:
    html = page(ARABIC, '<meta charset="windows-1256">')
    assert decode(html.encode()) == (html, "utf-8")


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [(ARABIC, "cp1256", "cp1256"), (RUSSIAN, "cp1251", "cp1251"), (RUSSIAN, "koi8-r", "koi8-r")],
)
def test_legacy_bytes_behind_a_latin1_header_are_detected(
    text: str, codec: str, expected: str
) -> None:
    html = page(text)
    assert decode(html.encode(codec), "text/html; charset=iso-8859-1") == (html, expected)


def test_a_server_default_header_yields_to_the_documents_own_declaration() -> None:
    html = page(RUSSIAN, '<meta charset="windows-1251">')
    assert decode(html.encode("cp1251"), "text/html; charset=windows-1252") == (html, "cp1251")


def test_a_specific_header_wins_over_the_document() -> None:
    html = page(RUSSIAN, '<meta charset="windows-1251">')
    assert decode(html.encode("koi8-r"), "text/html; charset=koi8-r") == (html, "koi8-r")


def test_a_declaration_the_bytes_do_not_fit_is_skipped() -> None:
    assert decode(ARABIC.encode("cp1256"), "text/html; charset=utf-8") == (ARABIC, "cp1256")


def test_utf16_declared_on_ascii_compatible_bytes_is_not_believed() -> None:
    html = page(RUSSIAN, '<meta charset="utf-16">')
    assert decode(html.encode()) == (html, "utf-8")


@pytest.mark.parametrize("label", ["utf-7", "unicode_escape", "rot13", "x-no-such-charset"])
def test_unsafe_or_unknown_charsets_are_ignored(label: str) -> None:
    body = b"caf\\u00e9 +AGEAYgBj- plain ascii"
    assert decode(body, f"text/plain; charset={label}") == (body.decode(), "utf-8")


# ---------------------------------------------------------------- byte order marks


@pytest.mark.parametrize(
    ("codec", "expected"),
    [
        ("utf-8-sig", "utf-8"),
        ("utf-16", "utf-16-le"),  # Python writes a little-endian BOM here
        ("utf-32", "utf-32-le"),
    ],
)
def test_bom_decides_and_is_dropped(codec: str, expected: str) -> None:
    assert decode(ARABIC.encode(codec), "text/html; charset=iso-8859-1") == (ARABIC, expected)


def test_big_endian_utf16_bom() -> None:
    assert decode(b"\xfe\xff" + RUSSIAN.encode("utf-16-be")) == (RUSSIAN, "utf-16-be")


def test_bomless_utf16_xml_is_sniffed() -> None:
    xml = f'<?xml version="1.0" encoding="utf-16"?><rss><title>{ARABIC}</title></rss>'
    assert decode(xml.encode("utf-16-be")) == (xml, "utf-16-be")


# ---------------------------------------------------------------- never raises


def test_empty_body() -> None:
    assert decode(b"") == ("", "utf-8")


def test_invalid_bytes_after_a_bom_are_replaced_and_say_so() -> None:
    assert decode(b"\xef\xbb\xbfabc\xff") == ("abc\ufffd", REPLACED)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=300), content_type=st.none() | st.text(max_size=40))
def test_decode_never_raises(body: bytes, content_type: str | None) -> None:
    text, encoding = decode(body, content_type)
    assert isinstance(text, str)
    assert encoding


def _header(raw: bytes) -> str | None:
    """The Content-Type a corpus file says it was served with, in its leading comment."""
    found = re.search(rb"Content-type:\s*([^\r\n]*)", raw[:1000].replace(b"\x00", b""), re.I)
    return found.group(1).decode("latin-1").strip() if found else None


def test_corpus_feeds_decode_to_their_markup() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    assert files
    for path in files:
        raw = path.read_bytes()
        for content_type in (None, _header(raw)):
            text, encoding = decode(raw, content_type)
            assert re.search(r"<(rss|feed|rdf:RDF)\b", text), (path.name, encoding)
