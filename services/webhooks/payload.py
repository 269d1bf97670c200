"""The webhook body and its Standard Webhooks headers (signed with ``standardwebhooks``).

Body (JSON, UTF-8)::

    {"type": "alert.created" | "alert.updated" | "webhook.test",
     "timestamp": "2026-11-21T10:00:00.123456+00:00",      # when the change happened
     "data": {"event_id": 42, "changes": {...}, "alert": {...}}}

Headers: ``webhook-id`` (stable per delivery, the same on every retry, so receivers
dedupe), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from standardwebhooks.webhooks import Webhook

TEST_EVENT = "webhook.test"


def body(event_type: str, timestamp: datetime, data: Mapping[str, Any]) -> bytes:
    payload = {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def alert_body(
    event_id: int,
    event_type: str,
    created_at: datetime,
    changes: Mapping[str, Any],
    alert: Mapping[str, Any],
) -> bytes:
    return body(event_type, created_at, {"event_id": event_id, "changes": changes, "alert": alert})


def message_id(delivery_id: uuid.UUID) -> str:
    """The delivery's ``webhook-id``: the same for every attempt of it."""
    return f"msg_{delivery_id.hex}"


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def headers(secret: str, msg_id: str, payload: bytes, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt of sending ``payload``."""
    now = now.astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": _signer(secret).sign(msg_id, now, payload.decode()),
    }
