"""`drawdown status` against real databases and a real Kafka-API broker, run as a user would."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import sessionmaker
from services.kafka import KafkaBus
from services.models import DeadLetter, Delivery, Process, Source, utcnow
from services.settings import Settings
from services.webhooks.subscriptions import SubscriptionSpec
from tests.conftest import drawdown_cli
from tests.servers import free_port
from tests.webhookkit import AIN_AL_ASAD, QASRAK, report, subscribe

INTERVAL = 600  # seconds between heartbeats, as `drawdown status` is told


async def _status(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(drawdown_cli, "status", *args, env=env, cwd=cwd, timeout=120)
    return result.returncode, result.stdout, result.stderr


async def _fill(engine: AsyncEngine) -> None:
    """Two alerts with a delivery each (one dead), a source of each health (one never
    polled), a dead letter, and two processes: one that beat just now and one silent for
    hours."""
    await subscribe(engine, SubscriptionSpec("desk", "https://hooks.example/desk", "whsec_x"))
    await report(engine, AIN_AL_ASAD, source="Outlet A")
    await report(engine, QASRAK, source="Outlet B")
    now = utcnow()
    async with sessionmaker(engine).begin() as session:
        owed = list(await session.scalars(select(Delivery.id).order_by(Delivery.created_at)))
        assert len(owed) == 2
        await session.execute(
            update(Delivery)
            .where(Delivery.id == owed[0])
            .values(status="dead", next_attempt_at=None)
        )
        session.add_all(
            [
                Source(
                    name="Fine",
                    url="https://fine.example/feed",
                    kind="feed",
                    last_polled_at=now,
                    last_status="ok",
                    last_error="1 of 2 article pages unusable; first: robots: no (https://x/1)",
                ),
                # Never polled: not known to be healthy yet.
                Source(name="New", url="https://new.example/feed", kind="feed"),
                Source(
                    name="Failing",
                    url="https://failing.example/feed",
                    kind="feed",
                    error_count=2,
                    last_status="500",
                    last_error="http: HTTP 500",
                ),
                Source(
                    name="Parked",
                    url="https://parked.example/feed",
                    kind="feed",
                    error_count=10,
                    last_error="timeout: no answer",
                    parked_until=now + timedelta(days=1),
                ),
                Source(name="Off", url="https://off.example/feed", kind="page", enabled=False),
                DeadLetter(topic="drawdown.articles.raw", partition=0, offset=7, error="bad"),
                Process(
                    id="web-1:42:20261121T110000Z",
                    host="web-1",
                    pid=42,
                    roles=["ingest", "process", "dispatch", "api"],
                    started_at=now - timedelta(hours=1),
                    seen_at=now,
                ),
                Process(
                    id="web-2:7:20261120T110000Z",
                    host="web-2",
                    pid=7,
                    roles=["dispatch"],
                    started_at=now - timedelta(hours=20),
                    seen_at=now - timedelta(hours=5),
                ),
            ]
        )


async def test_status_reports_processes_sources_deliveries_and_alerts(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await _fill(engine)
    env = {"DRAWDOWN_DATABASE_URL": database_url, "DRAWDOWN_HEARTBEAT_INTERVAL": str(INTERVAL)}

    code, out, err = await _status(env, tmp_path, "--json")
    assert code == 0, err[-3000:]
    found = json.loads(out)
    assert found["ready"] is True
    assert found["problems"] == []
    assert found["database"]["reachable"] is True
    assert found["database"]["at_head"] is True
    assert found["database"]["url"].split("://")[0] == database_url.split("://")[0]
    assert found["bus"] == {
        "kind": "in-process",
        "ready": True,
        "detail": "in-process (inside drawdown run)",
        "lag": None,
    }
    states = {p["id"]: (p["state"], p["roles"]) for p in found["processes"]}
    assert states == {
        "web-1:42:20261121T110000Z": ("alive", ["ingest", "process", "dispatch", "api"]),
        "web-2:7:20261120T110000Z": ("stale", ["dispatch"]),
    }
    assert found["sources"]["counts"] == {
        "ok": 1,
        "unpolled": 1,
        "erroring": 1,
        "parked": 1,
        "disabled": 1,
    }
    failing = {s["name"]: (s["health"], s["last_error"]) for s in found["sources"]["failing"]}
    assert failing == {
        "Failing": ("erroring", "http: HTTP 500"),
        "Parked": ("parked", "timeout: no answer"),
    }
    assert found["sources"]["noted"] == [
        {
            "name": "Fine",
            "url": "https://fine.example/feed",
            "note": "1 of 2 article pages unusable; first: robots: no (https://x/1)",
        }
    ]
    assert found["dead_letters"] == 1
    assert found["deliveries"] == {"pending": 1, "dead": 1}
    alerts = {(a["place"], a["kind"], a["status"], a["outlets"]) for a in found["alerts"]}
    assert alerts == {
        ("ain-al-asad", "withdrawal", "reported", 1),
        ("qasrak", "withdrawal", "reported", 1),
    }

    code, out, err = await _status(env, tmp_path)
    assert code == 0, err[-3000:]
    lines = out.splitlines()
    assert lines[-1] == "ready"
    assert any(line.startswith("  alive  web-1:42:") for line in lines)
    assert any(line.startswith("  stale  web-2:7:") for line in lines)
    assert "sources       1 ok, 1 not polled yet, 1 erroring, 1 parked, 1 disabled" in lines
    assert "deliveries    1 pending, 1 dead" in lines
    assert (
        "  note      Fine  1 of 2 article pages unusable; first: robots: no (https://x/1)" in lines
    )
    assert any(re.search(r"  qasrak +withdrawal +reported +1 outlet$", line) for line in lines)


async def test_status_names_an_unreachable_database(pg_url: str, tmp_path: Path) -> None:
    env = {"DRAWDOWN_DATABASE_URL": pg_url + "_never_created"}
    code, out, _ = await _status(env, tmp_path, "--json")
    assert code == 1
    found = json.loads(out)
    assert found["ready"] is False
    assert found["database"]["reachable"] is False
    assert found["problems"][0].startswith("database: unreachable")
    assert found["processes"] is None


async def test_status_on_a_database_behind_the_code_says_migrate(tmp_path: Path) -> None:
    (tmp_path / "old.db").touch()  # a SQLite file with no schema at all
    env = {"DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/old.db"}
    code, out, _ = await _status(env, tmp_path)
    assert code == 1
    assert "drawdown migrate" in out.splitlines()[-1]


async def test_status_shows_kafka_lag_per_partition(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    bus = KafkaBus(kafka_settings)
    topic = kafka_settings.topic_raw
    await bus.ensure_topics([topic])
    async with bus.producer() as producer:
        for partition in (0, 0, 2):
            await producer.send(topic, b"{}", partition=partition)
    env = {
        "DRAWDOWN_DATABASE_URL": kafka_settings.database_url,
        "DRAWDOWN_KAFKA_BOOTSTRAP": kafka_settings.kafka_bootstrap or "",
        "DRAWDOWN_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "DRAWDOWN_CONSUMER_GROUP": kafka_settings.consumer_group,
    }
    code, out, err = await _status(env, tmp_path, "--json")
    assert code == 0, err[-3000:]
    bus_status = json.loads(out)["bus"]
    assert bus_status["kind"] == "kafka"
    assert bus_status["ready"] is True
    assert bus_status["group"] == kafka_settings.consumer_group
    lags = {(e["topic"], e["partition"]): e["lag"] for e in bus_status["lag"]}
    assert lags == {(topic, 0): 2, (topic, 1): 0, (topic, 2): 1}

    code, out, _ = await _status(env, tmp_path)
    assert code == 0
    assert f"kafka {kafka_settings.kafka_bootstrap}: ready, lag 3" in out


async def test_status_says_when_kafka_does_not_answer(pg_url: str, tmp_path: Path) -> None:
    env = {
        "DRAWDOWN_DATABASE_URL": pg_url,
        "DRAWDOWN_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
    }
    code, out, _ = await _status(env, tmp_path, "--json")
    assert code == 1
    found = json.loads(out)
    assert found["bus"]["ready"] is False
    assert found["problems"] == [f"bus: {found['bus']['detail']}"]
    assert found["database"]["at_head"] is True
