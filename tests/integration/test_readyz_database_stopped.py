"""/readyz turns unready when the database is stopped, and ready again when it is back.

The test runs a PostgreSQL cluster of its own (initdb, pg_ctl), because stopping
the shared server on 127.0.0.1:5432 would fail every other test. Running as
root, the cluster's commands run as the ``postgres`` OS user, as PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.api.app import create_app
from services.db import create_engine, migrate
from services.settings import Settings
from tests.apikit import client, is_problem
from tests.servers import free_port

DEADLINE = 60.0  # seconds the app may take to see the database again


def _postgres_bin() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@dataclass
class Cluster:
    """A private PostgreSQL cluster on 127.0.0.1:``port``, its socket in its own directory."""

    bin: Path
    root: Path
    port: int
    runner: tuple[str, ...]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [*self.runner, str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{program} {args}: {result.stdout}{result.stderr}"

    def init(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "postgres.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("no initdb under /usr/lib/postgresql/*/bin (install the postgresql package)")
    root = Path(tempfile.mkdtemp(prefix="drawdown-pg-"))
    runner: tuple[str, ...] = ()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root)
            pytest.skip("running as root, and there is no postgres OS user to run PostgreSQL")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        runner = ("runuser", "-u", "postgres", "--")
    made = Cluster(binaries, root, free_port(), runner)
    try:
        made.init()
        made.start()
        yield made
    finally:
        subprocess.run(
            [*runner, str(binaries / "pg_ctl"), "-D", str(made.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


async def _until_ready(http: httpx.AsyncClient) -> httpx.Response:
    deadline = time.monotonic() + DEADLINE
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_readyz_follows_the_database_down_and_up(cluster: Cluster) -> None:
    settings = Settings(database_url=cluster.url)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with client(create_app(settings, engine)) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}

            await asyncio.to_thread(cluster.stop)
            body = is_problem(await http.get("/readyz"), 503)
            assert body["checks"]["database"].startswith("unreachable"), body
            assert body["detail"].startswith("not ready: database: unreachable")
            assert (await http.get("/healthz")).status_code == 200  # alive all the same

            await asyncio.to_thread(cluster.start)
            again = await _until_ready(http)
            assert again.status_code == 200, again.text
            assert again.json()["checks"] == {"database": "ok", "migrations": "ok"}
    finally:
        await engine.dispose()
