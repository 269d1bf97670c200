"""processor.alerts: which events alert, and how sure an alert is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from processor.alerts import STATUSES, alertable, status, window_start
from processor.events import Event


@pytest.mark.parametrize(
    ("outlets", "languages", "expected"),
    [
        (0, 0, "reported"),
        (1, 1, "reported"),
        (1, 2, "corroborated"),  # one outlet publishing in two languages is two reports
        (2, 1, "corroborated"),
        (2, 2, "corroborated"),
        (3, 1, "corroborated"),
        (10, 1, "corroborated"),
        (3, 2, "confirmed"),
        (4, 3, "confirmed"),
    ],
)
def test_status_thresholds(outlets: int, languages: int, expected: str) -> None:
    assert status(outlets, languages) == expected


def test_a_denial_holds_until_as_many_other_outlets_answer_it_and_at_least_two() -> None:
    """Answers count from the first denial on; denials and answers are weighed together."""
    assert status(3, 2, disputed=True, denials=1, answers=0) == "disputed"
    assert status(3, 2, disputed=True, denials=1, answers=1) == "disputed"
    assert status(3, 2, disputed=True, denials=1, answers=2) == "confirmed"
    assert status(2, 1, disputed=True, denials=1, answers=2) == "corroborated"
    assert status(5, 2, disputed=True, denials=3, answers=2) == "disputed"
    assert status(5, 2, disputed=True, denials=3, answers=3) == "confirmed"


def test_an_alert_disputed_before_denials_were_counted_needs_two_answers() -> None:
    assert status(4, 2, disputed=True, denials=0, answers=1) == "disputed"
    assert status(4, 2, disputed=True, denials=0, answers=2) == "confirmed"


def test_status_is_always_a_known_status() -> None:
    for articles in range(6):
        for languages in range(articles + 1):
            assert status(articles, languages) in STATUSES


def _event(kind: str, confidence: float) -> Event:
    return Event("qasrak", kind, confidence, "evidence", 0, 8)


def test_alertable_needs_a_chosen_kind_and_enough_confidence() -> None:
    kinds = {"withdrawal", "denial"}
    assert alertable(_event("withdrawal", 0.5), kinds, 0.5)
    assert not alertable(_event("withdrawal", 0.49), kinds, 0.5)
    assert not alertable(_event("redeployment", 0.9), kinds, 0.5)


def test_window_start_is_the_window_before_the_observation() -> None:
    observed = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert window_start(observed, timedelta(hours=168)) == datetime(2024, 2, 23, 12, tzinfo=UTC)
