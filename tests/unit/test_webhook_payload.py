"""Webhook bodies and headers verify with the standardwebhooks library; secrets and metrics."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.webhooks import payload
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.subscriptions import generate_secret, valid_secret

CREATED = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def test_a_signed_alert_verifies_and_a_tampered_one_does_not() -> None:
    secret = generate_secret()
    alert = {"id": "a1", "place": "qasrak", "kind": "withdrawal", "status": "reported"}
    body = payload.alert_body(7, "alert.created", CREATED, {}, alert)
    msg_id = payload.message_id(uuid.UUID(int=1))
    headers = payload.headers(secret, msg_id, body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers) == {
        "type": "alert.created",
        "timestamp": "2026-11-21T09:30:00+00:00",
        "data": {"event_id": 7, "changes": {}, "alert": alert},
    }
    assert headers["webhook-id"] == "msg_00000000000000000000000000000001"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"qasrak", b"tanf"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_the_timestamp_header_is_the_attempts_time() -> None:
    secret = generate_secret()
    body = payload.body("webhook.test", CREATED, {})
    stale = payload.headers(secret, "msg_x", body, datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, stale)


def test_non_ascii_text_is_sent_as_utf8() -> None:
    body = payload.alert_body(1, "alert.created", CREATED, {}, {"snippet": "عين الأسد"})
    assert "عين الأسد".encode() in body
    assert json.loads(body)["data"]["alert"]["snippet"] == "عين الأسد"


def test_generated_secrets_are_standard_webhooks_secrets() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert valid_secret(secret)
    assert secret != generate_secret()
    assert not valid_secret("whsec_short")
    assert not valid_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")  # no prefix
    assert not valid_secret("whsec_not base64!")


def test_metrics_count_outcomes_and_bucket_latency() -> None:
    metrics = WebhookMetrics()
    metrics.record("delivered", blocked=False, latency_ms=12.0, lag_ms=300.0)
    metrics.record("pending", blocked=False, latency_ms=7000.0, lag_ms=None)
    metrics.record("dead", blocked=True, latency_ms=0.1, lag_ms=None)
    figures = metrics.snapshot()
    assert {k: figures[k] for k in ("attempts", "delivered", "retried", "dead", "blocked")} == {
        "attempts": 3,
        "delivered": 1,
        "retried": 1,
        "dead": 1,
        "blocked": 1,
    }
    buckets = figures["latency_ms"]["buckets"]
    assert (buckets["10.0"], buckets["25.0"], buckets["5000.0"], buckets["+Inf"]) == (0, 1, 1, 2)
    assert figures["lag_ms"]["count"] == 1
