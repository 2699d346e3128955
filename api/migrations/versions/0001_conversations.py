"""Conversations, messages and anonymous conversation statistics.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mjolby.db import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("last_topic", sa.String(64), nullable=True),
        sa.Column("client_key", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('bot', 'queued', 'agent', 'closed')", name=op.f("ck_conversations_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])

    op.create_table(
        "messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("extra_topics", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("pii_masked", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "sender IN ('user', 'bot', 'agent', 'system')", name=op.f("ck_messages_sender")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])

    op.create_table(
        "conversation_stats",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("last_topic", sa.String(64), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("user_message_count", sa.Integer(), nullable=False),
        sa.Column("reply_message_count", sa.Integer(), nullable=False),
        sa.Column("pii_masked_count", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_stats")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_conversation_stats_started_at", "conversation_stats", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_stats_started_at", table_name="conversation_stats")
    op.drop_table("conversation_stats")
    op.drop_index("ix_messages_conversation_id_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    op.drop_table("conversations")
