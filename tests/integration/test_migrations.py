"""The alembic revisions build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from services.db import create_engine, migrate
from services.models import Base
from services.settings import Settings


def _modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """As migrations/env.py: the full-text search schema (revision 0009) is not modelled."""
    return not (name or "").startswith(("articles_search", "search_vector", "ix_articles_search"))


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": _modelled}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_postgres_schema_matches_models(pg_url: str) -> None:
    engine = create_engine(Settings(database_url=pg_url))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_sqlite_schema_matches_models(tmp_path: Path) -> None:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/m.db"))
    try:
        await migrate(engine)
        await migrate(engine)  # a second run is a no-op
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
