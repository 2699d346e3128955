"""Conversations, their messages, and what is left of them after retention."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mjolby.db import Base, UTCDateTime, utcnow


class State(enum.StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"


class Sender(enum.StrEnum):
    USER = "user"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


def new_conversation_id() -> str:
    return str(uuid.uuid4())


# SQLite only gives an auto-incrementing rowid to a column typed exactly INTEGER.
MessageId = BigInteger().with_variant(Integer(), "sqlite")
# Both are signed 64-bit: a larger id cannot even be compared in a query.
MAX_MESSAGE_ID = 2**63 - 1


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(State)})", name="state"),
        Index("ix_conversations_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_conversation_id)
    state: Mapped[str] = mapped_column(String(16), default=State.BOT.value)
    locale: Mapped[str] = mapped_column(String(8), default="sv")
    last_topic: Mapped[str | None] = mapped_column(String(64))
    # Keyed hash of the client address: rate limits and abuse review without
    # storing the address itself.
    client_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.id",
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"sender IN ({_in(Sender)})", name="sender"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # AUTOINCREMENT: ids are never reused, even after retention deletes the newest rows.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))
    extra_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pii_masked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The name a person at Medborgarservice shows on their messages (revision 0002).
    agent_name: Mapped[str | None] = mapped_column(String(80))
    # The button payload a citizen's message was sent to the bot as, masked (revision 0003).
    payload: Mapped[str | None] = mapped_column(Text)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class ConversationStats(Base):
    """The anonymous remainder of a conversation after the retention period."""

    __tablename__ = "conversation_stats"
    __table_args__ = (Index("ix_conversation_stats_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    last_topic: Mapped[str | None] = mapped_column(String(64))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_message_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_message_count: Mapped[int] = mapped_column(Integer, default=0)
    pii_masked_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime())
