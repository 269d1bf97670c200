"""Database engine, sessions and migrations (SQLAlchemy 2 async + alembic).

PostgreSQL through asyncpg for production, SQLite through aiosqlite for the
embedded default. SQLite files are migrated automatically on first use;
PostgreSQL is migrated by ``drawdown migrate`` (a step of its own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from services.errors import ConfigError, DatabaseError, WriteConflict
from services.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The database is unreachable or the connection broke: callers wait and try again.
UNAVAILABLE = (OperationalError, InterfaceError, OSError, TimeoutError)
# What asyncpg raises while PostgreSQL shuts down or starts up, or on a connection it broke
# off mid-query; SQLAlchemy reports them as plain DBAPIError or InternalError, which
# would read as a bad document. ``_server_gone`` makes them OperationalError (UNAVAILABLE).
_GOING_AWAY = (
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InternalClientError,
)

# PostgreSQL SQLSTATEs a retry of the same transaction gets past: serialization failure,
# deadlock detected, lock not available (lock_timeout), query cancelled (statement_timeout),
# the server shutting down or starting, too many connections; class 08 is connection loss.
TRANSIENT_SQLSTATES = frozenset(
    {"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"}
)


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a database failure that waiting and retrying gets past (the
    database is unreachable, the connection broke, or the transaction lost a race), as
    opposed to one the same input would meet again."""
    if isinstance(exc, (*UNAVAILABLE, WriteConflict)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and (state in TRANSIENT_SQLSTATES or state.startswith("08"))
    return False


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _server_gone(context: ExceptionContext) -> OperationalError | None:
    """A connection lost to a restarting server is a disconnect (the pool drops it) and
    an OperationalError (callers wait and retry), whatever asyncpg called it."""
    cause: BaseException | None = context.original_exception
    while cause is not None and not isinstance(cause, _GOING_AWAY):
        cause = cause.__cause__
    if cause is None:
        return None
    context.is_disconnect = True
    return OperationalError(context.statement, context.parameters, cause)


def create_engine(settings: Settings) -> AsyncEngine:
    # hide_parameters: statement parameters (webhook secrets among them) appear neither in
    # SQLAlchemy's statement logging nor in the text of its exceptions.
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        settings.database_url, pool_size=10, pool_pre_ping=True, hide_parameters=True
    )
    event.listen(engine.sync_engine, "handle_error", _server_gone)
    return engine


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _revisions(connection: Connection) -> tuple[str | None, str | None]:
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


def reason(exc: BaseException) -> str:
    """Why a database could not be used, in one line: the driver's own words, without
    SQLAlchemy's wrapper name and link to its error pages."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    return re.sub(r"^\([\w.]+\) ", "", text)


def cannot_open(engine: AsyncEngine, exc: BaseException) -> DatabaseError:
    where = engine.url.render_as_string(hide_password=True)
    return DatabaseError(f"cannot open the database {where}: {reason(exc)}")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending alembic revision."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def migrate_or_explain(engine: AsyncEngine) -> None:
    """``migrate``, with an unreachable or missing database a DatabaseError of one line."""
    try:
        await migrate(engine)
    except (OSError, SQLAlchemyError) as exc:
        raise cannot_open(engine, exc) from exc


async def check_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        current, head = await connection.run_sync(_revisions)
    if current != head:
        raise ConfigError(
            f"database schema is at {current or 'nothing'}, code expects {head}: "
            "run `drawdown migrate`"
        )


def sqlite_file(settings: Settings) -> Path | None:
    """The file of an SQLite DRAWDOWN_DATABASE_URL (None for PostgreSQL or in memory)."""
    if not settings.is_sqlite:
        return None
    database = make_url(settings.database_url).database
    return Path(database) if database and database != ":memory:" else None


@asynccontextmanager
async def open_database(
    settings: Settings, *, must_exist: bool = False
) -> AsyncIterator[AsyncEngine]:
    """The process's one engine; SQLite is migrated on first use, PostgreSQL must be current.

    ``must_exist``: for commands that only look, a missing SQLite file is an error (most
    likely a mistyped path) rather than a new, empty database."""
    file = sqlite_file(settings)
    if must_exist and file is not None and not file.exists():
        raise DatabaseError(
            f"no database at {file} (DRAWDOWN_DATABASE_URL={settings.database_url}): check "
            "the path; `drawdown run` or `drawdown migrate` creates a new one"
        )
    engine = create_engine(settings)
    try:
        try:
            if settings.is_sqlite:
                await migrate(engine)
            else:
                await check_schema(engine)
        except (OSError, SQLAlchemyError) as exc:
            raise cannot_open(engine, exc) from exc
        yield engine
    finally:
        await engine.dispose()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
