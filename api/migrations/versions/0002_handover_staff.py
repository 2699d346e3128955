"""Handover to Medborgarservice: staff accounts and sessions, audit log, cases,
notes, forwards, contact requests, chat availability; agent names on messages.

Revision ID: 0002_handover_staff
Revises: 0001
Create Date: 2026-11-24 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mjolby.db import UTCDateTime

revision: str = "0002_handover_staff"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('queued', 'active')")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("agent_name", sa.String(80), nullable=True))

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("role IN ('agent', 'editor', 'admin')", name=op.f("ck_staff_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )

    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_staff_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    op.create_index("ix_staff_sessions_last_seen_at", "staff_sessions", ["last_seen_at"])

    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("staff_email", sa.String(254), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("contact_request_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_staff_audit_log_staff_id_staff_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit_log")),
    )
    op.create_index("ix_staff_audit_log_created_at", "staff_audit_log", ["created_at"])
    op.create_index("ix_staff_audit_log_case_id", "staff_audit_log", ["case_id"])
    op.create_index("ix_staff_audit_log_email_action", "staff_audit_log", ["staff_email", "action"])

    op.create_table(
        "handover_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("agent_name", sa.String(80), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'active', 'closed', 'returned', 'cancelled')",
                           name=op.f("ck_handover_cases_status")),
        sa.CheckConstraint("reason IN ('user_request', 'unresolved', 'sensitive')",
                           name=op.f("ck_handover_cases_reason")),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('resolved', 'referred', 'needs_follow_up')",
                           name=op.f("ck_handover_cases_outcome")),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_handover_cases_rating")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_handover_cases_conversation_id_conversations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["claimed_by"], ["staff_users.id"],
                                name=op.f("fk_handover_cases_claimed_by_staff_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ended_by"], ["staff_users.id"],
                                name=op.f("fk_handover_cases_ended_by_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_cases")),
    )
    op.create_index("ix_handover_cases_status_id", "handover_cases", ["status", "id"])
    op.create_index("ix_handover_cases_conversation_id", "handover_cases", ["conversation_id"])
    op.create_index("uq_handover_cases_open_conversation", "handover_cases", ["conversation_id"], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table(
        "handover_case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["handover_cases.id"],
                                name=op.f("fk_handover_case_notes_case_id_handover_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_handover_case_notes_staff_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_case_notes")),
    )
    op.create_index("ix_handover_case_notes_case_id", "handover_case_notes", ["case_id"])

    op.create_table(
        "handover_case_forwards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(254), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["handover_cases.id"],
                                name=op.f("fk_handover_case_forwards_case_id_handover_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_handover_case_forwards_staff_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_case_forwards")),
    )
    op.create_index("ix_handover_case_forwards_case_id", "handover_case_forwards", ["case_id"])

    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("handled_by_email", sa.String(254), nullable=True),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=True),
        sa.CheckConstraint("reason IN ('callback', 'sensitive_data')", name=op.f("ck_contact_requests_reason")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_contact_requests_status")),
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name=op.f("ck_contact_requests_phone_or_email")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_contact_requests_conversation_id_conversations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["handled_by"], ["staff_users.id"],
                                name=op.f("fk_contact_requests_handled_by_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_requests")),
    )
    op.create_index("ix_contact_requests_status_id", "contact_requests", ["status", "id"])

    op.create_table(
        "service_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_service_settings")),
    )


def downgrade() -> None:
    op.drop_table("service_settings")
    op.drop_index("ix_contact_requests_status_id", table_name="contact_requests")
    op.drop_table("contact_requests")
    op.drop_index("ix_handover_case_forwards_case_id", table_name="handover_case_forwards")
    op.drop_table("handover_case_forwards")
    op.drop_index("ix_handover_case_notes_case_id", table_name="handover_case_notes")
    op.drop_table("handover_case_notes")
    op.drop_index("uq_handover_cases_open_conversation", table_name="handover_cases")
    op.drop_index("ix_handover_cases_conversation_id", table_name="handover_cases")
    op.drop_index("ix_handover_cases_status_id", table_name="handover_cases")
    op.drop_table("handover_cases")
    op.drop_index("ix_staff_audit_log_email_action", table_name="staff_audit_log")
    op.drop_index("ix_staff_audit_log_case_id", table_name="staff_audit_log")
    op.drop_index("ix_staff_audit_log_created_at", table_name="staff_audit_log")
    op.drop_table("staff_audit_log")
    op.drop_index("ix_staff_sessions_last_seen_at", table_name="staff_sessions")
    op.drop_index("ix_staff_sessions_staff_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("agent_name")
