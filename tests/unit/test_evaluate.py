"""Scoring readings against labels."""

from __future__ import annotations

import pytest

from processor.evaluate import Reading, Score, evaluate, parse_labels, reading
from services.errors import InputError

LABELS = [
    {"file": "a.txt", "language": "en", "bases": ["qasrak"], "event": "withdrawal",
     "withdrawal_alert": True},
    {"file": "b.txt", "language": "ar", "bases": ["hemo"], "event": "redeployment",
     "withdrawal_alert": False},
    {"file": "c.txt", "language": "ku", "bases": ["qasrak", "syria"], "event": "denial",
     "withdrawal_alert": False},
]  # fmt: skip


def _reading(file: str, language: str, places: set[str], kinds: set[str], alert: bool) -> Reading:
    return Reading(file, language, (language,), frozenset(places), frozenset(kinds), alert)


def test_scores_alerts_places_and_languages() -> None:
    result = evaluate(
        parse_labels(LABELS),
        [
            _reading("a.txt", "en", {"qasrak"}, {"withdrawal"}, True),
            _reading("b.txt", "ar", {"hemo", "iraq"}, {"redeployment"}, True),
            _reading("c.txt", "ckb", {"qasrak"}, {"denial"}, False),
        ],
    )
    overall = result["overall"]
    assert overall["alerts"]["precision"] == 0.5
    assert overall["alerts"]["recall"] == 1.0
    assert overall["places"]["recall"] == 0.75  # syria missed
    assert overall["language_accuracy"] == 1.0  # ckb is Kurdish
    assert result["per_language"]["ar"]["alerts"]["fp"] == 1
    assert result["per_event_kind"]["redeployment"]["documents"] == 1
    misread = {m["file"]: m["mistakes"] for m in result["misclassified"]}
    assert set(misread) == {"b.txt", "c.txt"}
    assert "places missed ['syria']" in misread["c.txt"]


def test_a_document_missing_from_the_replay_counts_as_misread() -> None:
    result = evaluate(parse_labels(LABELS[:1]), [])
    assert result["overall"]["alerts"]["recall"] == 0.0
    assert result["misclassified"][0]["file"] == "a.txt"


def test_reading_from_a_replay_report_uses_the_alert_threshold() -> None:
    report = {
        "file": "x.txt",
        "language": "ru",
        "languages": ["ru"],
        "places": ["qasrak"],
        "events": [{"place": "qasrak", "kind": "withdrawal", "confidence": 0.4, "evidence": ""}],
    }
    assert reading(report, 0.5).withdrawal_alert is False
    assert reading(report, 0.3).withdrawal_alert is True


@pytest.mark.parametrize(
    "data",
    [
        {"file": "a.txt"},
        [{"language": "en", "withdrawal_alert": True}],
        [{"file": "a", "language": "en", "event": "retreat", "withdrawal_alert": False}],
        ["a.txt"],
    ],
)
def test_bad_labels_are_an_input_error(data: object) -> None:
    with pytest.raises(InputError):
        parse_labels(data)


def test_score_of_nothing_is_perfect_not_a_division_by_zero() -> None:
    assert (Score().precision, Score().recall) == (1.0, 1.0)
