"""The button payload a citizen's message was sent to the bot as.

Revision ID: 0003_message_payload
Revises: 0002_handover_staff
Create Date: 2026-12-02 21:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_message_payload"
down_revision: str | None = "0002_handover_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("payload")
