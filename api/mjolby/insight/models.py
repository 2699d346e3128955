"""Daily aggregates of the insight page; they outlive the retention purge.

One row is one count for one day (Europe/Stockholm) and one metric, optionally
split by topic and by a key (a reason, an outcome, a rating, minutes waited).
No row holds message text, a conversation id or anything about a person.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mjolby.conversations.models import Conversation, Message
from mjolby.db import Base, UTCDateTime
from mjolby.handover.models import ContactRequest, HandoverCase


class InsightDaily(Base):
    __tablename__ = "insight_daily"
    __table_args__ = (Index("ix_insight_daily_metric_day", "metric", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    key: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    value: Mapped[int] = mapped_column(BigInteger)


class InsightDay(Base):
    """A day whose aggregates are stored. Not final: rolled up again while its
    conversations may still change (see rollup.SETTLE_DAYS)."""

    __tablename__ = "insight_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    final: Mapped[bool] = mapped_column(Boolean, default=False)


# What a day's roll-up reads from the live tables (created in revision 0004).
Index("ix_conversations_created_at", Conversation.created_at)
Index("ix_messages_created_at", Message.created_at)
Index("ix_handover_cases_created_at", HandoverCase.created_at)
Index("ix_contact_requests_created_at", ContactRequest.created_at)
