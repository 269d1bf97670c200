"""ingest.documents: replay files decoded and validated into RawArticles."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.documents import decode_text, from_json, from_text, load
from services.errors import InputError
from services.pool import CpuPool

# ---------------------------------------------------------------- decode_text


def test_decode_text_reads_utf8() -> None:
    assert decode_text("قسرك Касрак".encode()) == "قسرك Касрак"


def test_decode_text_drops_a_byte_order_mark() -> None:
    assert decode_text(b"\xef\xbb\xbfhello") == "hello"


def test_decode_text_rejects_invalid_utf8_and_says_where() -> None:
    with pytest.raises(InputError, match=r"not valid UTF-8 at byte 7"):
        decode_text("Qasrak évacuée".encode("latin-1"))


def test_decode_text_rejects_nul_bytes_as_binary() -> None:
    with pytest.raises(InputError, match="binary content"):
        decode_text(b"abc\x00def")


def test_decode_text_rejects_many_control_characters_as_binary() -> None:
    with pytest.raises(InputError, match="control characters"):
        decode_text(b"a\x01b\x02c\x03d\x04e")


def test_decode_text_tolerates_a_few_control_characters() -> None:
    assert decode_text(b"tab\there\fform feed\r\n\x1b[0m") == "tab\there\fform feed\r\n\x1b[0m"


# ---------------------------------------------------------------- from_text


def test_from_text_title_is_the_first_non_empty_line() -> None:
    article = from_text(b"\n\n   Troops leave Qasrak  \nBody line.\n", "replay:a.txt")
    assert article.title == "Troops leave Qasrak"
    assert article.text == "Troops leave Qasrak  \nBody line."
    assert article.source == "replay:a.txt"
    assert article.url is None


def test_from_text_accepts_a_bom_and_crlf() -> None:
    article = from_text(b"\xef\xbb\xbfTitle\r\nBody\r\n", "s")
    assert article.title == "Title"
    assert article.text == "Title\nBody"


@pytest.mark.parametrize("data", [b"", b"   ", b"\n\t\n  \r\n"])
def test_from_text_rejects_an_empty_document(data: bytes) -> None:
    with pytest.raises(InputError, match="empty document"):
        from_text(data, "s")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", r"binary content \(PNG\)"),
        (b"Qasrak \xe9vacu\xe9e", "UTF-8"),
        (b"\x01\x02\x03\x04\x05", "control characters"),
    ],
)
def test_from_text_rejects_binary_and_undecodable_content(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        from_text(data, "s")


def test_articles_get_distinct_message_ids() -> None:
    assert from_text(b"a", "s").message_id != from_text(b"a", "s").message_id


# ---------------------------------------------------------------- from_json


def test_from_json_reads_the_known_fields_and_ignores_others() -> None:
    data = (
        b'{"url": "https://example.com/a", "title": "T", "text": "Body",'
        b' "published_at": "2024-01-01T00:00:00Z", "language": "en", "extra": 1}'
    )
    article = from_json(data, "replay:a.json")
    assert (article.url, article.title, article.text) == ("https://example.com/a", "T", "Body")
    assert (article.published_at, article.language) == ("2024-01-01T00:00:00Z", "en")
    assert article.source == "example.com"  # the URL's host, when no outlet is given


def test_from_json_title_defaults_to_empty() -> None:
    assert from_json(b'{"text": "Body", "title": null}', "s").title == ""
    assert from_json(b'{"text": "Body"}', "s").title == ""


def test_from_json_accepts_a_bom() -> None:
    assert from_json(b'\xef\xbb\xbf{"text": "Body"}', "s").text == "Body"


@pytest.mark.parametrize(
    "data", [b'{"title": "T"}', b'{"text": ""}', b'{"text": "  \\n "}', b'{"text": null}']
)
def test_from_json_rejects_missing_or_empty_text(data: bytes) -> None:
    with pytest.raises(InputError, match="'text' is missing or empty"):
        from_json(data, "s")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"text": ["a"]}', "text"),
        (b'{"text": 5}', "text"),
        (b'{"text": "x", "title": 3}', "title"),
        (b'{"text": "x", "url": {"href": "u"}}', "url"),
        (b'{"text": "x", "published_at": 20240101}', "published_at"),
        (b'{"text": "x", "language": true}', "language"),
    ],
)
def test_from_json_rejects_wrongly_typed_fields_by_name(data: bytes, field: str) -> None:
    with pytest.raises(InputError, match=f"field '{field}' must be a string"):
        from_json(data, "s")


@pytest.mark.parametrize("data", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_from_json_rejects_a_non_object(data: bytes) -> None:
    with pytest.raises(InputError, match="expected a JSON object"):
        from_json(data, "s")


def test_from_json_rejects_invalid_json() -> None:
    with pytest.raises(InputError, match="invalid JSON"):
        from_json(b"{not json", "s")


def test_from_json_rejects_invalid_utf8() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        from_json(b'{"text": "\xe9"}', "s")


# ---------------------------------------------------------------- load


@pytest.mark.parametrize("name", ["notes.md", "page.pdf", "README"])
async def test_load_rejects_an_unsupported_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("# not a document\n", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported file type") as caught:
        await load(path, CpuPool(0))
    assert ".txt" in str(caught.value)


async def test_load_reads_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "001.TXT"
    path.write_text("Headline\nBody", encoding="utf-8")
    article = await load(path, CpuPool(0))
    assert (article.title, article.text, article.source) == (
        "Headline",
        "Headline\nBody",
        "replay:001.TXT",
    )


async def test_load_reads_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"title": "T", "text": "Body"}', encoding="utf-8")
    article = await load(path, CpuPool(0))
    assert (article.title, article.text, article.source) == ("T", "Body", "replay:a.json")


async def test_load_reports_a_missing_file_as_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        await load(tmp_path / "missing.txt", CpuPool(0))


async def test_load_rejects_binary_html_before_extraction(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>\x00</html>")
    with pytest.raises(InputError, match="NUL bytes"):
        await load(path, CpuPool(0))


# ---------------------------------------------------------------- hostile and odd files


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_utf16_and_utf32_with_a_bom_are_decoded(codec: str, bom: bytes) -> None:
    text = "Колонна покинула базу Касрак\nقسرك"
    assert decode_text(bom + text.encode(codec)) == text


def test_a_json_document_nested_too_deep_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        from_json(b"[" * 100_000 + b"]" * 100_000, "s")


def test_a_lone_surrogate_is_an_input_error() -> None:
    with pytest.raises(InputError, match="'text' holds a lone surrogate"):
        from_json(b'{"text": "Qasrak \\ud800"}', "s")


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "01/02/2024"])
def test_a_bad_published_at_is_an_input_error(value: str) -> None:
    data = f'{{"text": "Body", "published_at": "{value}"}}'.encode()
    with pytest.raises(InputError, match="'published_at' is not an ISO 8601 time"):
        from_json(data, "s")


@pytest.mark.parametrize(
    ("fields", "outlet"),
    [
        ('"outlet": "Enab Baladi", "url": "https://www.enabbaladi.net/a"', "Enab Baladi"),
        ('"url": "https://www.enabbaladi.net/a"', "enabbaladi.net"),
        ("", "replay:a.json"),
    ],
)
def test_the_outlet_is_given_else_the_hosts_else_the_files(fields: str, outlet: str) -> None:
    data = ("{" + (fields + ", " if fields else "") + '"text": "Body"}').encode()
    assert from_json(data, "replay:a.json").source == outlet
