"""End to end: the seeds replayed by the command line raise an Ain al-Asad withdrawal alert,
and `drawdown dispatch` delivers it, signed, to the one subscription that wants it."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

from tests.conftest import SEEDS, drawdown_cli, spawn_drawdown
from tests.servers import local_server
from tests.webhookkit import Receiver


def _start_dispatch(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return spawn_drawdown("dispatch", env=env, cwd=cwd, stderr=subprocess.PIPE, text=True)


async def test_replayed_seeds_reach_the_ain_al_asad_subscriber(tmp_path: Path) -> None:
    receiver = Receiver()
    async with local_server() as server:
        url = receiver.mount(server)
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "sources: []\n"
            "subscriptions:\n"
            "  - name: ain al-asad desk\n"
            f"    url: {url}\n"
            f"    secret: {receiver.secret}\n"
            "    places: [ain-al-asad]\n"
            "    kinds: [withdrawal]\n",
            encoding="utf-8",
        )
        env = {
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "DRAWDOWN_WEBHOOK_POLL_INTERVAL": "0.1",
        }
        replay = await asyncio.to_thread(
            drawdown_cli, "replay", str(SEEDS), "--json", env=env, cwd=tmp_path
        )
        assert replay.returncode == 0, replay.stderr[-3000:]
        alerts = [
            alert
            for line in replay.stdout.splitlines()
            for alert in json.loads(line).get("alerts", [])
            if alert["place"] == "ain-al-asad" and alert["kind"] == "withdrawal"
        ]
        assert alerts
        assert alerts[0]["new"]

        dispatch = _start_dispatch(env, tmp_path)
        try:
            for _ in range(300):
                if receiver.received:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # time enough for anything that should not come
            dispatch.send_signal(signal.SIGTERM)
            _, log = await asyncio.to_thread(dispatch.communicate, timeout=30)
        finally:
            dispatch.kill()
    assert dispatch.returncode == 0, log
    created = [r for r in receiver.received if json.loads(r.body)["type"] == "alert.created"]
    (got,) = created
    assert got.payload is not None, "the signature did not verify"
    alert = got.payload["data"]["alert"]
    assert (alert["place"], alert["kind"], alert["id"]) == (
        "ain-al-asad",
        "withdrawal",
        alerts[0]["alert_id"],
    )
    assert all(r.payload["data"]["alert"]["place"] == "ain-al-asad" for r in receiver.received)
    assert "dispatcher stopped" in log
