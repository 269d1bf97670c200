"""Evidence users can trust: each event's and alert evidence's reason and sentences

An event keeps the reason it was read (in words) and every sentence that decided it,
each with its offsets and language; ``events.language`` is from now on the language
of the main sentence. Alert evidence keeps the same, with the sentence's language in
``evidence_language``: ``alert_articles.language`` stays the article's main language,
which the alert's languages (and so its status) count. Rows stored before keep an
empty reason and no sentences; readers fall back on their one evidence sentence.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reasons() -> list[sa.Column[object]]:
    return [
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("sentences", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for column in _reasons():
            batch.add_column(column)
    with op.batch_alter_table("alert_articles") as batch:
        batch.add_column(sa.Column("evidence_language", sa.String(length=16), nullable=True))
        for column in _reasons():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("alert_articles") as batch:
        for name in ("sentences", "reason", "evidence_language"):
            batch.drop_column(name)
    with op.batch_alter_table("events") as batch:
        for name in ("sentences", "reason"):
            batch.drop_column(name)
