"""ingest.messages: the RawArticle bus message (JSON, "v": 1)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest

from ingest.messages import SCHEMA_VERSION, RawArticle
from services.errors import MessageError


def payload(**values: Any) -> bytes:
    return json.dumps(values, ensure_ascii=False).encode()


def test_encode_then_decode_round_trips_every_field() -> None:
    article = RawArticle(
        text="انسحبت القوات الأمريكية من قاعدة قسرك",
        title="قسرك",
        url="https://example.com/a",
        published_at="2024-01-01T00:00:00+00:00",
        language="ar",
        source="replay:003.txt",
    )
    assert RawArticle.decode(article.encode()) == article


def test_encode_is_utf8_json_with_the_schema_version() -> None:
    article = RawArticle(text="Касрак")
    data = json.loads(article.encode().decode("utf-8"))
    assert data["v"] == SCHEMA_VERSION == 1
    assert data["text"] == "Касрак"
    assert "Касрак".encode() in article.encode()
    assert set(data) == {"v", *(f.name for f in fields(RawArticle))}


def test_defaults_give_an_id_and_a_receive_time() -> None:
    article = RawArticle(text="x")
    assert len(article.message_id) == 32
    assert article.received_at.endswith("+00:00")
    assert (article.title, article.url, article.source) == ("", None, "")


def test_decode_ignores_unknown_fields() -> None:
    decoded = RawArticle.decode(payload(v=1, text="x", message_id="m1", future_field={"a": 1}))
    assert decoded.text == "x"
    assert decoded.message_id == "m1"


def test_decode_fills_missing_optional_fields_with_defaults() -> None:
    decoded = RawArticle.decode(payload(v=1, text="x", message_id="m1"))
    assert (decoded.title, decoded.url, decoded.source) == ("", None, "")


@pytest.mark.parametrize(
    "data",
    [
        payload(v=2, text="x", message_id="m"),
        payload(v="1", text="x", message_id="m"),
        payload(text="x", message_id="m"),
        payload(v=None, text="x", message_id="m"),
    ],
)
def test_decode_rejects_a_wrong_or_missing_version(data: bytes) -> None:
    with pytest.raises(MessageError, match=r"RawArticle|'v'"):
        RawArticle.decode(data)


@pytest.mark.parametrize("data", [b"not json", b"", b"\xff\xfe", b"{'v': 1}"])
def test_decode_rejects_non_json(data: bytes) -> None:
    with pytest.raises(MessageError, match="not JSON"):
        RawArticle.decode(data)


@pytest.mark.parametrize("data", [b"[1]", b'"text"', b"1", b"null"])
def test_decode_rejects_json_that_is_not_an_object(data: bytes) -> None:
    with pytest.raises(MessageError):
        RawArticle.decode(data)


@pytest.mark.parametrize(
    "data",
    [
        payload(v=1, message_id="m"),
        payload(v=1, text=None, message_id="m"),
        payload(v=1, text=5, message_id="m"),
        payload(v=1, text="x"),
        payload(v=1, text="x", message_id=""),
    ],
)
def test_decode_rejects_missing_text_or_message_id(data: bytes) -> None:
    with pytest.raises(MessageError, match=r"text|message_id"):
        RawArticle.decode(data)


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "title": (str,),
    "url": (str, type(None)),
    "published_at": (str, type(None)),
    "language": (str, type(None)),
    "source": (str,),
    "message_id": (str,),
    "received_at": (str,),
}


@pytest.mark.parametrize(
    "data",
    [
        payload(v=1, text="x", message_id="m", title=None),
        payload(v=1, text="x", message_id="m", title=5),
        payload(v=1, text="x", message_id="m", url=123),
        payload(v=1, text="x", message_id="m", published_at=123),
        payload(v=1, text="x", message_id="m", source=None),
        payload(v=1, text="x", message_id=123),
    ],
)
def test_decode_rejects_or_never_returns_wrongly_typed_fields(data: bytes) -> None:
    try:
        decoded = RawArticle.decode(data)
    except MessageError:
        return
    for name, types in _FIELD_TYPES.items():
        assert isinstance(getattr(decoded, name), types), name


def test_decode_rejects_empty_text() -> None:
    with pytest.raises(MessageError):
        RawArticle.decode(payload(v=1, text="", message_id="m"))


@pytest.mark.parametrize("version", [True, 1.0])
def test_decode_rejects_a_version_that_is_not_the_integer_1(version: object) -> None:
    with pytest.raises(MessageError):
        RawArticle.decode(payload(v=version, text="x", message_id="m"))
