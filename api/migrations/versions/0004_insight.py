"""Insight for Medborgarservice: daily aggregates that outlive the retention
purge, the days already rolled up, and the team lead role.

Revision ID: 0004_insight
Revises: 0003_message_payload
Create Date: 2026-12-03 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mjolby.db import UTCDateTime

revision: str = "0004_insight"
down_revision: str | None = "0003_message_payload"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('agent', 'editor', 'admin')"
ROLES_AFTER = "role IN ('agent', 'editor', 'admin', 'lead')"


def upgrade() -> None:
    op.create_table(
        "insight_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "topic", "key", name=op.f("pk_insight_daily")),
    )
    op.create_index("ix_insight_daily_metric_day", "insight_daily", ["metric", "day"])

    op.create_table(
        "insight_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_at", UTCDateTime(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_insight_days")),
    )

    # What the insight page reads from the live tables for days not yet rolled up.
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    # A day's messages are one range of it (see mjolby/insight/rollup.py).
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_index("ix_handover_cases_created_at", "handover_cases", ["created_at"])
    op.create_index("ix_contact_requests_created_at", "contact_requests", ["created_at"])

    with op.batch_alter_table("staff_users") as batch:
        batch.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch.create_check_constraint("role", sa.text(ROLES_AFTER))


def downgrade() -> None:
    op.execute("UPDATE staff_users SET role = 'agent' WHERE role = 'lead'")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_constraint(op.f("ck_staff_users_role"), type_="check")
        batch.create_check_constraint("role", sa.text(ROLES_BEFORE))
    op.drop_index("ix_contact_requests_created_at", table_name="contact_requests")
    op.drop_index("ix_handover_cases_created_at", table_name="handover_cases")
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_table("insight_days")
    op.drop_index("ix_insight_daily_metric_day", table_name="insight_daily")
    op.drop_table("insight_daily")
