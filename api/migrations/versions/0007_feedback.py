"""Citizen feedback on answers and the unanswered-question inbox.

Revision ID: 0007_feedback
Revises: 0006_publishing
Create Date: 2026-12-03 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mjolby.db import UTCDateTime

revision: str = "0007_feedback"
down_revision: str | None = "0006_publishing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MessageId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("message_id", MessageId, nullable=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("helped", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_answer_feedback_conversation_id_conversations"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_answer_feedback_message_id_messages"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
        sa.UniqueConstraint("message_id", name=op.f("uq_answer_feedback_message_id")),
    )
    op.create_index("ix_answer_feedback_created_at", "answer_feedback", ["created_at"])

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("guesses", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("message_id", MessageId, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handled_topic", sa.String(64), nullable=True),
        sa.Column("handled_by_email", sa.String(254), nullable=True),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('fallback', 'choice', 'low_confidence', 'not_helped', 'low_rating', 'unresolved')",
            name=op.f("ck_inbox_items_kind")),
        sa.CheckConstraint("status IN ('open', 'added', 'new_topic', 'dismissed')",
                           name=op.f("ck_inbox_items_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("kind", "message_id", name=op.f("uq_inbox_items_kind")),
    )
    op.create_index("ix_inbox_items_status_created_at", "inbox_items", ["status", "created_at"])
    op.create_index("ix_inbox_items_group_key", "inbox_items", ["group_key"])
    op.create_index("ix_inbox_items_created_at", "inbox_items", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_items_created_at", table_name="inbox_items")
    op.drop_index("ix_inbox_items_group_key", table_name="inbox_items")
    op.drop_index("ix_inbox_items_status_created_at", table_name="inbox_items")
    op.drop_table("inbox_items")
    op.drop_index("ix_answer_feedback_created_at", table_name="answer_feedback")
    op.drop_table("answer_feedback")
