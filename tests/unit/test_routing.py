"""processor.routing: which subscriptions an alert event goes to."""

from __future__ import annotations

import pytest

from processor.routing import AlertFacts, Filter, matches, status_passes

ASAD = AlertFacts(
    place="ain-al-asad",
    country="iraq",
    kind="withdrawal",
    languages=frozenset({"ar", "fa"}),
    confidence=0.8,
    status="reported",
)


def test_an_empty_filter_takes_everything() -> None:
    assert matches(Filter(), ASAD)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (Filter.of(places=["ain-al-asad", "qasrak"]), True),
        (Filter.of(places=["qasrak"]), False),
        (Filter.of(countries=["iraq"]), True),
        (Filter.of(countries=["syria"]), False),
        (Filter.of(kinds=["withdrawal", "withdrawal_planned"]), True),
        (Filter.of(kinds=["denial"]), False),
        (Filter.of(languages=["fa"]), True),  # any of the alert's languages
        (Filter.of(languages=["ru", "uk"]), False),
        (Filter.of(min_confidence=0.8), True),
        (Filter.of(min_confidence=0.81), False),
        (Filter.of(min_status="reported"), True),
        (Filter.of(min_status="corroborated"), False),
        (Filter.of(places=["ain-al-asad"], kinds=["withdrawal"], countries=["iraq"]), True),
        (Filter.of(places=["ain-al-asad"], kinds=["denial"]), False),  # all filters must pass
    ],
)
def test_each_filter(wanted: Filter, expected: bool) -> None:
    assert matches(wanted, ASAD) is expected


def test_an_alert_without_languages_fails_a_language_filter() -> None:
    facts = AlertFacts("qasrak", "syria", "withdrawal", frozenset(), 0.9, "reported")
    assert not matches(Filter.of(languages=["ar"]), facts)
    assert matches(Filter.of(countries=["syria"]), facts)


def test_an_unknown_place_has_no_country() -> None:
    facts = AlertFacts("nowhere", None, "withdrawal", frozenset(), 0.9, "reported")
    assert not matches(Filter.of(countries=["iraq"]), facts)


@pytest.mark.parametrize(
    ("min_status", "status", "previous", "expected"),
    [
        (None, "disputed", None, True),  # no floor: disputes too
        ("reported", "reported", None, True),
        ("reported", "disputed", None, False),  # disputed ranks below reported
        ("reported", "disputed", "corroborated", True),  # ... but the fall is news
        ("corroborated", "disputed", "reported", False),  # it was never sent
        ("corroborated", "corroborated", "reported", True),
        ("confirmed", "corroborated", None, False),
        ("confirmed", "confirmed", "disputed", True),
    ],
)
def test_status_floor(
    min_status: str | None, status: str, previous: str | None, expected: bool
) -> None:
    assert status_passes(min_status, status, previous) is expected


def test_facts_come_from_an_event_snapshot() -> None:
    alert = {
        "place": "qasrak",
        "kind": "withdrawal",
        "status": "disputed",
        "confidence": 0.9,
        "languages": ["ru"],
    }
    facts = AlertFacts.of_event(alert, {"status": ["corroborated", "disputed"]}, "syria")
    assert facts == AlertFacts(
        "qasrak", "syria", "withdrawal", frozenset({"ru"}), 0.9, "disputed", "corroborated"
    )
    assert AlertFacts.of_event(alert, {}, "syria").previous_status is None
