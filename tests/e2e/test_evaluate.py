"""`drawdown evaluate`: on the project's own texts as regression tests of specific rules, and
on the real-news development corpus (../shared/corpus/news, skipped when absent) as the
measure of accuracy.

The texts under tests/eval were written together with the gazetteer and the cues: they show
that each rule still holds, they say nothing about accuracy on real news. The real-news
floors below are what the reader reaches today on the unambiguous items; they may only rise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, drawdown_cli

CORPUS = ROOT / "tests" / "eval"
NEWS = ROOT.parent / "shared" / "corpus" / "news"
# Real news, unambiguous items (see docs/reading.md for the figures and the targets).
NEWS_FLOORS = {"places": (0.98, 0.98), "alerts": (0.96, 0.91)}
NEWS_LANGUAGE_ACCURACY = 0.98
ALERT_PRECISION = ALERT_RECALL = 0.95
PLACE_RECALL = 0.97
LANGUAGE_ACCURACY = 0.98
MIN_DOCUMENTS = 10


def test_labelled_corpus_meets_the_accuracy_bar(tmp_path: Path) -> None:
    result = drawdown_cli(
        "evaluate",
        str(CORPUS / "corpus"),
        str(CORPUS / "labels.json"),
        "--json",
        env={},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    groups = {"all": figures["all"], **figures["all"]["per_language"]}
    failing = {
        name: group
        for name, group in groups.items()
        if group["documents"] >= MIN_DOCUMENTS
        and (
            group["alerts"]["precision"] < ALERT_PRECISION
            or group["alerts"]["recall"] < ALERT_RECALL
            or group["places"]["recall"] < PLACE_RECALL
            or group["language_accuracy"] < LANGUAGE_ACCURACY
        )
    }
    assert not failing, (failing, figures["misread"])
    assert len(figures["all"]["per_language"]) >= 8
    assert not (tmp_path / "drawdown.db").exists()  # evaluation leaves no database behind


def test_evaluate_prints_a_table_for_people(tmp_path: Path) -> None:
    result = drawdown_cli(
        "evaluate", str(CORPUS / "corpus"), str(CORPUS / "labels.json"), env={}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alertP" in result.stdout
    assert "per language" in result.stdout


def test_evaluate_rejects_bad_labels_clearly(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text('[{"file": "a.txt"}]', encoding="utf-8")
    result = drawdown_cli("evaluate", str(tmp_path), str(labels), env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert "label 1" in result.stderr


@pytest.mark.skipif(not (NEWS / "labels.json").exists(), reason="no ../shared/corpus/news here")
def test_real_news_stays_above_the_floors(tmp_path: Path) -> None:
    result = drawdown_cli("evaluate", str(NEWS), "--json", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    clear = figures["unambiguous"]
    print({k: clear[k] for k in ("documents", "language_accuracy", "places", "alerts")})  # noqa: T201
    assert clear["documents"] == 148
    assert clear["language_accuracy"] >= NEWS_LANGUAGE_ACCURACY
    for measure, (precision, recall) in NEWS_FLOORS.items():
        assert clear[measure]["precision"] >= precision, (measure, clear[measure])
        assert clear[measure]["recall"] >= recall, (measure, clear[measure])
    assert set(figures["split"]) == {"tuning", "check"}
    assert all(entry["mistakes"] for entry in figures["misread"])
