"""Origin of sources and subscriptions: the sources file or the API

A reload of the sources file disables the rows it no longer lists; rows made
through the API are not the file's to disable.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 12:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sources", "subscriptions")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("origin", sa.String(length=8), server_default="file", nullable=False)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("origin")
