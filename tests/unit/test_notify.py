"""Apprise subscriptions in the sources file, and the message a notification reads."""

from __future__ import annotations

import json
import re

import pytest

from ingest.sources import parse_sources_file
from services.errors import ConfigError
from services.webhooks.notify import message, shown


def test_the_sources_file_names_an_apprise_url_instead_of_a_url() -> None:
    text = (
        "subscriptions:\n"
        "  - {name: chat, apprise: 'tgram://123456789:abcdefg_hijklmnop/12315544/'}\n"
    )
    (spec,) = parse_sources_file(text).subscriptions
    assert spec.url.startswith("tgram://")
    assert "abcdefg" not in shown(spec.url)  # the bot token is masked wherever it is shown
    for bad, why in (
        ("{name: a, apprise: 'nonsense://x'}", "not an Apprise URL"),
        ("{name: a, apprise: 'https://x.example/'}", "is a webhook endpoint"),
        ("{name: a, url: 'https://x.example/', apprise: 'json://x.example/'}", "or an"),
        ("{name: a}", "needs 'url' (a webhook) or 'apprise'"),
        (
            "{name: a, apprise: 'json://x.example/', "
            "secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}",
            "an 'apprise' subscription has none",
        ),
    ):
        with pytest.raises(ConfigError, match=re.escape(why)):
            parse_sources_file(f"subscriptions:\n  - {bad}\n")


def test_a_test_event_reads_as_one() -> None:
    body = json.dumps({"type": "webhook.test", "data": {"subscription": "chat"}}).encode()
    assert message(body) == ("Drawdown: test notification", "Subscription chat works.")


def test_an_alert_reads_with_its_sentence_its_language_and_why() -> None:
    said = {
        "snippet": "انسحبت القوات الأمريكية من قاعدة قسرك",
        "outlet": "Enab Baladi",
        "language": "ar",
        "article_language": "en",
        "reason": "withdrawal cue “انسحبت”, actor “الأمريكية”; headline or lead",
        "url": "https://example.org/a",
    }
    alert = {"place": "qasrak", "kind": "withdrawal", "status": "reported", "evidence": [said]}
    body = json.dumps({"type": "alert.created", "data": {"alert": alert, "changes": {}}})
    title, text = message(body.encode())
    assert title == "New alert: Qasrak — withdrawal, reported"
    lines = text.splitlines()
    assert lines[:4] == [
        "“انسحبت القوات الأمريكية من قاعدة قسرك”",
        "— Enab Baladi (ar)",
        "Why: withdrawal cue “انسحبت”, actor “الأمريكية”; headline or lead",
        "https://example.org/a",
    ]
