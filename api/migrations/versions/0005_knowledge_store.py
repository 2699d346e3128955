"""Knowledge store: topics editable in the console, their revisions, other knowledge files.

Revision ID: 0005_knowledge_store
Revises: 0004_insight
Create Date: 2026-12-03 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mjolby.db import UTCDateTime

revision: str = "0005_knowledge_store"
down_revision: str | None = "0004_insight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_topics",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("file_differs", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_email", sa.String(254), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_topics")),
    )
    op.create_table(
        "knowledge_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic_id", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_email", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["knowledge_topics.id"],
                                name=op.f("fk_knowledge_revisions_topic_id_knowledge_topics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"],
                                name=op.f("fk_knowledge_revisions_by_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_revisions")),
    )
    op.create_index("ix_knowledge_revisions_topic_id_id", "knowledge_revisions", ["topic_id", "id"])
    op.create_table(
        "knowledge_files",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_knowledge_files")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_files")
    op.drop_index("ix_knowledge_revisions_topic_id_id", table_name="knowledge_revisions")
    op.drop_table("knowledge_revisions")
    op.drop_table("knowledge_topics")
