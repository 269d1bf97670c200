"""Webhook settings: defaults keep the promises in docs/webhooks.md; unsafe values fail fast."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from services.settings import Settings


def test_defaults_retry_for_a_day_and_lease_past_a_queued_request() -> None:
    settings = Settings()
    assert settings.webhook_retry_horizon >= 24 * 3600
    assert settings.webhook_lease > 2 * settings.webhook_timeout
    assert settings.webhook_allowed_networks == []


def test_allowed_networks_are_parsed_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32, fd00::/8")
    assert Settings().webhook_allowed_networks == [
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("fd00::/8"),
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"webhook_timeout": 30, "webhook_lease": 60},
            "DRAWDOWN_WEBHOOK_LEASE (60) must be longer",
        ),
        (
            {"webhook_backoff_base": 10, "webhook_backoff_max": 5},
            "DRAWDOWN_WEBHOOK_BACKOFF_BASE (10)",
        ),
        ({"webhook_concurrency": 0}, "greater than or equal to 1"),
        ({"webhook_allowed_networks": "10.0.0.1/8"}, "not a valid IPv4 network"),
    ],
)
def test_unsafe_values_fail(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings(**values)  # type: ignore[arg-type]
