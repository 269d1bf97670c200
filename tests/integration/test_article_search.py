"""Full-text search (GET /articles?q=) on PostgreSQL and on SQLite: the fold, the query
language, the indexes of revision 0009 with the SQLite triggers, and the revision itself."""

from __future__ import annotations

import random
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
from alembic import command
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from processor.normalize import normalize_text
from services.api.articles import ArticleFilters, article_query
from services.api.search import (
    MAX_SEARCH_WORDS,
    SEARCH_FOLD,
    Search,
    Term,
    fts5_query,
    parse_search,
)
from services.db import alembic_config, check_schema, sessionmaker
from services.models import Article
from tests.apikit import api_client, is_problem

KAF, KEHEH = "\u0643", "\u06a9"  # Arabic and Persian kaf
YEH, FARSI_YEH = "\u064a", "\u06cc"
ZWNJ = "\u200c"

START = datetime(2026, 3, 1, tzinfo=UTC)
# Title and text per key; stored one second apart in this order, so newest first is reversed.
CORPUS = {
    "ar": (
        "القوات الأمريكية تنسحب",
        f"أعلنت القوات الأمريكية انسحابها من قاعدة قَسْرَك قرب {KAF}ر{KAF}و{KAF} في عام ٢٠٢٤.",
    ),
    "fa": (
        "خروج نیروها",
        f"نیروهای آمریکایی از پایگاه عین{ZWNJ}الاسد خارج می{ZWNJ}شوند.",
    ),
    "ku": ("هەواڵ", "هێزەکانی ئەمریکا لە بنکەی حەریر دەکشێنەوە."),
    "ru": (
        "Пентагон о выводе войск",
        "Пентагон заявил о выводе войск из Сирии. Это ещё не решено.",
    ),
    "uk": ("Заява", "У Пентагоні підтвердили офіційну інформацію."),
    "en1": ("Withdrawal", "US forces withdrew from the base on Monday."),
    "en2": ("Coalition", "Forces of the coalition withdrew later, officials said."),
    "tr": ("Türkiye", "Türkiye sınırında asker çekilmesi."),
    "fr": ("Retrait", "Le retrait des forces américaines est confirmé."),
}


async def _add(
    engine: AsyncEngine, corpus: dict[str, tuple[str, str]], start: datetime = START
) -> dict[str, str]:
    """Store ``corpus``, one second apart from ``start``; the article id per key."""
    articles = {
        key: Article(
            content_hash=uuid.uuid4().hex,
            title=title,
            text=body,
            created_at=start + timedelta(seconds=i),
        )
        for i, (key, (title, body)) in enumerate(corpus.items())
    }
    async with sessionmaker(engine)() as session, session.begin():
        session.add_all(articles.values())
    return {key: str(article.id) for key, article in articles.items()}


async def _found(api: httpx.AsyncClient, q: str) -> list[str]:
    response = await api.get("/articles", params={"q": q, "limit": 200})
    assert response.status_code == 200, (q, response.text)
    return [a["id"] for a in response.json()["items"]]


def _is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def test_the_fold_is_the_indexed_one_and_agrees_with_the_reader() -> None:
    revision = ScriptDirectory.from_config(alembic_config()).get_revision("0009")
    assert revision is not None
    assert revision.module.FOLD == SEARCH_FOLD
    for char, into in SEARCH_FOLD.items():
        assert len(into) <= 1
        assert normalize_text(char) == normalize_text(into), (char, into)


def test_parse_search() -> None:
    assert parse_search("forces withdrew") == Search(
        ((Term(("forces",)),), (Term(("withdrew",)),)), ()
    )
    assert parse_search('"forces withdrew"* OR قسرك -"x y" z*') == Search(
        (
            (Term(("forces", "withdrew"), prefix=True), Term(("قسرك",))),
            (Term(("z",), prefix=True),),
        ),
        (Term(("x", "y")),),
    )
    # The fold: Persian letters, ZWNJ and harakat.
    assert parse_search(f"می{ZWNJ}شوند قَسْرَك") == parse_search(f"م{YEH}شوند قسرك")
    # Nothing to look for: punctuation alone, a dangling OR, only exclusions.
    for q in ['"', "(", "*", "-", "OR", "-a -b", '""', "- * ( )"]:
        assert parse_search(q).groups == (), q
    # Operators of FTS5 and tsquery are words or punctuation, never syntax.
    assert parse_search("NEAR( a:* AND") == Search(
        ((Term(("NEAR(",)),), (Term(("a:",), prefix=True),), (Term(("AND",)),)), ()
    )
    assert parse_search("a OR b c").groups == ((Term(("a",)), Term(("b",))), (Term(("c",)),))
    assert parse_search("a or b").words == 3  # only OR in capitals is an operator


@given(st.text(st.sampled_from("ab ق\"()*-+:^{}!&|\\'.,\u200cNEAROT"), max_size=40) | st.text())
def test_every_fts5_query_parses(q: str) -> None:
    """Whatever q is, its MATCH expression is valid FTS5 (real SQLite, in memory)."""
    search = parse_search(q)
    if not search.groups:
        return
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute(
            "CREATE VIRTUAL TABLE s USING fts5(document, content='', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        connection.execute("SELECT rowid FROM s WHERE s MATCH ?", (fts5_query(search),))


async def test_multilingual_search(engine: AsyncEngine, database_url: str) -> None:
    ids = await _add(engine, CORPUS)

    async def finds(q: str) -> set[str]:
        return {key for key, id_ in ids.items() if id_ in await _found(api, q)}

    async with api_client(database_url) as (api, _):
        # Arabic: harakat, hamza on alef and Arabic-Indic digits are folded on both sides.
        assert await finds("قسرك") == {"ar"}
        assert await finds("قَسْرَك") == {"ar"}
        assert await finds("الامريكية") == {"ar"}
        assert await finds("2024") == {"ar"}
        # A Persian spelling finds the Arabic one and the other way round.
        assert await finds(f"{KEHEH}ر{KEHEH}و{KEHEH}") == {"ar"}
        assert await finds(f"ن{YEH}روها{YEH}") == {"fa"}
        assert await finds(f"ن{FARSI_YEH}روها{FARSI_YEH}") == {"fa"}
        # Persian with ZWNJ and with it left out.
        assert await finds(f"می{ZWNJ}شوند") == {"fa"}
        assert await finds("میشوند") == {"fa"}
        assert await finds(f"عین{ZWNJ}الاسد") == {"fa"}
        assert await finds("عینالاسد") == {"fa"}
        assert await finds("ئەمریکا") == {"ku"}
        # Russian and Ukrainian: exact words, no stemming; a prefix reaches the other forms.
        assert await finds("Пентагон") == {"ru"}
        assert await finds("ПЕНТАГОН") == {"ru"}
        assert await finds("Пентагона") == set()
        assert await finds("Пентагоні") == {"uk"}
        assert await finds("Пентагон*") == {"ru", "uk"}
        assert await finds("вывод") == set()
        assert await finds("вывод*") == {"ru"}
        assert await finds("еще") == {"ru"}  # ё is е
        # English: words, phrases, prefixes, OR, exclusion.
        assert await finds("forces withdrew") == {"en1", "en2"}
        assert await finds('"forces withdrew"') == {"en1"}
        assert await finds('"forces withdr"*') == {"en1"}
        assert await finds("withdr*") == {"en1", "en2"}
        assert await finds("forces -coalition") == {"en1", "fr"}
        assert await finds("forces -coalition -US") == {"fr"}
        assert await finds('"forces withdrew" OR Пентагон') == {"en1", "ru"}
        assert await finds("coalition OR Пентагоні officials") == {"en2"}
        assert await finds("NEAR(") == set()  # a word like any other
        assert await finds("zzzqqq") == set()
        # Latin accents: SQLite's tokenizer removes them, PostgreSQL's simple config does not.
        assert await finds("Türkiye") == {"tr"}
        assert await finds("américaines") == {"fr"}
        unaccented = {"tr", "fr"} if _is_sqlite(engine) else set()
        assert await finds("Turkiye OR americaines") == unaccented


async def test_results_stay_newest_first_and_page(engine: AsyncEngine, database_url: str) -> None:
    ids = await _add(engine, CORPUS)
    async with api_client(database_url) as (api, _):
        everything = await _found(api, "forces OR Пентагон* OR قسرك")
        assert everything == [ids[k] for k in ("fr", "en2", "en1", "uk", "ru", "ar")]
        walked: list[str] = []
        params = {"q": "forces OR Пентагон* OR قسرك", "limit": "4"}
        while True:
            body = (await api.get("/articles", params=params)).json()
            walked.extend(a["id"] for a in body["items"])
            if body["next"] is None:
                break
            params["cursor"] = body["next"]
        assert walked == everything


async def test_queries_with_nothing_to_look_for_or_too_much_are_422(
    engine: AsyncEngine, database_url: str
) -> None:
    await _add(engine, CORPUS)
    async with api_client(database_url) as (api, _):
        for q in ['"', "(", "*", "-", "- * ( )", "OR", "-forces", "\x00"]:
            body = is_problem(await api.get("/articles", params={"q": q}), 422)
            assert "no word to look for" in body["detail"]
        too_many = " ".join(f"w{i}" for i in range(MAX_SEARCH_WORDS + 1))
        body = is_problem(await api.get("/articles", params={"q": too_many}), 422)
        assert f"at most {MAX_SEARCH_WORDS}" in body["detail"]
        body = is_problem(await api.get("/articles", params={"q": "a" * 501}), 422)
        assert body["errors"][0]["loc"] == ["query", "q"]
        is_problem(await api.get("/articles", params={"q": ""}), 422)


async def test_no_query_is_a_server_error(engine: AsyncEngine, database_url: str) -> None:
    await _add(engine, CORPUS)
    pieces = [*"\"()*-+:^{}[]!&|\\'.,;~<>@#$%", "OR", "AND", "NOT", "NEAR", "NEAR(", ":*"]
    pieces += ["a", "forces", "قسرك", "می", ZWNJ, "ё", "é", "\u064e", "😀", "²", "_", "\x00", " "]
    rng = random.Random(7)
    queries = ["".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(150)]
    async with api_client(database_url) as (api, _):
        for q in queries:
            response = await api.get("/articles", params={"q": q})
            assert response.status_code in (200, 422), (q, response.text)


async def test_triggers_keep_the_index_in_step(engine: AsyncEngine, database_url: str) -> None:
    ids = await _add(engine, {"a": ("alpha", "first words"), "b": ("beta", "second words")})
    a, b = (uuid.UUID(ids[k]) for k in "ab")
    async with api_client(database_url) as (api, _):
        assert await _found(api, "alpha OR beta") == [ids["b"], ids["a"]]
        async with sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Article).where(Article.id == a).values(title="gamma"))
            await session.execute(
                update(Article).where(Article.id == b).values(alerted_at=datetime.now(UTC))
            )
        assert await _found(api, "alpha") == []
        assert await _found(api, "gamma first") == [ids["a"]]
        assert await _found(api, "beta") == [ids["b"]]
        async with sessionmaker(engine)() as session, session.begin():
            await session.execute(delete(Article).where(Article.id == b))
        assert await _found(api, "words") == [ids["a"]]
        assert await _found(api, "beta OR second") == []
        more = await _add(engine, {"c": ("delta", "third words")}, START + timedelta(hours=1))
        assert await _found(api, "words") == [more["c"], ids["a"]]
    if _is_sqlite(engine):
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO articles_search (articles_search) VALUES ('integrity-check')"
            )
            docs = await connection.exec_driver_sql(
                "SELECT count(*), count(folded) FROM articles_search_docs"
            )
            assert docs.one() == (2, 0)


async def test_the_index_serves_the_query(engine: AsyncEngine) -> None:
    await _add(engine, CORPUS)
    async with engine.connect() as connection:
        query = article_query(
            ArticleFilters(q='"forces withdrew" OR قسرك*'), None, 51, connection.dialect.name
        )
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        if _is_sqlite(engine):
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "SCAN articles_search VIRTUAL TABLE INDEX" in plan, plan
        else:
            # The table is tiny, so leave the planner only the GIN index to avoid a full scan.
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {sql}")
            plan = "\n".join(str(row[0]) for row in rows)
            assert "Bitmap Index Scan on ix_articles_search_vector" in plan, plan


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


async def _search_objects(engine: AsyncEngine) -> set[str]:
    if _is_sqlite(engine):
        sql = "SELECT name FROM sqlite_master WHERE name LIKE 'articles_search%'"
    else:
        sql = (
            "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_articles_search_vector' "
            "UNION SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'articles' AND column_name = 'search_vector'"
        )
    async with engine.connect() as connection:
        return set((await connection.exec_driver_sql(sql)).scalars())


async def test_revision_0009_down_and_up(engine: AsyncEngine, database_url: str) -> None:
    built = await _search_objects(engine)
    if _is_sqlite(engine):
        assert {
            "articles_search",
            "articles_search_docs",
            "articles_search_insert",
            "articles_search_update",
            "articles_search_delete",
        } <= built
    else:
        assert built == {"search_vector", "ix_articles_search_vector"}
    ids = await _add(engine, {"a": ("alpha", "before")})
    for later in ("b", "c"):
        async with engine.begin() as connection:
            await connection.run_sync(_alembic, "downgrade", "0008")
        assert await _search_objects(engine) == set()
        # Articles stored without the index are indexed by the upgrade.
        ids |= await _add(engine, {later: (f"{later}eta", "between")}, START + timedelta(len(ids)))
        async with engine.begin() as connection:
            await connection.run_sync(_alembic, "upgrade", "head")
        assert await _search_objects(engine) == built
        await check_schema(engine)
        async with api_client(database_url) as (api, _):
            assert await _found(api, "alpha") == [ids["a"]]
            assert await _found(api, f"{later}eta between") == [ids[later]]
            assert len(await _found(api, "before OR between")) == len(ids)
