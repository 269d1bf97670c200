"""Alerts remember who denied them and who answered: statuses follow both sides

A denial used to set ``disputed`` outright and the next report of the claim could
set ``confirmed`` again, so one story flipped back and forth with every article.
An alert now keeps the outlets that denied it, when the first denial was seen,
and the other outlets that reported it since (processor/alerts.py). Alerts already
disputed count as denied at their last update, by an outlet not known.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch (copy-and-move) of SQLite's alerts is
    # not needed for nullable or defaulted columns.
    op.add_column(
        "alerts", sa.Column("denied_by", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
    )
    op.add_column("alerts", sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "alerts",
        sa.Column("answered_by", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    )
    op.execute("UPDATE alerts SET disputed_at = updated_at WHERE status = 'disputed'")


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("answered_by")
        batch_op.drop_column("disputed_at")
        batch_op.drop_column("denied_by")
