"""Process heartbeats: each running process's row in ``processes``, for ``drawdown status``.

The daemon (services/daemon.py) upserts its row before its roles start and then
every ``DRAWDOWN_HEARTBEAT_INTERVAL`` seconds, and deletes it when it stops. A row
not refreshed for ``STALE_AFTER_BEATS`` intervals belongs to a process that died
or hangs. A failed write is a warning: the database coming and going must never
stop a process that is otherwise doing its work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import UNAVAILABLE
from services.models import Process, utcnow

log = logging.getLogger(__name__)

STALE_AFTER_BEATS = 3
# Rows of processes that died without a word are dropped after this long.
FORGET_AFTER = timedelta(days=1)
WRITE_TIMEOUT = 10.0  # seconds one heartbeat write may take
FAILED = (*UNAVAILABLE, SQLAlchemyError)

Liveness = Literal["alive", "stale"]


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """This process as its row describes it."""

    id: str
    host: str
    pid: int
    roles: tuple[str, ...]
    started_at: datetime


def process_id(host: str, pid: int, started_at: datetime) -> str:
    """``host:pid:start``: unique even when a pid is reused on the host."""
    return f"{host[:96]}:{pid}:{started_at:%Y%m%dT%H%M%SZ}"


def this_process(roles: Sequence[str], started_at: datetime | None = None) -> ProcessInfo:
    host, pid, started = socket.gethostname(), os.getpid(), started_at or utcnow()
    return ProcessInfo(process_id(host, pid, started), host, pid, tuple(roles), started)


def liveness(seen_at: datetime, now: datetime, interval: float) -> Liveness:
    """``stale`` once a row has missed ``STALE_AFTER_BEATS`` heartbeats, else ``alive``."""
    silent = (now - seen_at).total_seconds()
    return "stale" if silent > STALE_AFTER_BEATS * interval else "alive"


def _upsert(engine: AsyncEngine, me: ProcessInfo, now: datetime) -> Any:
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Process).values(
        id=me.id,
        host=me.host,
        pid=me.pid,
        roles=list(me.roles),
        started_at=me.started_at,
        seen_at=now,
    )
    return statement.on_conflict_do_update(
        index_elements=[Process.id], set_={"seen_at": now, "roles": list(me.roles)}
    )


async def beat(engine: AsyncEngine, me: ProcessInfo, *, first: bool = False) -> bool:
    """Write this process's row now; the first beat also drops long-dead processes'
    rows. False (with a warning) if the database would not take it."""
    now = utcnow()
    try:
        async with asyncio.timeout(WRITE_TIMEOUT), engine.begin() as connection:
            await connection.execute(_upsert(engine, me, now))
            if first:
                await connection.execute(
                    delete(Process).where(Process.seen_at < now - FORGET_AFTER)
                )
    except FAILED as exc:
        log.warning(
            "heartbeat not written process_id=%s error=%s",
            me.id,
            exc,
            extra={"process_id": me.id},
        )
        return False
    return True


async def forget(engine: AsyncEngine, me: ProcessInfo) -> None:
    """Delete this process's row: it is stopping cleanly."""
    try:
        async with asyncio.timeout(WRITE_TIMEOUT), engine.begin() as connection:
            await connection.execute(delete(Process).where(Process.id == me.id))
    except FAILED as exc:
        log.warning(
            "heartbeat row not deleted (it goes stale) process_id=%s error=%s",
            me.id,
            exc,
            extra={"process_id": me.id},
        )


async def keep_beating(
    engine: AsyncEngine, me: ProcessInfo, interval: float, stop: asyncio.Event
) -> None:
    """Beat every ``interval`` seconds until ``stop`` is set."""
    while True:
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            await beat(engine, me)
