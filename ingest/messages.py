"""``RawArticle``: what ingestion publishes to ``drawdown.articles.raw``.

JSON, UTF-8, schema-versioned (``"v": 1``); readers ignore unknown fields.
See docs/messages.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from services.errors import MessageError

SCHEMA_VERSION = 1


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One document as fetched or replayed, before any reading."""

    text: str
    title: str = ""
    url: str | None = None
    published_at: str | None = None
    language: str | None = None
    source: str = ""
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    received_at: str = field(default_factory=_now)

    def encode(self) -> bytes:
        return json.dumps({"v": SCHEMA_VERSION, **asdict(self)}, ensure_ascii=False).encode()

    @classmethod
    def decode(cls, payload: bytes) -> RawArticle:
        """Parse and validate a message; MessageError says what is wrong with it."""
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MessageError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or type(data.get("v")) is not int:
            raise MessageError("expected a RawArticle object with an integer 'v'")
        if data["v"] != SCHEMA_VERSION:
            raise MessageError(f"RawArticle v{data['v']} is not v{SCHEMA_VERSION}")
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name, value in known.items():
            optional = name in _OPTIONAL
            if not isinstance(value, str) and not (optional and value is None):
                kind = "a string or null" if optional else "a string"
                raise MessageError(f"field {name!r} must be {kind}")
        if not known.get("text", "").strip() or not known.get("message_id"):
            raise MessageError("RawArticle needs a non-empty text and a message_id")
        return cls(**known)


_OPTIONAL = frozenset({"url", "published_at", "language"})
