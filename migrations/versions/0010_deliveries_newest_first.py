"""Deliveries listed newest first without sorting the table

GET /deliveries and ``drawdown deliveries`` page through deliveries by
(created_at, id) descending; this index lets both read just one page.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 13:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_created_at_id", "deliveries", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_created_at_id", table_name="deliveries")
