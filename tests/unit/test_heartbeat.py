"""services.heartbeat's pure part: a process's id, and alive versus stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services import heartbeat

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("silent", "interval", "state"),
    [
        (0.0, 10.0, "alive"),
        (29.0, 10.0, "alive"),
        (30.0, 10.0, "alive"),  # three intervals exactly: not yet missed a third beat
        (30.5, 10.0, "stale"),
        (3600.0, 10.0, "stale"),
        (3600.0, 1800.0, "alive"),
        (-5.0, 10.0, "alive"),  # a clock a little ahead of ours
    ],
)
def test_a_row_is_stale_after_three_missed_heartbeats(
    silent: float, interval: float, state: str
) -> None:
    seen_at = NOW - timedelta(seconds=silent)
    assert heartbeat.liveness(seen_at, NOW, interval) == state


def test_a_process_id_is_host_pid_and_start() -> None:
    assert heartbeat.process_id("web-1", 4242, NOW) == "web-1:4242:20261121T120000Z"
    long_host = "h" * 300
    assert len(heartbeat.process_id(long_host, 4242, NOW)) <= 128


def test_this_process_names_its_roles() -> None:
    me = heartbeat.this_process(["ingest", "process"], started_at=NOW)
    assert me.roles == ("ingest", "process")
    assert me.id == heartbeat.process_id(me.host, me.pid, NOW)
    assert me.started_at == NOW
