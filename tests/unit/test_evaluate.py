"""Scoring readings against labels."""

from __future__ import annotations

import pytest

from processor.evaluate import Reading, Score, evaluate, parse_labels, reading, split_of
from services.errors import InputError

LABELS = [
    {"file": "a.txt", "language": "en", "bases": ["Qasrak"], "event": "withdrawal",
     "withdrawal_alert": True, "source_url": "https://one.example/a"},
    {"file": "b.txt", "language": "ar", "bases": ["hemo"], "event": "redeployment",
     "withdrawal_alert": False, "source_url": "https://www.two.example/b"},
    {"file": "c.txt", "language": "ku", "bases": ["qasrak", "Tal Baydar"], "event": "denial",
     "withdrawal_alert": False, "notes": "AMBIGUOUS: the source hedges"},
]  # fmt: skip
CANONICAL = {"Qasrak": "qasrak", "Tal Baydar": "tal-baydar"}


def _reading(file: str, language: str, places: set[str], kinds: set[str], alert: bool) -> Reading:
    return Reading(file, language, (language,), frozenset(places), frozenset(kinds), alert)


def test_scores_alerts_places_and_languages() -> None:
    result = evaluate(
        parse_labels(LABELS, CANONICAL),
        [
            _reading("a.txt", "en", {"qasrak", "syria"}, {"withdrawal"}, True),
            _reading("b.txt", "ar", {"hemo", "al-tanf"}, {"redeployment"}, True),
            _reading("c.txt", "ckb", {"qasrak"}, {"denial"}, False),
        ],
    )
    overall = result["all"]
    assert overall["alerts"]["precision"] == 0.5
    assert overall["alerts"]["recall"] == 1.0
    assert overall["places"]["recall"] == 0.75  # tal-baydar missed; syria is a country, unscored
    assert overall["places"]["precision"] == 0.75  # al-tanf was not named
    assert overall["language_accuracy"] == 1.0  # ckb is Kurdish
    assert overall["per_language"]["ar"]["alerts"]["fp"] == 1
    assert overall["confusion"]["denial"] == {"denial": 1}
    assert result["unambiguous"]["documents"] == 2  # c.txt's notes begin AMBIGUOUS
    misread = {m["file"]: m["mistakes"] for m in result["misread"]}
    assert set(misread) == {"b.txt", "c.txt"}
    assert misread["c.txt"]["places_missed"] == ["tal-baydar"]


def test_a_document_missing_from_the_replay_counts_as_misread() -> None:
    result = evaluate(parse_labels(LABELS[:1]), [])
    assert result["all"]["alerts"]["recall"] == 0.0
    assert result["misread"][0]["file"] == "a.txt"


def test_the_split_is_by_outlet_and_the_same_every_time() -> None:
    assert split_of("https://www.kurdistan24.net/x") == split_of("https://kurdistan24.net/y")
    parts = [split_of(f"https://outlet{i}.example/") for i in range(300)]
    assert parts == [split_of(f"https://outlet{i}.example/") for i in range(300)]
    assert 0.25 < parts.count("check") / len(parts) < 0.42  # about one outlet in three


def test_calibration_counts_documents_by_their_strongest_withdrawal() -> None:
    labels = parse_labels(LABELS[:2])
    sure = Reading("a.txt", "en", ("en",), frozenset(), frozenset({"withdrawal"}), True, None, 0.92)
    unsure = Reading(
        "b.txt", "ar", ("ar",), frozenset(), frozenset({"withdrawal"}), True, None, 0.85
    )
    table = evaluate(labels, [sure, unsure])["calibration"]
    rows = {r["confidence"]: r for r in table["unambiguous"]}
    assert rows["0.9–1.0"]["precision"] == 1.0
    assert rows["0.8–0.9"]["precision"] == 0.0
    assert rows["0.8–0.9"]["at_or_above"] == {"documents": 2, "precision": 0.5}
    assert set(table) == {"unambiguous", "tuning", "check"}


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
