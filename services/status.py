"""``drawdown status``: one screen on whether Drawdown can run and what it is doing.

The database (reachable, migrations at head), the bus (Kafka: ready, and the
processors' lag per partition), the processes that report themselves
(services/heartbeat.py), the sources by health (the failing ones with their last
error, healthy ones whose last poll left a note with it), dead letters, webhook
deliveries owed, and the last alerts. Nothing is started and nothing is
created: a SQLite file that does not exist yet stays that way.

``gather`` does the I/O and returns one JSON-ready dict; ``problems`` and
``render`` are pure functions over it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import heartbeat
from services.api.sources import health
from services.db import UNAVAILABLE, check_schema, create_engine, sessionmaker
from services.errors import ConfigError, DrawdownError
from services.kafka import KafkaBus
from services.models import Alert, DeadLetter, Delivery, Process, Source, utcnow
from services.settings import Settings

CHECK_TIMEOUT = 10.0  # seconds each check may take
LAST_ALERTS = 10
# "unpolled": enabled but never polled yet, so not known to be healthy.
HEALTHS = ("ok", "unpolled", "erroring", "parked", "disabled")
IN_PROCESS = "in-process (inside drawdown run)"
NOT_CHECKED = "not checked: the database is not ready"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def missing_sqlite_file(database_url: str) -> str | None:
    """The path of a SQLite database that does not exist yet, else None."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    path = url.database or ""
    if path in ("", ":memory:") or not Path(path).exists():
        return path or ":memory:"
    return None


async def database_section(settings: Settings, engine: AsyncEngine | None) -> dict[str, Any]:
    """``reachable`` and ``at_head`` (the schema is at the code's revision)."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    section: dict[str, Any] = {"url": shown, "reachable": False, "at_head": False}
    if engine is None:
        where = missing_sqlite_file(settings.database_url)
        hint = "`drawdown run` or `drawdown migrate` creates it"
        return {**section, "detail": f"no database yet at {where} ({hint})"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check_schema(engine)
    except ConfigError as exc:
        return {**section, "reachable": True, "detail": str(exc)}
    except (*UNAVAILABLE, SQLAlchemyError) as exc:
        return {**section, "detail": f"unreachable: {_reason(exc)}"}
    return {**section, "reachable": True, "at_head": True, "detail": "migrations at head"}


async def bus_section(settings: Settings) -> dict[str, Any]:
    """Kafka: whether it answers and the processors' consumer-group lag per partition.
    The in-process bus lives inside ``drawdown run``; nothing can be asked of it here."""
    group, topic = settings.consumer_group, settings.topic_raw
    if not settings.kafka_bootstrap:
        return {"kind": "in-process", "ready": True, "detail": IN_PROCESS, "lag": None}
    section: dict[str, Any] = {
        "kind": "kafka",
        "bootstrap": settings.kafka_bootstrap,
        "group": group,
        "topic": topic,
        "ready": False,
        "lag": None,
    }
    bus = KafkaBus(settings)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            ready = await bus.ready()
            if not ready:
                return {
                    **section,
                    "detail": f"not ready: no answer from {settings.kafka_bootstrap}",
                }
            lags = await bus.lag(group, [topic])
    except (DrawdownError, TimeoutError) as exc:
        return {**section, "detail": f"not ready: {_reason(exc)}"}
    by_partition = [
        {"topic": t, "partition": p, "lag": lag} for (t, p), lag in sorted(lags.items())
    ]
    detail = f"ready, lag {sum(lags.values())}" if lags else f"ready, no topic {topic} yet"
    return {**section, "ready": True, "detail": detail, "lag": by_partition}


async def _processes(session: AsyncSession, now: datetime, interval: float) -> list[Any]:
    rows = await session.scalars(select(Process).order_by(Process.started_at, Process.id))
    return [
        {
            "id": row.id,
            "host": row.host,
            "pid": row.pid,
            "roles": list(row.roles),
            "started_at": row.started_at.isoformat(),
            "seen_at": row.seen_at.isoformat(),
            "seen_seconds_ago": round(max((now - row.seen_at).total_seconds(), 0.0), 1),
            "state": heartbeat.liveness(row.seen_at, now, interval),
        }
        for row in rows
    ]


async def _sources(session: AsyncSession) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    failing, noted = [], []
    for source in await session.scalars(select(Source).order_by(Source.name, Source.id)):
        state: str = health(source.enabled, source.parked_until, source.error_count)
        if state == "ok" and source.last_polled_at is None:
            state = "unpolled"
        counts[state] += 1
        if state in ("erroring", "parked"):
            failing.append(
                {
                    "name": source.name,
                    "url": source.url,
                    "health": state,
                    "error_count": source.error_count,
                    "last_status": source.last_status,
                    "last_error": source.last_error,
                }
            )
        elif state == "ok" and source.last_error:  # e.g. some article pages unusable
            noted.append({"name": source.name, "url": source.url, "note": source.last_error})
    return {
        "counts": {name: counts[name] for name in HEALTHS},
        "failing": failing,
        "noted": noted,
    }


async def _alerts(session: AsyncSession) -> list[dict[str, Any]]:
    newest = select(Alert).order_by(Alert.last_seen_at.desc(), Alert.id).limit(LAST_ALERTS)
    return [
        {
            "alert_id": str(alert.id),
            "time": alert.last_seen_at.isoformat(),
            "place": alert.place,
            "kind": alert.kind,
            "status": alert.status,
            "outlets": len(alert.outlets),
        }
        for alert in await session.scalars(newest)
    ]


async def contents(engine: AsyncEngine, now: datetime, interval: float) -> dict[str, Any]:
    """What the database says: processes, sources, dead letters, deliveries, alerts."""
    async with sessionmaker(engine)() as session:
        deliveries = dict(
            (await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)))
            .tuples()
            .all()
        )
        return {
            "processes": await _processes(session, now, interval),
            "sources": await _sources(session),
            "dead_letters": await session.scalar(select(func.count()).select_from(DeadLetter)),
            "deliveries": {
                "pending": deliveries.get("pending", 0),
                "dead": deliveries.get("dead", 0),
            },
            "alerts": await _alerts(session),
        }


def problems(report: dict[str, Any]) -> list[str]:
    """Why Drawdown cannot run as configured: the database and the bus it needs."""
    found = []
    if not report["database"]["at_head"]:
        found.append(f"database: {report['database']['detail']}")
    if not report["bus"]["ready"]:
        found.append(f"bus: {report['bus']['detail']}")
    return found


async def gather(settings: Settings) -> dict[str, Any]:
    """The whole status as one JSON-ready dict, ``ready`` and ``problems`` included."""
    now = utcnow()
    engine = None if missing_sqlite_file(settings.database_url) else create_engine(settings)
    try:
        database = await database_section(settings, engine)
        report: dict[str, Any] = {"database": database, "bus": await bus_section(settings)}
        report.update(dict.fromkeys(("processes", "sources", "dead_letters", "deliveries")))
        report["alerts"] = None
        if engine is not None and database["at_head"]:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    report.update(await contents(engine, now, settings.heartbeat_interval))
            except (*UNAVAILABLE, SQLAlchemyError) as exc:
                database.update(at_head=False, detail=f"unreadable: {_reason(exc)}")
    finally:
        if engine is not None:
            await engine.dispose()
    found = problems(report)
    return {"ready": not found, "problems": found, **report}


# ---- for people ---------------------------------------------------------------------


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _bus_line(bus: dict[str, Any]) -> str:
    if bus["kind"] == "in-process":
        return IN_PROCESS
    line = f"kafka {bus['bootstrap']}: {bus['detail']}"
    if bus["lag"]:
        parts = " ".join(f"{e['partition']}:{e['lag']}" for e in bus["lag"])
        line += f" (group {bus['group']} on {bus['topic']}, per partition {parts})"
    return line


def _process_lines(processes: list[dict[str, Any]], now: datetime) -> list[str]:
    if not processes:
        return ["processes     none reporting (drawdown run or a single role reports here)"]
    lines = [f"processes     {len(processes)}"]
    for p in processes:
        up = _span((now - datetime.fromisoformat(p["started_at"])).total_seconds())
        lines.append(
            f"  {p['state']:<5}  {p['id']}  {','.join(p['roles'])}  "
            f"seen {_span(p['seen_seconds_ago'])} ago, up {up}"
        )
    return lines


def _source_lines(sources: dict[str, Any]) -> list[str]:
    counts = ", ".join(
        f"{n} {'not polled yet' if state == 'unpolled' else state}"
        for state, n in sources["counts"].items()
    )
    lines = [f"sources       {counts}"]
    for s in sources["failing"]:
        error = " ".join((s["last_error"] or "-").split())
        lines.append(f"  {s['health']:<8}  {s['name']}  ({s['error_count']} errors) {error[:80]}")
    for s in sources["noted"]:
        note = " ".join(s["note"].split())
        lines.append(f"  {'note':<8}  {s['name']}  {note[:80]}")
    return lines


def _alert_lines(alerts: list[dict[str, Any]]) -> list[str]:
    if not alerts:
        return ["last alerts   none yet"]
    place = max(len(a["place"]) for a in alerts)
    kind = max(len(a["kind"]) for a in alerts)
    status = max(len(a["status"]) for a in alerts)
    lines = ["last alerts"]
    for a in alerts:
        when = a["time"][:16].replace("T", " ")
        outlets = f"{a['outlets']} outlet{'' if a['outlets'] == 1 else 's'}"
        lines.append(
            f"  {when}  {a['place']:<{place}}  {a['kind']:<{kind}}  {a['status']:<{status}}  "
            + outlets
        )
    return lines


def render(report: dict[str, Any], now: datetime) -> str:
    """The report as a screen for people; its last line says ready or why not."""
    database = report["database"]
    lines = [
        f"database      {database['url']}: {database['detail']}",
        f"bus           {_bus_line(report['bus'])}",
    ]
    if report["processes"] is None:
        lines.append(f"processes, sources, deliveries, alerts: {NOT_CHECKED}")
    else:
        lines += _process_lines(report["processes"], now)
        lines += _source_lines(report["sources"])
        lines.append(f"dead letters  {report['dead_letters']}")
        owed = report["deliveries"]
        lines.append(f"deliveries    {owed['pending']} pending, {owed['dead']} dead")
        lines += _alert_lines(report["alerts"])
    verdict = "ready" if report["ready"] else "not ready: " + "; ".join(report["problems"])
    return "\n".join([*lines, verdict])
