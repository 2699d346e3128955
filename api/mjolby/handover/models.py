"""Handover cases, their notes and forwards, contact requests, chat availability."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mjolby.db import Base, UTCDateTime, utcnow


class CaseStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a person
    ACTIVE = "active"  # a person has claimed it and chats
    CLOSED = "closed"  # the person ended it with an outcome
    RETURNED = "returned"  # the person handed the conversation back to the bot
    CANCELLED = "cancelled"  # the citizen stopped waiting


OPEN_STATUSES = (CaseStatus.QUEUED.value, CaseStatus.ACTIVE.value)


class Reason(enum.StrEnum):
    USER_REQUEST = "user_request"
    UNRESOLVED = "unresolved"
    SENSITIVE = "sensitive"


class Outcome(enum.StrEnum):
    RESOLVED = "resolved"
    REFERRED = "referred"
    NEEDS_FOLLOW_UP = "needs_follow_up"


class ContactReason(enum.StrEnum):
    CALLBACK = "callback"  # nobody could chat: "contact me"
    SENSITIVE_DATA = "sensitive_data"  # a secure contact request (SEFOS) instead of the chat


class ContactStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class HandoverCase(Base):
    __tablename__ = "handover_cases"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CaseStatus)})", name="status"),
        CheckConstraint(f"reason IN ({_in(Reason)})", name="reason"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(Outcome)})", name="outcome"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
        Index("ix_handover_cases_status_id", "status", "id"),
        Index("ix_handover_cases_conversation_id", "conversation_id"),
        # At most one open case per conversation, whatever races the bot has.
        Index(
            "uq_handover_cases_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'active')"),
            postgresql_where=text("status IN ('queued', 'active')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SET NULL: after retention removes the conversation, the case stays as statistics.
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.QUEUED.value)
    reason: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The name the citizen was shown, as it was then.
    agent_name: Mapped[str | None] = mapped_column(String(80))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    notes: Mapped[list[CaseNote]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseNote.id"
    )
    forwards: Mapped[list[CaseForward]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CaseForward.id"
    )


class CaseNote(Base):
    """A private note on a case; never shown to the citizen."""

    __tablename__ = "handover_case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handover_cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseForward(Base):
    """A case sent on to a förvaltning's function mailbox (recorded; no e-mail is sent)."""

    __tablename__ = "handover_case_forwards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handover_cases.id", ondelete="CASCADE"), index=True)
    mailbox: Mapped[str] = mapped_column(String(254))
    comment: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ContactRequest(Base):
    """A citizen asks to be contacted (phone or e-mail); handled the same or next working day."""

    __tablename__ = "contact_requests"
    __table_args__ = (
        CheckConstraint(f"reason IN ({_in(ContactReason)})", name="reason"),
        CheckConstraint(f"status IN ({_in(ContactStatus)})", name="status"),
        CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="phone_or_email"),
        Index("ix_contact_requests_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(16), default=ContactReason.CALLBACK.value)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    topic: Mapped[str | None] = mapped_column(String(64))
    # What it is about, when the citizen said (masked); optional.
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    handled_by_email: Mapped[str | None] = mapped_column(String(254))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_note: Mapped[str | None] = mapped_column(Text)


class ServiceSetting(Base):
    """Small settings staff change at run time (e.g. closing the chat queue early)."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(254))
