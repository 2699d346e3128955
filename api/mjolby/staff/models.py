"""Staff accounts, their sign-in sessions and the audit log."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mjolby.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    AGENT = "agent"  # answers citizens: queue, cases, contact requests
    EDITOR = "editor"  # maintains the knowledge (not the queue)
    ADMIN = "admin"  # everything, plus accounts, audit log and chat availability
    LEAD = "lead"  # team lead at Medborgarservice: the insight page (revision 0004)


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(f"role IN ({_in(Role)})", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # The first name citizens see ("Anna på Medborgarservice"); empty: "en medarbetare".
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sessions: Mapped[list[StaffSession]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", passive_deletes=True
    )


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "staff_sessions"
    __table_args__ = (
        Index("ix_staff_sessions_staff_id", "staff_id"),
        Index("ix_staff_sessions_last_seen_at", "last_seen_at"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    staff: Mapped[StaffUser] = relationship(back_populates="sessions")


class AuditEntry(Base):
    """Who did what: opening a transcript, claiming, closing, signing in."""

    __tablename__ = "staff_audit_log"
    __table_args__ = (
        Index("ix_staff_audit_log_created_at", "created_at"),
        Index("ix_staff_audit_log_case_id", "case_id"),
        Index("ix_staff_audit_log_email_action", "staff_email", "action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Kept as written so that the log still says who after an account is removed.
    staff_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer)
    contact_request_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
