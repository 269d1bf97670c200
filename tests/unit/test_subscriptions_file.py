"""The sources file's ``subscriptions:`` list: parsed strictly, errors name the line."""

from __future__ import annotations

import textwrap

import pytest

from ingest.sources import parse_sources_file
from services.errors import ConfigError
from services.webhooks.subscriptions import SubscriptionSpec

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def parse(text: str) -> list[SubscriptionSpec]:
    return parse_sources_file(textwrap.dedent(text), "sources.yaml").subscriptions


def test_the_design_example_parses() -> None:
    (spec,) = parse(
        f"""\
        subscriptions:
          - name: newsroom bridge
            url: https://hooks.example.org/drawdown
            secret: {SECRET}
            places: [qasrak, ain-al-asad]
            countries: [syria]
            kinds: [withdrawal, withdrawal_planned]
            languages: [ar, FA]
            min_confidence: 0.6
            min_status: reported
            description: the night desk
        """
    )
    assert spec == SubscriptionSpec(
        name="newsroom bridge",
        url="https://hooks.example.org/drawdown",
        secret=SECRET,
        description="the night desk",
        places=("qasrak", "ain-al-asad"),
        countries=("syria",),
        kinds=("withdrawal", "withdrawal_planned"),
        languages=("ar", "fa"),
        min_confidence=0.6,
        min_status="reported",
    )
    assert SECRET not in repr(spec)


def test_filters_are_optional() -> None:
    (spec,) = parse("subscriptions:\n  - {name: all, url: 'http://h.example/x'}\n")
    assert spec == SubscriptionSpec("all", "http://h.example/x")
    assert parse("subscriptions:\n") == []


@pytest.mark.parametrize(
    ("item", "line", "message"),
    [
        ("    places: [qasrak]\n    colour: red\n", 5, "unknown key 'colour' in a subscription"),
        ("    places: [ain-al-asd]\n", 4, "unknown places ['ain-al-asd']"),
        ("    countries: [lebanon]\n", 4, "unknown countries ['lebanon']"),
        ("    kinds: [retreat]\n", 4, "unknown kinds ['retreat']"),
        ("    min_confidence: 1.5\n", 4, "'min_confidence' must be from 0 to 1"),
        ("    min_confidence: high\n", 4, "'min_confidence' must be a number"),
        ("    min_status: disputed\n", 4, "'min_status' must be one of reported"),
        ("    secret: hunter2\n", 4, "'secret' must be whsec_"),
        ("    places: {a: b}\n", 4, "'places' must be a list"),
        ("    active: maybe\n", 4, "'active' must be true or false"),
    ],
)
def test_mistakes_name_the_line(item: str, line: int, message: str) -> None:
    text = "subscriptions:\n  - name: a\n    url: https://h.example/\n" + item
    with pytest.raises(ConfigError) as error:
        parse_sources_file(text, "sources.yaml")
    assert str(error.value).startswith(f"sources.yaml:{line}: {message}")
    assert "hunter2" not in str(error.value)  # secrets are never echoed


def test_names_are_unique_and_urls_http() -> None:
    twice = (
        "subscriptions:\n  - {name: a, url: 'https://h.example/1'}\n"
        "  - {name: a, url: 'https://h.example/2'}\n"
    )
    with pytest.raises(ConfigError, match=r"sources.yaml:3: subscription 'a' is also on line 2"):
        parse_sources_file(twice, "sources.yaml")
    with pytest.raises(ConfigError, match=r"sources.yaml:2: a subscription needs 'url'"):
        parse_sources_file("subscriptions:\n  - {name: a}\n", "sources.yaml")
    with pytest.raises(ConfigError, match=r"is not an http\(s\) URL"):
        parse_sources_file("subscriptions:\n  - {name: a, url: 'ftp://h/'}\n", "sources.yaml")
    with pytest.raises(ConfigError, match=r"'subscriptions' must be a list"):
        parse_sources_file("subscriptions: {name: a}\n", "sources.yaml")
