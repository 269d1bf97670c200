"""What the fault tests break and count: role processes, a private PostgreSQL, a durable broker.

- ``Role``: one ``drawdown`` role in a subprocess (its log in the test's folder), started,
  SIGKILLed and restarted at will.
- ``Cluster``: a PostgreSQL cluster of the test's own (initdb and pg_ctl on a free port), which
  the test may stop and start: stopping the shared server would fail every other test.
  Running as root, its commands run as the ``postgres`` OS user (PostgreSQL refuses root).
- ``DurableBroker``: Tansu keeping its log in S3 (moto's server on 127.0.0.1), so messages
  produced before a broker restart are consumed after it.
- ``Counts``: what a database holds, read the same way after a faulted and an undisturbed run;
  ``report`` prints them and gathers them for the end of the pytest run.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ingest.messages import RawArticle
from services.errors import BusError
from services.kafka import KafkaBus
from services.settings import Settings
from tests.conftest import (
    KAFKA_SESSION_TIMEOUT,
    Template,
    fresh_database,
    spawn_drawdown,
    tansu_binary,
)
from tests.servers import free_port

WAIT = 240.0  # seconds any condition may take on a loaded machine: slow is not wrong
REPORTED: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORTED:
        terminalreporter.section("fault counts")
        for line in REPORTED:
            terminalreporter.write_line(line)


def until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.2)


def until_reached(count: Callable[[], int], target: int, what: str, stall: float = WAIT) -> None:
    """Poll ``count`` until it reaches ``target``; fail naming ``what`` only once it has not
    grown for ``stall`` seconds: a loaded machine makes progress slowly, a hang makes none."""
    best, deadline = -1, time.monotonic() + stall
    while (now := count()) < target:
        if now > best:
            best, deadline = now, time.monotonic() + stall
        elif time.monotonic() > deadline:
            pytest.fail(f"stalled for {stall:.0f}s at {best} of {target}: {what}")
        time.sleep(0.2)


def wait_for_port(port: int, process: subprocess.Popen[Any] | None = None) -> None:
    def listening() -> bool:
        assert process is None or process.poll() is None, f"exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    until(listening, f"something listening on 127.0.0.1:{port}", 60)


@pytest.fixture
async def second_pg_url(pg_template: Template) -> str:
    """Another fresh database: where an undisturbed run of the same input goes."""
    return await fresh_database(pg_template)


# ---- role processes ---------------------------------------------------------------------


def env_of(**settings: object) -> dict[str, str]:
    """Settings as a role's environment: ``batch_size=10`` is ``DRAWDOWN_BATCH_SIZE=10``."""
    return {f"DRAWDOWN_{name.upper()}": str(value) for name, value in settings.items()}


def pipeline_env(
    database_url: str, kafka_bootstrap: str, prefix: str, sources: Path, **settings: object
) -> dict[str, str]:
    """A role's environment on this database and broker, with the test's topics, one
    partition (one order of documents for every run), fast polls and short timeouts."""
    defaults: dict[str, object] = dict(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=prefix,
        consumer_group=f"{prefix}-processors",
        topic_partitions=1,
        worker_processes=0,
        batch_size=50,
        kafka_session_timeout=KAFKA_SESSION_TIMEOUT,
        sources=sources,
        log_format="text",
        min_poll_interval=0.5,
        per_host_delay=0,
        fetch_allowed_networks="127.0.0.1/32",
        webhook_allowed_networks="127.0.0.1/32",
        webhook_poll_interval=0.1,
        webhook_backoff_base=0.2,
        webhook_backoff_max=1.0,
        webhook_timeout=2,
        webhook_lease=5,
        heartbeat_interval=1,
    )
    return env_of(**{**defaults, **settings})


async def caught_up(kafka_bootstrap: str, group: str, topic: str) -> bool:
    """``group`` has committed every record of ``topic`` (False while the broker is away)."""
    bus = KafkaBus(Settings(kafka_bootstrap=kafka_bootstrap))
    try:
        lag = await bus.lag(group, [topic])
    except BusError:
        return False
    return bool(lag) and sum(lag.values()) == 0


@dataclass
class Role:
    """``drawdown ROLE`` in a subprocess; every incarnation appends to one log file."""

    role: str
    env: dict[str, str]
    cwd: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    @property
    def log(self) -> Path:
        return self.cwd / f"{self.role}.log"

    def start(self) -> Role:
        with self.log.open("ab") as stderr:
            self.process = spawn_drawdown(
                self.role, env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=stderr
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no drain, no commit, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM and wait: the role drains and exits (its code returned)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(90)
        finally:
            self.process.kill()


@contextmanager
def running(*roles: Role) -> Iterator[tuple[Role, ...]]:
    """Start ``roles``; kill whatever is still running at the end."""
    try:
        for role in roles:
            role.start()
        yield roles
    finally:
        for role in roles:
            if role.alive():
                assert role.process is not None
                role.process.kill()
                role.process.wait(30)


# ---- a PostgreSQL cluster of the test's own ----------------------------------------------


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


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """An initialised, started cluster, removed at the end; skips where PostgreSQL's
    binaries (or, as root, its OS user) are missing."""
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


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster() as made:
        yield made


# ---- a broker that keeps its messages across a restart -----------------------------------


@dataclass
class DurableBroker:
    """Tansu with ``--storage-engine s3://BUCKET/`` on a local moto S3 server."""

    root: Path
    port: int = field(default_factory=free_port)
    s3_port: int = field(default_factory=free_port)
    bucket: str = "drawdown"
    broker: subprocess.Popen[bytes] | None = None
    s3: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "drawdown",
            "AWS_SECRET_ACCESS_KEY": "drawdown",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT": f"http://127.0.0.1:{self.s3_port}",
            "AWS_ALLOW_HTTP": "true",
        }

    def open(self) -> None:
        with (self.root / "s3.log").open("ab") as log:
            self.s3 = subprocess.Popen(
                [_venv_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)],
                stdout=log,
                stderr=log,
            )
        wait_for_port(self.s3_port, self.s3)
        import boto3  # the dev dependency moto brings

        endpoint = f"http://127.0.0.1:{self.s3_port}"
        env = self.environment()
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        ).create_bucket(Bucket=self.bucket)
        self.start()

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        command = [str(tansu_binary()), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url, "--storage-engine", f"s3://{self.bucket}/"]
        with (self.root / "broker.log").open("ab") as log:
            self.broker = subprocess.Popen(command, env=self.environment(), stdout=log, stderr=log)
        wait_for_port(self.port, self.broker)

    async def settle(
        self, send: Callable[[Sequence[RawArticle]], Awaitable[None]], tail: Sequence[RawArticle]
    ) -> None:
        """Publish ``tail`` one document at a time, a pause after each. Tansu 0.6's S3
        engine rewrites the partition's high watermark after acknowledging, and against
        moto an older write can land last: every record batch is stored, but the end
        offset consumers see may trail the newest records until a later produce moves it.
        Unhurried produces at the end of a stream leave it right."""
        for doc in tail:
            await send([doc])
            await asyncio.sleep(0.5)

    def kill(self) -> None:
        assert self.broker is not None
        self.broker.send_signal(signal.SIGKILL)
        self.broker.wait(30)

    def restart(self, down_for: float = 0.0) -> None:
        """SIGKILL the broker, leave it down ``down_for`` seconds, start it on the same port."""
        self.kill()
        time.sleep(down_for)
        self.start()
        self.restarts += 1

    def close(self) -> None:
        for process in (self.broker, self.s3):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def _venv_bin(name: str) -> str:
    """A console script of this environment (moto's ``moto_server``)."""
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else name


@pytest.fixture
def durable_broker(tmp_path: Path) -> Iterator[DurableBroker]:
    if os.environ.get("DRAWDOWN_TEST_KAFKA"):
        pytest.skip(
            "DRAWDOWN_TEST_KAFKA names an Apache Kafka this test does not own: "
            "it restarts no broker there (the restart test runs on its own Tansu)"
        )
    broker = DurableBroker(tmp_path)
    try:
        broker.open()
        yield broker
    finally:
        broker.close()


# ---- counts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What a database holds after a run, in the terms the fault suite compares."""

    processed: int  # documents with a sighting (stored or folded) or a dead letter
    articles: int
    sightings: int  # documents folded into an earlier article (url, content or near)
    dead_letters: int
    alerts: int
    alert_events: int
    doubled_alert_events: int  # the same change of one alert recorded more than once
    deliveries: int

    def story(self) -> dict[str, int]:
        """The counts an undisturbed run of the same input must match."""
        kept = asdict(self)
        del kept["processed"]
        return kept


COUNTS = {
    "processed": "SELECT (SELECT count(*) FROM sightings) + (SELECT count(*) FROM dead_letters)",
    "articles": "SELECT count(*) FROM articles",
    "sightings": "SELECT count(*) FROM sightings WHERE match <> 'new'",
    "dead_letters": "SELECT count(*) FROM dead_letters",
    "alerts": "SELECT count(*) FROM alerts",
    "alert_events": "SELECT count(*) FROM alert_events",
    "doubled_alert_events": (
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM alert_events "
        "GROUP BY alert_id, type, alert->>'status', alert->>'article_count', "
        "alert->>'sighting_count', alert->>'denied_by') AS changes"
    ),
    "deliveries": "SELECT count(*) FROM deliveries",
}


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def counts(url: str) -> Counts:
    connection = await asyncpg.connect(dsn(url))
    try:
        return Counts(**{name: int(await connection.fetchval(q)) for name, q in COUNTS.items()})
    finally:
        await connection.close()


async def processed(url: str) -> int:
    """Documents the processors are done with; -1 while the database does not answer."""
    return await scalar(url, COUNTS["processed"])


async def scalar(url: str, query: str, *args: object) -> int:
    """One count from the database; -1 while it does not answer."""
    try:
        connection = await asyncpg.connect(dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return -1
    try:
        return int(await connection.fetchval(query, *args))
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
        return -1  # a bad query is raised: only the server going away is waited out
    finally:
        await connection.close()


async def delivered(url: str) -> int:
    """Deliveries a dispatcher has recorded as delivered."""
    return await scalar(url, "SELECT count(*) FROM deliveries WHERE status = 'delivered'")


async def stored(url: str, links: list[str]) -> int:
    """How many of ``links`` the processor has seen (as an article or a sighting)."""
    return await scalar(url, "SELECT count(DISTINCT url) FROM sightings WHERE url = any($1)", links)


def report(test: str, **figures: object) -> None:
    """Print a test's counts (and keep them for the end of the run)."""
    line = f"{test}: " + " ".join(f"{key}={value}" for key, value in figures.items())
    print(line)  # noqa: T201 - the suite's counts are its output
    REPORTED.append(line)
