"""`drawdown evaluate` on the labelled corpus: the reading must stay above the bar."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, drawdown_cli

CORPUS = ROOT / "tests" / "eval"
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
    groups = {"all": figures["overall"], **figures["per_language"]}
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
    assert not failing, (failing, figures["misclassified"])
    assert len(figures["per_language"]) >= 8
    assert not (tmp_path / "drawdown.db").exists()  # evaluation leaves no database behind


def test_evaluate_prints_a_table_for_people(tmp_path: Path) -> None:
    result = drawdown_cli(
        "evaluate", str(CORPUS / "corpus"), str(CORPUS / "labels.json"), env={}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alert P" in result.stdout
    assert "per language" in result.stdout


def test_evaluate_rejects_bad_labels_clearly(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text('[{"file": "a.txt"}]', encoding="utf-8")
    result = drawdown_cli("evaluate", str(tmp_path), str(labels), env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert "label 1" in result.stderr
