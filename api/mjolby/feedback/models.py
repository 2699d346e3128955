"""Citizen feedback on answers ("Fick du svar på din fråga?") and the inbox of
messages the assistant missed. Every text here is masked before it is stored."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mjolby.conversations.models import MessageId
from mjolby.db import Base, UTCDateTime, utcnow


class ItemKind(enum.StrEnum):
    FALLBACK = "fallback"              # the bot asked to rephrase
    CHOICE = "choice"                  # a "Menade du ...?" suggestion was picked
    LOW_CONFIDENCE = "low_confidence"  # answered, but the classifier was unsure
    NOT_HELPED = "not_helped"          # the citizen answered "Nej"
    LOW_RATING = "low_rating"          # a handover rated 1 or 2
    UNRESOLVED = "unresolved"          # a handover after repeated misunderstandings


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    ADDED = "added"            # added as an example to a topic
    NEW_TOPIC = "new_topic"    # needs a topic that does not exist yet
    DISMISSED = "dismissed"


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class AnswerFeedback(Base):
    """One citizen's Ja or Nej on one bot answer. The counts outlive the
    conversation (its link is cleared); the comment goes with retention."""

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ix_answer_feedback_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(
        MessageId, ForeignKey("messages.id", ondelete="SET NULL"), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    helped: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboxItem(Base):
    """A citizen message the assistant missed or was unsure of, masked."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ItemKind)})", name="kind"),
        CheckConstraint(f"status IN ({_in(ItemStatus)})", name="status"),
        # One item of a kind per message: capturing twice changes nothing.
        UniqueConstraint("kind", "message_id"),
        Index("ix_inbox_items_status_created_at", "status", "created_at"),
        Index("ix_inbox_items_group_key", "group_key"),
        Index("ix_inbox_items_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    # What the citizen asked (masked).
    text: Mapped[str] = mapped_column(Text)
    # The text folded (case, punctuation, spaces): identical questions group together.
    group_key: Mapped[str] = mapped_column(String(200))
    # The topic answered or picked; for a fallback the bot's best guess.
    topic: Mapped[str | None] = mapped_column(String(64))
    # The bot's best guesses, best first.
    guesses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    # The citizen's "Nej" comment (masked).
    comment: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    # The citizen's message (or, for "Nej", the answer rated).
    message_id: Mapped[int | None] = mapped_column(MessageId)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.OPEN.value)
    handled_topic: Mapped[str | None] = mapped_column(String(64))
    handled_by_email: Mapped[str | None] = mapped_column(String(254))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
