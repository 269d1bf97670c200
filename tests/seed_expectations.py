"""What the user's five seed articles must show, checked the same way on every setup."""

from __future__ import annotations

from typing import Any

WITHDRAWAL_ALERTS = {"withdrawal", "withdrawal_planned"}


def _kinds(report: dict[str, Any], place: str) -> set[str]:
    return {e["kind"] for e in report["events"] if e["place"] == place}


def _alerts(report: dict[str, Any], place: str, kind: str) -> list[dict[str, Any]]:
    return [a for a in report["alerts"] if a["place"] == place and a["kind"] == kind]


def check_first_replay(reports: list[dict[str, Any]]) -> None:
    by_prefix = {r["file"][:3]: r for r in reports if "file" in r}
    ru, ar_en, fa, ar, uk = (by_prefix[p] for p in ("000", "001", "002", "003", "004"))
    for report in (ru, ar_en, fa, ar, uk):
        assert report["duplicate_of"] is None, report["file"]

    assert ru["language"] == "ru"
    assert {"ar", "en"} <= set(ar_en["languages"])
    assert ar_en["language"] in {"ar", "en"}
    assert fa["language"] == "fa"
    assert ar["language"] == "ar"
    assert uk["language"] == "uk"

    assert {"qasrak", "rmelan", "al-shaddadi", "al-tanf"} <= set(ru["places"])
    assert "withdrawal" in _kinds(ru, "qasrak")
    (qasrak_alert,) = _alerts(ru, "qasrak", "withdrawal")
    assert qasrak_alert["new"] is True
    assert qasrak_alert["status"] == "reported"
    assert "withdrawal" in _kinds(ru, "al-shaddadi")
    assert "withdrawal" in _kinds(ru, "al-tanf")
    assert not _kinds(ru, "rmelan") & WITHDRAWAL_ALERTS

    assert {"qasrak", "kharab-al-jir", "al-shaddadi", "al-tanf"} <= set(ar_en["places"])
    assert "withdrawal" in _kinds(ar_en, "qasrak")
    (corroborated,) = _alerts(ar_en, "qasrak", "withdrawal")
    assert corroborated["alert_id"] == qasrak_alert["alert_id"]
    assert corroborated["new"] is False
    assert corroborated["status"] == "corroborated"

    assert {"ain-al-asad", "victory-base"} <= set(fa["places"])
    assert "withdrawal" in _kinds(fa, "ain-al-asad")
    assert _alerts(fa, "ain-al-asad", "withdrawal")

    assert {"hemo", "sarrin", "qasrak", "al-tanf"} <= set(ar["places"])
    assert "withdrawal" in _kinds(ar, "sarrin")
    assert "redeployment" in _kinds(ar, "hemo")
    assert not _kinds(ar, "hemo") & WITHDRAWAL_ALERTS
    assert "withdrawal_planned" in _kinds(ar, "qasrak")  # the convoy waits there to withdraw

    assert _kinds(uk, "iraq") & {"negotiation", "denial"}
    assert _alerts(uk, "iraq", "negotiation") or _alerts(uk, "iraq", "denial")
    assert not [a for a in uk["alerts"] if a["kind"] in WITHDRAWAL_ALERTS]
    assert not [e for e in uk["events"] if e["kind"] in WITHDRAWAL_ALERTS]

    summary = reports[-1]["summary"]
    assert summary["documents"] == 5
    assert summary["articles"] == 5
    assert summary["errors"] == 0


def check_second_replay(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> None:
    originals = {r["file"]: r for r in first if "file" in r}
    for report in second:
        if "file" not in report:
            continue
        original = originals[report["file"]]
        assert report["duplicate_of"] == original["article_id"]
        assert report["alerts"] == []
        assert report["places"] == original["places"]
        assert report["events"] == original["events"]
    summary = second[-1]["summary"]
    assert summary["articles"] == 0
    assert summary["duplicates"] == 5
    assert summary["alerts_new"] == 0
    assert summary["alerts_updated"] == 0
