"""The alembic revisions build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from processor import store
from processor.analyze import analyze
from services.db import alembic_config, check_schema, create_engine, migrate, sessionmaker
from services.models import Base
from services.settings import Settings
from tests.apikit import api_client
from tests.webhookkit import POLICY


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


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


async def test_revision_0012_down_and_up_keeps_the_evidence(
    engine: AsyncEngine, database_url: str
) -> None:
    """A downgrade drops the reasons and sentences, keeping events and evidence; after the
    upgrade they read as evidence stored before 0012 does: one sentence, no reason."""
    text = "US forces withdrew from Ain al-Asad air base on Tuesday, officials said."
    async with sessionmaker(engine).begin() as session:
        stored = await store.save(
            session, RawArticle(text=text, source="A"), analyze("", text), POLICY
        )
    assert stored is not None
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0011")
        assert not {"reason", "sentences"} & await connection.run_sync(_columns, "events")
        assert "evidence_language" not in await connection.run_sync(_columns, "alert_articles")
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "head")
    await check_schema(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
    async with api_client(database_url) as (api, _):
        article = (await api.get(f"/articles/{stored.article_id}")).json()
        (event,) = article["events"]
        assert (event["reason"], event["language"]) == ("", "en")
        assert event["sentences"] == [
            {"text": text, "start": 0, "end": len(text), "language": "en", "reason": ""}
        ]
        (alert,) = article["alerts"]
        (said,) = (await api.get(f"/alerts/{alert['id']}")).json()["articles"]
        assert (said["language"], said["article_language"], said["reason"]) == ("en", "en", "")
        assert [s["text"] for s in said["sentences"]] == [text]
