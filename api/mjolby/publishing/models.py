"""Training jobs, the kept model versions and the regression set."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mjolby.db import Base, UTCDateTime, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for the worker
    RUNNING = "running"  # exporting, generating, training, evaluating
    READY = "ready"  # trained and evaluated: waits for an editor to publish it
    PUBLISHED = "published"
    DISCARDED = "discarded"  # an editor threw it away, or a newer job replaced it
    FAILED = "failed"


OPEN_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.READY.value)


class PublishJob(Base):
    """One "Publicera": a candidate model trained by the worker, then published or not."""

    __tablename__ = "publish_jobs"
    __table_args__ = (Index("ix_publish_jobs_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    phase: Mapped[str] = mapped_column(String(40), default="queued")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(80))
    # Where the worker answers "try it" messages with the candidate (a local address).
    lab_url: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    model_path: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    evaluation: Mapped[str | None] = mapped_column(Text)  # JSON: gate.Comparison.as_dict()
    changes: Mapped[str | None] = mapped_column(Text)  # JSON: diff.topic_changes()
    gate_passed: Mapped[bool | None] = mapped_column(Boolean)
    override_reason: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int | None] = mapped_column(Integer)
    # A release job: the fingerprint of the model scripts/setup.sh trained with new code,
    # retrained here on the knowledge store (which has console edits the setup model lacks).
    release_of: Mapped[str | None] = mapped_column(String(64))


class ModelVersion(Base):
    """A published model. The newest MAX_KEPT keep their file and can be rolled back to."""

    __tablename__ = "model_versions"
    __table_args__ = (Index("ix_model_versions_current", "current"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer, default=0)
    kept: Mapped[bool] = mapped_column(Boolean, default=True)
    current: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[int | None] = mapped_column(Integer)
    evaluation: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[str | None] = mapped_column(Text)
    # JSON {topic_id: [examples]} of what it was trained on: the next publish diffs against it.
    knowledge: Mapped[str | None] = mapped_column(Text)


class RegressionItem(Base):
    """A message that every later model must still give this topic (added from the inbox)."""

    __tablename__ = "regression_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)  # masked before it is stored
    topic_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="inbox")
    created_by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
