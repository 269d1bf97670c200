"""Alert lifecycle: outlets, sightings, first seen, alert events (outbox), article latency

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:44:40.595320
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("alert", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_events_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_events_published_at"), ["published_at"], unique=False
        )

    with op.batch_alter_table("alert_articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outlet", sa.String(length=256), server_default="", nullable=False)
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outlets", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("sighting_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE alerts SET first_seen_at = opened_at")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column(
            "first_seen_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("alerted_at")
        batch_op.drop_column("processed_at")
        batch_op.drop_column("fetched_at")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("first_seen_at")
        batch_op.drop_column("sighting_count")
        batch_op.drop_column("outlets")

    with op.batch_alter_table("alert_articles", schema=None) as batch_op:
        batch_op.drop_column("outlet")

    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_events_published_at"))
        batch_op.drop_index(batch_op.f("ix_alert_events_alert_id"))

    op.drop_table("alert_events")
