"""Topics as editors change them, every saved revision, and the other knowledge files."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mjolby.db import Base, UTCDateTime, utcnow


class KnowledgeTopic(Base):
    """One topic. `data` is the topic's fields as JSON (as in its knowledge/<id>.yml)."""

    __tablename__ = "knowledge_topics"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)  # optimistic locking: +1 on every save
    file_hash: Mapped[str | None] = mapped_column(String(64))  # the knowledge file last imported
    edited: Mapped[bool] = mapped_column(Boolean)  # changed in the console since the file
    file_differs: Mapped[bool] = mapped_column(Boolean)  # edited, and the file has changed too
    retired: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_email: Mapped[str | None] = mapped_column(String(254))


class KnowledgeRevision(Base):
    """Every save of a topic: who, when, the fields before and after (JSON)."""

    __tablename__ = "knowledge_revisions"
    __table_args__ = (Index("ix_knowledge_revisions_topic_id_id", "topic_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("knowledge_topics.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # import, create, edit, retire
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KnowledgeFile(Base):
    """A knowledge file as last imported (topics.yml, organisation.yml, behaviour/, topic files)."""

    __tablename__ = "knowledge_files"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
