"""services.status's pure part: what is a problem, and the screen for people."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services import status

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "database": {
            "url": "postgresql+asyncpg://drawdown:***@db/drawdown",
            "reachable": True,
            "at_head": True,
            "detail": "migrations at head",
        },
        "bus": {
            "kind": "kafka",
            "bootstrap": "kafka:9092",
            "group": "drawdown-processor",
            "topic": "drawdown.articles.raw",
            "ready": True,
            "detail": "ready, lag 7",
            "lag": [
                {"topic": "drawdown.articles.raw", "partition": 0, "lag": 7},
                {"topic": "drawdown.articles.raw", "partition": 1, "lag": 0},
            ],
        },
        "processes": [
            {
                "id": "web-1:42:20261121T110000Z",
                "host": "web-1",
                "pid": 42,
                "roles": ["ingest", "process"],
                "started_at": "2026-11-21T11:00:00+00:00",
                "seen_at": "2026-11-21T11:59:55+00:00",
                "seen_seconds_ago": 5.0,
                "state": "alive",
            }
        ],
        "sources": {
            "counts": {"ok": 3, "unpolled": 2, "erroring": 1, "parked": 0, "disabled": 1},
            "failing": [
                {
                    "name": "Enab Baladi",
                    "url": "https://enab.example/feed",
                    "health": "erroring",
                    "error_count": 2,
                    "last_status": "500",
                    "last_error": "http: HTTP 500",
                }
            ],
            "noted": [
                {
                    "name": "Halab Today",
                    "url": "https://halab.example/news",
                    "note": "1 of 4 article pages unusable; first: binary: binary content (png)",
                }
            ],
        },
        "dead_letters": 1,
        "deliveries": {"pending": 4, "dead": 2},
        "alerts": [
            {
                "alert_id": "a1",
                "time": "2026-11-21T11:30:00+00:00",
                "place": "qasrak",
                "kind": "withdrawal",
                "status": "corroborated",
                "outlets": 3,
            }
        ],
    }
    report.update(changes)
    found = status.problems(report)
    return {"ready": not found, "problems": found, **report}


def test_ready_when_the_database_and_the_bus_are() -> None:
    report = _report()
    assert report["ready"]
    screen = status.render(report, NOW)
    assert screen.splitlines()[-1] == "ready"
    assert "kafka kafka:9092: ready, lag 7" in screen
    assert "per partition 0:7 1:0" in screen
    assert "alive  web-1:42:20261121T110000Z  ingest,process  seen 5s ago, up 1h" in screen
    assert "3 ok, 2 not polled yet, 1 erroring, 0 parked, 1 disabled" in screen
    assert "Enab Baladi  (2 errors) http: HTTP 500" in screen
    assert "  note      Halab Today  1 of 4 article pages unusable; first: binary" in screen
    assert "4 pending, 2 dead" in screen
    assert "2026-11-21 11:30  qasrak  withdrawal  corroborated  3 outlets" in screen


def test_not_ready_says_why() -> None:
    database = {
        "url": "sqlite+aiosqlite:///drawdown.db",
        "reachable": True,
        "at_head": False,
        "detail": "database schema is at 0006, code expects 0009: run `drawdown migrate`",
    }
    bus = {"kind": "kafka", "bootstrap": "kafka:9092", "ready": False, "lag": None}
    bus["detail"] = "not ready: no answer from kafka:9092"
    report = _report(
        database=database,
        bus=bus,
        processes=None,
        sources=None,
        dead_letters=None,
        deliveries=None,
        alerts=None,
    )
    assert not report["ready"]
    assert report["problems"] == [
        f"database: {database['detail']}",
        "bus: not ready: no answer from kafka:9092",
    ]
    last = status.render(report, NOW).splitlines()[-1]
    assert last.startswith("not ready: database: database schema is at 0006")
    assert "bus: not ready" in last


def test_the_in_process_bus_is_not_asked() -> None:
    bus = {"kind": "in-process", "ready": True, "detail": status.IN_PROCESS, "lag": None}
    report = _report(bus=bus, processes=[], alerts=[])
    screen = status.render(report, NOW)
    assert "bus           in-process (inside drawdown run)" in screen
    assert "processes     none reporting" in screen
    assert "last alerts   none yet" in screen


def test_a_missing_sqlite_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    assert status.missing_sqlite_file(f"sqlite+aiosqlite:///{missing}") == str(missing)
    assert not missing.exists()
    missing.touch()
    assert status.missing_sqlite_file(f"sqlite+aiosqlite:///{missing}") is None
    assert status.missing_sqlite_file("sqlite+aiosqlite://") == ":memory:"
    assert status.missing_sqlite_file("postgresql+asyncpg://u@db/drawdown") is None
