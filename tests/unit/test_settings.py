"""services.settings.Settings: defaults and DRAWDOWN_* environment parsing."""

from __future__ import annotations

import ipaddress
import os

import pytest
from pydantic import ValidationError

from processor.events import EVENT_KINDS
from services.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DRAWDOWN_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///drawdown.db"
    assert settings.is_sqlite
    assert settings.kafka_bootstrap is None
    assert settings.topic_raw == "drawdown.articles.raw"
    assert settings.topic_dlq == "drawdown.articles.dlq"
    assert settings.topic_alerts == "drawdown.alerts"
    assert settings.http_addr == "127.0.0.1:8000"
    assert settings.webhook_allowed_networks == []
    assert settings.api_token is None
    assert settings.alert_kinds == ("withdrawal", "withdrawal_planned", "negotiation", "denial")


def test_topic_names_follow_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_TOPIC_PREFIX", "test1")
    settings = Settings()
    assert (settings.topic_raw, settings.topic_dlq) == ("test1.articles.raw", "test1.articles.dlq")


def test_postgres_url_is_accepted_and_not_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_DATABASE_URL", "postgresql+asyncpg://drawdown@db/drawdown")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://drawdown@db/drawdown"
    assert not settings.is_sqlite


def test_webhook_networks_are_comma_separated_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.0/24 ,fd00::/8")
    assert Settings().webhook_allowed_networks == [
        ipaddress.IPv4Network("10.0.0.0/8"),
        ipaddress.IPv4Network("192.168.1.0/24"),
        ipaddress.IPv6Network("fd00::/8"),
    ]


def test_empty_webhook_networks_is_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS", " , ")
    assert Settings().webhook_allowed_networks == []


@pytest.mark.parametrize("value", ["nonsense", "10.0.0.1/8", "300.0.0.0/8"])
def test_invalid_webhook_network_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS", value)
    with pytest.raises(ValidationError, match="webhook_allowed_networks"):
        Settings()


def test_alert_kinds_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_ALERT_KINDS", "withdrawal, denial,redeployment")
    assert Settings().alert_kinds == ("withdrawal", "denial", "redeployment")


def test_every_event_kind_may_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_ALERT_KINDS", ",".join(EVENT_KINDS))
    assert Settings().alert_kinds == EVENT_KINDS


def test_unknown_alert_kind_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWDOWN_ALERT_KINDS", "withdrawal,teleport")
    with pytest.raises(ValidationError, match=r"unknown event kinds \['teleport'\]"):
        Settings()


def test_unknown_alert_kind_passed_directly_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="unknown event kinds"):
        Settings(alert_kinds=("withdrawal", "retreat"))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://drawdown@db/drawdown",
        "postgres://drawdown@db/drawdown",
        "postgresql+psycopg://drawdown@db/drawdown",
        "sqlite:///drawdown.db",
        "drawdown.db",
    ],
)
def test_database_url_without_an_async_driver_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DRAWDOWN_DATABASE_URL", url)
    with pytest.raises(ValidationError, match="use an async driver"):
        Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DRAWDOWN_BATCH_SIZE", "0"),
        ("DRAWDOWN_TOPIC_PARTITIONS", "0"),
        ("DRAWDOWN_ALERT_MIN_CONFIDENCE", "1.5"),
        ("DRAWDOWN_MIN_POLL_INTERVAL", "0"),
    ],
)
def test_out_of_range_numbers_are_validation_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_numbers_and_secrets_are_parsed_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRAWDOWN_BATCH_SIZE", "25")
    monkeypatch.setenv("DRAWDOWN_ALERT_MIN_CONFIDENCE", "0.7")
    monkeypatch.setenv("DRAWDOWN_API_TOKEN", "s3cret")
    settings = Settings()
    assert settings.batch_size == 25
    assert settings.alert_min_confidence == 0.7
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.batch_size = 3  # type: ignore[misc]
    assert settings.batch_size == 100
