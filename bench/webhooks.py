"""How fast the webhook dispatcher delivers alert events, and how soon after they happen.

A uvicorn receiver (its own process) answers every webhook with 204 and checks the
Standard Webhooks signature of every 100th. A writer process stands in for the
processor: it writes alerts and their ``alert.created`` events as
processor.alerting does — the event row, flushed, then the real
``processor.fanout.fan_out`` — in transactions, for one subscription that takes every
alert and two whose filters take none. The real dispatcher (claims, signed POSTs
over the shared keep-alive client with the SSRF guard, batched attempt writes)
runs in this process. SQLite by default, PostgreSQL when DRAWDOWN_DATABASE_URL is
set (it must be migrated).

Two rounds of EVENTS events each:
- "backlog": every event is written first, then the dispatcher drains them:
  ``deliveries_per_s`` (and ``dispatcher_cpu_ms_per_delivery``).
- "live": events are written at RATE per second while the dispatcher runs:
  ``latency_ms_p50`` / ``latency_ms_p95`` from the event's ``created_at`` to its
  delivery's ``delivered_at``; ``live_rate_offered_per_s`` says what the writer
  managed (on a small machine it competes with everything else for CPU).
  RATE 0 skips this round.

Run from the repo root after `make install`:
    .venv/bin/python bench/webhooks.py [EVENTS] [RATE]      # defaults: 10000 500
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import local_server  # noqa: E402  (bench/, the script's own folder)

from processor.fanout import fan_out  # noqa: E402
from services import logs  # noqa: E402
from services.db import open_database, sessionmaker  # noqa: E402
from services.models import Alert, AlertEvent, Article, Delivery  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.webhooks.dispatcher import Dispatcher  # noqa: E402
from services.webhooks.metrics import WebhookMetrics  # noqa: E402
from services.webhooks.subscriptions import (  # noqa: E402
    SubscriptionSpec,
    generate_secret,
    sync_subscriptions,
)
from services.webhooks.transport import make_webhook_client  # noqa: E402

log = logging.getLogger("bench.webhooks")
SECRET = generate_secret()
PLACES = ("qasrak", "ain-al-asad", "al-tanf", "rmelan", "k1", "harir", "tower-22", "al-omar")
EVENTS_PER_TRANSACTION = 50


# ---- the receiver (its own process) ----------------------------------------------------


def receive(port: int, secret: str, ready: Any) -> None:
    import uvicorn
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(secret)
    seen = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal seen
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen += 1
        status = 204
        if seen % 100 == 0:
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            try:
                signer.verify(body, headers)
            except Exception:  # noqa: BLE001 - a bad signature is a failed delivery
                status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    ready.set()
    server.run()


# ---- writing alert events as the processor does ----------------------------------------


def _snapshot(alert_id: uuid.UUID, place: str, number: int, now: datetime) -> dict[str, Any]:
    return {
        "id": str(alert_id),
        "place": place,
        "kind": "withdrawal",
        "status": "reported",
        "confidence": 0.9,
        "article_count": 1,
        "sighting_count": 0,
        "outlets": ["Bench Outlet"],
        "languages": ["ar"],
        "opened_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "first_seen_at": now.isoformat(),
        "last_seen_at": now.isoformat(),
        "evidence": [
            {
                "article_id": str(uuid.uuid4()),
                "url": f"https://news.example/{number}",
                "title": f"Story {number}",
                "outlet": "Bench Outlet",
                "language": "ar",
                "confidence": 0.9,
                "snippet": "انسحبت القوات الأمريكية من القاعدة صباح اليوم بحسب مصادر محلية " * 3,
            }
        ],
    }


async def write_events(sessions: Any, article_id: uuid.UUID, first: int, count: int) -> int:
    """``count`` new alerts, each with its alert.created event and its deliveries (from
    the real ``fan_out``), in one transaction; how many deliveries."""
    now = datetime.now(UTC)
    alerts = []
    for number in range(first, first + count):
        place = PLACES[number % len(PLACES)]
        alerts.append((uuid.uuid4(), place, number))
    written = 0
    async with sessions.begin() as session:
        await session.execute(
            insert(Alert),
            [
                {
                    "id": alert_id,
                    "place": place,
                    "kind": "withdrawal",
                    "status": "reported",
                    "confidence": 0.9,
                    "first_article_id": article_id,
                    "article_count": 1,
                    "sighting_count": 0,
                    "languages": ["ar"],
                    "outlets": ["Bench Outlet"],
                    "opened_at": now,
                    "updated_at": now,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for alert_id, place, _ in alerts
            ],
        )
        for alert_id, place, number in alerts:
            event = AlertEvent(
                alert_id=alert_id,
                type="alert.created",
                changes={},
                alert=_snapshot(alert_id, place, number, now),
                created_at=datetime.now(UTC),
            )
            session.add(event)
            await session.flush()
            written += await fan_out(session, event)
    return written


async def _delivered(sessions: Any) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
        )
        return int(count or 0)


def _cpu_s() -> float:
    """CPU seconds this process (the dispatcher's) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _wait_delivered(sessions: Any, target: int, name: str, baseline: int) -> None:
    """Until ``target`` more deliveries than ``baseline`` have been delivered."""
    last = -1
    while (done := await _delivered(sessions) - baseline) < target:
        if done - last >= target // 10 or last < 0:
            print(f"{name}: {done}/{target} delivered", file=sys.stderr)
            last = done
        await asyncio.sleep(0.1)
    print(f"{name}: {target}/{target} delivered", file=sys.stderr)


def produce(database_url: str, article_id: str, first: int, count: int, rate: float) -> None:
    """Write ``count`` events at ``rate`` per second (0: as fast as possible), in a
    process of its own, as the processor would."""

    async def run() -> None:
        settings = Settings(database_url=database_url)
        async with open_database(settings) as engine:
            sessions = sessionmaker(engine)
            started = time.perf_counter()
            per_tick = max(1, round(rate * 0.02)) if rate else EVENTS_PER_TRANSACTION
            written = 0
            while written < count:
                batch = min(per_tick, count - written)
                await write_events(sessions, uuid.UUID(article_id), first + written, batch)
                written += batch
                ahead = written / rate - (time.perf_counter() - started) if rate else 0
                if ahead > 0:
                    await asyncio.sleep(ahead)

    logs.configure("WARNING")
    asyncio.run(run())


def _producer(database_url: str, article_id: uuid.UUID, first: int, count: int, rate: float) -> Any:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=produce, args=(database_url, str(article_id), first, count, rate), daemon=True
    )
    process.start()
    return process


async def bench(events: int, rate: float, port: int, workdir: Path) -> dict[str, Any]:
    settings = Settings().model_copy(
        update={
            "database_url": os.environ.get(
                "DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/bench.db"
            ),
            "webhook_allowed_networks": [ipaddress.ip_network("127.0.0.1/32")],
            "log_level": "WARNING",
        }
    )
    url = f"http://127.0.0.1:{port}/hook"
    async with open_database(settings) as engine:
        sessions = sessionmaker(engine)
        async with sessions.begin() as session:
            await sync_subscriptions(
                session,
                [
                    SubscriptionSpec("bench", url, SECRET),
                    SubscriptionSpec("elsewhere", url, SECRET, places=("bashur",)),
                    SubscriptionSpec("disputes only", url, SECRET, kinds=("denial",)),
                ],
            )
            article_id = uuid.uuid4()
            session.add(
                Article(id=article_id, content_hash=uuid.uuid4().hex, text="bench", title="")
            )
        baseline = await _delivered(sessions)  # a reused database may hold earlier runs
        # Round 1: a backlog of `events` events (written by another process), then drain it.
        t0 = time.perf_counter()
        writer = _producer(settings.database_url, article_id, 0, events, 0)
        await asyncio.to_thread(writer.join)
        write_s = time.perf_counter() - t0
        print(f"backlog: {events} events written in {write_s:.1f}s", file=sys.stderr)
        metrics = WebhookMetrics()
        stop = asyncio.Event()
        async with make_webhook_client(settings) as client:
            dispatcher = Dispatcher(settings, engine, client, metrics=metrics)
            started, cpu = time.perf_counter(), _cpu_s()
            running = asyncio.create_task(dispatcher.run(stop))
            await _wait_delivered(sessions, events, "backlog", baseline)
            drain_s = time.perf_counter() - started
            drain_cpu_ms = (_cpu_s() - cpu) * 1000 / events

            # Round 2: events written at `rate` per second while the dispatcher runs.
            live_started = datetime.now(UTC)
            if not rate:  # drain only (for profiling)
                stop.set()
                await running
                return {
                    "deliveries_per_s": round(events / drain_s, 1),
                    "dispatcher_cpu_ms_per_delivery": round(drain_cpu_ms, 2),
                }
            t1 = time.perf_counter()
            writer = _producer(settings.database_url, article_id, events, events, rate)
            await asyncio.to_thread(writer.join)
            offered_s = time.perf_counter() - t1
            await _wait_delivered(sessions, 2 * events, "live", baseline)
            live_s = time.perf_counter() - t1
            stop.set()
            await running
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(AlertEvent.created_at, Delivery.delivered_at)
                    .join(Delivery, Delivery.event_id == AlertEvent.id)
                    .where(AlertEvent.created_at >= live_started)
                )
            ).all()
    lags = sorted((d - c).total_seconds() * 1000 for c, d in rows)
    quantiles = statistics.quantiles(lags, n=100)
    return {
        "benchmark": "webhooks",
        "database": "postgresql" if "postgresql" in settings.database_url else "sqlite",
        "events": events,
        "deliveries_per_s": round(events / drain_s, 1),
        "latency_ms_p50": round(statistics.median(lags), 1),
        "latency_ms_p95": round(quantiles[94], 1),
        "latency_ms_max": round(lags[-1], 1),
        "live_rate_offered_per_s": round(events / offered_s, 1),
        "live_deliveries_per_s": round(events / live_s, 1),
        "attempts": metrics.attempts,
        "dispatcher_cpu_ms_per_delivery": round(drain_cpu_ms, 2),
        "events_written_per_s": round(events / write_s, 1),
        "concurrency": settings.webhook_concurrency,
        "per_subscription_concurrency": settings.webhook_per_subscription_concurrency,
        "peak_rss_mb": round(_rss_mb(), 1),
        "cores": os.cpu_count(),
    }


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 500.0
    logs.configure("WARNING")
    port, server = local_server.spawn(receive, SECRET)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    print(f"receiver on 127.0.0.1:{port}; {events} events per round", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="drawdown-bench-") as workdir:
            figures = asyncio.run(bench(events, rate, port, Path(workdir)))
    finally:
        server.terminate()
        server.join(10)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
