"""Publishing: a release job says which setup model (a new version of the assistant) it replaces.

Revision ID: 0008_model_release
Revises: 0007_feedback
Create Date: 2026-12-03 01:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_model_release"
down_revision: str | None = "0007_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publish_jobs") as batch:
        batch.add_column(sa.Column("release_of", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publish_jobs") as batch:
        batch.drop_column("release_of")
