"""services.heartbeat against real databases: the row is written, refreshed and deleted,
and a database that will not take it is a warning, never the end of the process."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services import heartbeat
from services.db import create_engine, sessionmaker
from services.models import Process, utcnow
from services.settings import Settings


async def _rows(engine: AsyncEngine) -> list[Process]:
    async with sessionmaker(engine)() as session:
        return list(await session.scalars(select(Process).order_by(Process.id)))


async def test_a_process_row_is_written_refreshed_and_deleted(engine: AsyncEngine) -> None:
    long_dead = Process(
        id="gone:1:20200101T000000Z",
        host="gone",
        pid=1,
        roles=["api"],
        started_at=utcnow() - timedelta(days=3),
        seen_at=utcnow() - timedelta(days=2),
    )
    async with sessionmaker(engine).begin() as session:
        session.add(long_dead)
    me = heartbeat.this_process(["ingest", "process"])

    assert await heartbeat.beat(engine, me, first=True)
    (row,) = await _rows(engine)  # the first beat dropped the long-dead process's row
    assert (row.id, row.host, row.pid, row.roles) == (me.id, me.host, me.pid, ["ingest", "process"])
    assert row.started_at == me.started_at
    first_seen = row.seen_at

    stop = asyncio.Event()
    beating = asyncio.create_task(heartbeat.keep_beating(engine, me, 0.05, stop))
    deadline = time.monotonic() + 60  # generous: a loaded machine is slow, not wrong
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        (row,) = await _rows(engine)
        if row.seen_at > first_seen:
            break
    stop.set()
    await asyncio.wait_for(beating, 10)
    assert row.seen_at > first_seen

    await heartbeat.forget(engine, me)
    assert await _rows(engine) == []


async def test_a_database_that_refuses_the_beat_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An empty SQLite file: no processes table, so every write fails.
    broken = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/empty.db"))
    me = heartbeat.this_process(["dispatch"])
    try:
        with caplog.at_level(logging.WARNING, logger="services.heartbeat"):
            assert not await heartbeat.beat(broken, me, first=True)
            stop = asyncio.Event()
            beating = asyncio.create_task(heartbeat.keep_beating(broken, me, 0.01, stop))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if len(caplog.records) >= 3:
                    break
                await asyncio.sleep(0.01)
            assert not beating.done()  # still beating despite the failures
            stop.set()
            await asyncio.wait_for(beating, 10)
            await heartbeat.forget(broken, me)
    finally:
        await broken.dispose()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) >= 3
    assert all(m.startswith("heartbeat ") for m in messages)
    assert "heartbeat row not deleted" in messages[-1]
    assert all(getattr(r, "process_id", None) == me.id for r in caplog.records)
