"""Full-text search of articles: a tsvector column on PostgreSQL, an FTS5 table on SQLite

Both index ``title || ' ' || text`` after FOLD, the character fold that GET
/articles also applies to ``q`` (services/api/search.py ``SEARCH_FOLD``; a
test holds the two equal). Changing the fold needs a new revision that rebuilds
both indexes.

PostgreSQL: ``articles.search_vector``, a stored generated column holding
``to_tsvector('simple', translate(document, …))``, with a GIN index. The query
reads the column, so neither a match found through the index (a phrase must be
rechecked) nor a match found while walking ``created_at`` newest first parses
the text again: on 50,000 articles of 2 KB, a common term or a phrase took
0.5–4 ms against 80–650 ms with an expression index (docs/api.md). Adding the
column rewrites the table under an exclusive lock (40–45 s for those 50,000
articles), so run ``drawdown migrate`` when ingestion can wait.

SQLite: ``articles_search``, a contentless FTS5 table (``unicode61
remove_diacritics 2``), and ``articles_search_docs``, which maps each FTS5 rowid
(``docid``) to an article id. ``articles`` has a UUID primary key, so its
implicit rowid can change under VACUUM or a table rebuild and cannot be the FTS5
rowid. Contentless, the index keeps no second copy of the text. Triggers on
``articles`` keep both tables in step; ``articles_search_docs.folded`` holds a
document only while a trigger folds it. A later revision that rebuilds
``articles`` on SQLite (``batch_alter_table``) drops these triggers and must
create them again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from services.errors import DatabaseError

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Replaced before indexing; "" drops the character.
FOLD: dict[str, str] = {
    "ی": "ي",  # Persian yeh
    "ى": "ي",  # alef maksura
    "ئ": "ي",  # yeh with hamza
    "ک": "ك",  # Persian keheh
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",  # heh with yeh
    "ە": "ه",  # Kurdish ae
    "ؤ": "و",  # waw with hamza
    "أ": "ا",  # alef with hamza above
    "إ": "ا",  # alef with hamza below
    "آ": "ا",  # alef with madda
    "ٱ": "ا",  # alef wasla
    "ё": "е",
    "Ё": "Е",
    **{chr(0x0660 + digit): str(digit) for digit in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + digit): str(digit) for digit in range(10)},  # Persian digits
    **dict.fromkeys(map(chr, range(0x064B, 0x0660)), ""),  # harakat and hamza marks
    "\u0670": "",  # superscript alef
    "\u0640": "",  # tatweel
    "\u200b": "",  # zero-width space
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",  # zero-width joiner
    "\u200e": "",  # left-to-right mark
    "\u200f": "",  # right-to-left mark
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",  # byte-order mark
}

PG_COLUMN = "search_vector"
PG_INDEX = "ix_articles_search_vector"
FTS = "articles_search"
DOCS = "articles_search_docs"
TRIGGERS = ("articles_search_insert", "articles_search_update", "articles_search_delete")
FOLD_STEP = 12


def _pg_vector() -> str:
    kept = [char for char, into in FOLD.items() if into]
    dropped = [char for char, into in FOLD.items() if not into]
    source = "".join(kept + dropped)
    into = "".join(FOLD[char] for char in kept)
    return (
        f"to_tsvector('simple'::regconfig, translate(title || ' ' || text, '{source}', '{into}'))"
    )


def _fold(where: str) -> list[str]:
    """Statements that fold ``folded`` of the articles_search_docs rows ``where``, in place.
    SQLite has no translate(), and its parser takes only a few dozen nested replace() calls
    in one expression, so the fold takes several statements of FOLD_STEP calls each."""
    items = list(FOLD.items())
    statements = []
    for start in range(0, len(items), FOLD_STEP):
        expression = "folded"
        for char, into in items[start : start + FOLD_STEP]:
            expression = f"replace({expression}, '{char}', '{into}')"
        statements.append(f"UPDATE {DOCS} SET folded = {expression} WHERE {where};")
    return statements


def _sqlite_triggers() -> list[str]:
    """``articles_search_docs.folded`` holds an article's folded document only while a
    trigger indexes it (or, for a contentless table, tells FTS5 what to remove)."""
    new, old = "article_id = new.id", "article_id = old.id"
    new_document, old_document = "new.title || ' ' || new.text", "old.title || ' ' || old.text"
    add = [
        *_fold(new),
        f"INSERT INTO {FTS} (rowid, document) SELECT docid, folded FROM {DOCS} WHERE {new};",
        f"UPDATE {DOCS} SET folded = NULL WHERE {new};",
    ]
    remove = [
        f"UPDATE {DOCS} SET folded = {old_document} WHERE {old};",
        *_fold(old),
        f"INSERT INTO {FTS} ({FTS}, rowid, document) "
        f"SELECT 'delete', docid, folded FROM {DOCS} WHERE {old};",
    ]
    insert, update, delete = TRIGGERS
    bodies = {
        f"{insert} AFTER INSERT": [
            f"INSERT INTO {DOCS} (article_id, folded) VALUES (new.id, {new_document});",
            *add,
        ],
        f"{update} AFTER UPDATE OF id, title, text": [
            *remove,
            f"UPDATE {DOCS} SET article_id = new.id, folded = {new_document} WHERE {old};",
            *add,
        ],
        f"{delete} AFTER DELETE": [*remove, f"DELETE FROM {DOCS} WHERE {old};"],
    }
    return [
        f"CREATE TRIGGER {head} ON articles BEGIN {' '.join(body)} END"
        for head, body in bodies.items()
    ]


def _require_fts5() -> None:
    used = op.get_bind().exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
    if not used.scalar():
        raise DatabaseError(
            "this SQLite library was built without FTS5, which full-text search of articles "
            "needs (revision 0009): run Drawdown on a Python whose sqlite3 module has FTS5 "
            "(CPython's own builds do), or on PostgreSQL"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        vector = sa.Column(PG_COLUMN, TSVECTOR(), sa.Computed(_pg_vector(), persisted=True))
        op.add_column("articles", vector)
        op.create_index(PG_INDEX, "articles", [PG_COLUMN], postgresql_using="gin")
    elif dialect == "sqlite":
        _require_fts5()
        op.execute(
            f"CREATE TABLE {DOCS} (docid INTEGER PRIMARY KEY, "
            f"article_id CHAR(32) NOT NULL UNIQUE, folded TEXT)"
        )
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS} USING fts5(document, content='', "
            f"tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"INSERT INTO {DOCS} (article_id, folded) "
            f"SELECT id, title || ' ' || text FROM articles ORDER BY created_at"
        )
        for statement in _fold("folded IS NOT NULL"):
            op.execute(statement)
        op.execute(f"INSERT INTO {FTS} (rowid, document) SELECT docid, folded FROM {DOCS}")
        op.execute(f"UPDATE {DOCS} SET folded = NULL")
        for trigger in _sqlite_triggers():
            op.execute(trigger)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index(PG_INDEX, table_name="articles")
        op.drop_column("articles", PG_COLUMN)
    elif dialect == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
        op.execute(f"DROP TABLE IF EXISTS {DOCS}")
