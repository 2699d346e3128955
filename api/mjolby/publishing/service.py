"""Publishing: jobs for the training worker, the quality gate's outcome,
versions, rollback and the regression set.

Plain synchronous functions that take the session as `db=`; each says
whether it commits. The worker (worker.py) does the slow parts; nothing here
trains or loads a model.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mjolby.errors import Conflict, Forbidden, InvalidInput, NotFound
from mjolby.knowledge_store.service import console_edited_topics
from mjolby.publishing import files
from mjolby.publishing.models import OPEN_STATUSES, JobStatus, ModelVersion, PublishJob, RegressionItem
from mjolby.staff.models import AuditEntry, Role
from mjolby.staff.service import StaffContext, audit
from mjolby_pii import mask_text

log = logging.getLogger("mjolby.publishing")

# Published models whose file is kept for rollback.
MAX_KEPT = 10
# A running job whose worker has said nothing for this long has died with it.
STALE_AFTER = timedelta(minutes=10)
MAX_OVERRIDE_REASON = 1000

ALREADY_RUNNING = "En träning pågår redan. Vänta tills den är klar."
NOT_READY = "Den här modellen kan inte publiceras (den är inte färdigtränad eller redan hanterad)."
OVERRIDE_ADMIN_ONLY = "Kvalitetskontrollen stoppade modellen. Bara en administratör kan publicera den ändå."
OVERRIDE_REASON_NEEDED = "Skriv varför modellen ska publiceras trots kvalitetskontrollen."
VERSION_GONE = "Den versionen finns inte längre kvar och kan inte återställas."
NO_SUCH_VERSION = "Versionen finns inte."
NO_SUCH_JOB = "Publiceringen finns inte."
SYSTEM_EMAIL = "system"
# Why a new setup model (new code or pipeline) was published or retrained, in the audit log.
RELEASE_REASON = "ny version av assistenten"
RELEASE_NOTE = "Ny version av assistenten"


def _end_reads(db: Session) -> None:
    """End the reading transaction before writing. On SQLite (WAL) a transaction
    that read and then writes fails at once when another connection wrote in
    between (citizens chatting do, all the time); one that starts with its write
    waits for the lock instead."""
    db.commit()


# --------------------------------------------------------------------------
# Versions


def current_version(*, db: Session) -> ModelVersion | None:
    return db.scalars(select(ModelVersion).where(ModelVersion.current.is_(True))
                      .order_by(ModelVersion.id.desc()).limit(1)).first()


def version_file(version: ModelVersion, data_dir: Path) -> Path:
    return files.versions_dir(data_dir) / version.file_name


def ensure_registered(*, db: Session, data_dir: Path, now: datetime) -> ModelVersion | None:
    """The current version; when none is registered yet, the model setup trained
    (DATA_DIR/models/current.tar.gz) becomes version 1. Commits when it registers."""
    version = current_version(db=db)
    if version is not None:
        return version
    if db.scalars(select(ModelVersion.id).limit(1)).first() is not None:
        return None  # versions exist but none is current: leave it to an editor
    source = files.models_dir(data_dir) / files.SETUP_MODEL
    if not source.is_file():
        return None
    fp = files.fingerprint(source)
    name = f"{fp}.tar.gz"
    files.keep(source, files.versions_dir(data_dir) / name)
    _end_reads(db)
    version = ModelVersion(fingerprint=fp, file_name=name, size=source.stat().st_size, kept=True, current=True,
                           note="Modellen från installationen", created_by_email=SYSTEM_EMAIL,
                           created_at=now, activated_at=now)
    db.add(version)
    db.commit()
    return version


def list_versions(*, db: Session, limit: int = 50) -> list[ModelVersion]:
    return list(db.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)))


def get_version(*, db: Session, version_id: int) -> ModelVersion:
    version = db.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(NO_SUCH_VERSION, "no_such_version")
    return version


def _make_current(db: Session, version: ModelVersion, now: datetime) -> None:
    db.execute(update(ModelVersion).where(ModelVersion.current.is_(True), ModelVersion.id != version.id)
               .values(current=False))
    version.current = True
    version.activated_at = now


def rollback(*, db: Session, staff: StaffContext, version_id: int, data_dir: Path, now: datetime) -> ModelVersion:
    """Serve a kept earlier version again: no training; Rasa pulls it within seconds.
    Written to the audit log. Commits."""
    version = get_version(db=db, version_id=version_id)
    if not version.kept or not version_file(version, data_dir).is_file():
        raise Conflict(VERSION_GONE, "version_gone")
    if not version.current:
        _end_reads(db)
        _make_current(db, version, now)
        audit(db=db, staff=staff, action="rollback_model", now=now,
              detail=f"version {version.id} ({version.fingerprint[:12]})")
        db.commit()
    return version


def _prune(db: Session, data_dir: Path) -> None:
    """Keep the files of the newest MAX_KEPT versions (and always the current one)."""
    kept = list(db.scalars(select(ModelVersion).where(ModelVersion.kept.is_(True))
                           .order_by(ModelVersion.id.desc())))
    in_use = {v.file_name for v in kept[:MAX_KEPT]} | {v.file_name for v in kept if v.current}
    for version in kept[MAX_KEPT:]:
        if version.current:
            continue
        version.kept = False
        if version.file_name not in in_use:
            version_file(version, data_dir).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# Jobs


def get_job(*, db: Session, job_id: int) -> PublishJob:
    job = db.get(PublishJob, job_id)
    if job is None:
        raise NotFound(NO_SUCH_JOB, "no_such_job")
    return job


def latest_job(*, db: Session) -> PublishJob | None:
    return db.scalars(select(PublishJob).order_by(PublishJob.id.desc()).limit(1)).first()


def list_jobs(*, db: Session, limit: int = 20) -> list[PublishJob]:
    return list(db.scalars(select(PublishJob).order_by(PublishJob.id.desc()).limit(limit)))


def request_publish(*, db: Session, staff: StaffContext, note: str, now: datetime) -> PublishJob:
    """Queue a training of the knowledge as it is now. A candidate that waits to
    be published is replaced. One training at a time. Commits."""
    _end_reads(db)
    db.execute(update(PublishJob).where(PublishJob.status == JobStatus.READY.value)
               .values(status=JobStatus.DISCARDED.value, finished_at=now))
    busy = db.scalars(select(PublishJob).where(
        PublishJob.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))).first()
    if busy is not None:
        db.rollback()
        raise Conflict(ALREADY_RUNNING, "already_running")
    job = PublishJob(status=JobStatus.QUEUED.value, phase="queued", percent=0, note=mask_text(note.strip())[:500],
                     created_by_id=staff.staff_id, created_by_email=staff.email, created_at=now)
    db.add(job)
    db.flush()
    audit(db=db, staff=staff, action="request_publish", now=now, detail=f"job {job.id}")
    db.commit()
    return job


def claim_next_job(*, db: Session, worker: str, now: datetime) -> PublishJob | None:
    """The oldest queued job, now running for `worker` (one claim wins). Running
    jobs whose worker went silent are failed first. Commits."""
    db.execute(update(PublishJob).where(PublishJob.status == JobStatus.RUNNING.value,
                                        PublishJob.heartbeat_at < now - STALE_AFTER)
               .values(status=JobStatus.FAILED.value, finished_at=now,
                       error="Träningen avbröts (arbetsprocessen slutade svara)."))
    db.commit()
    job_id = db.scalars(select(PublishJob.id).where(PublishJob.status == JobStatus.QUEUED.value)
                        .order_by(PublishJob.id).limit(1)).first()
    if job_id is None:
        return None
    _end_reads(db)
    claimed = db.execute(update(PublishJob).where(PublishJob.id == job_id,
                                                  PublishJob.status == JobStatus.QUEUED.value)
                         .values(status=JobStatus.RUNNING.value, phase="export", percent=1, worker=worker[:80],
                                 started_at=now, heartbeat_at=now))
    db.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = db.get(PublishJob, job_id)
    if job is not None:
        db.refresh(job)
    return job


def set_progress(*, db: Session, job_id: int, phase: str, percent: int, now: datetime) -> None:
    """The worker's phase and percentage; also its heartbeat. Commits."""
    db.execute(update(PublishJob).where(PublishJob.id == job_id, PublishJob.status == JobStatus.RUNNING.value)
               .values(phase=phase, percent=max(0, min(100, percent)), heartbeat_at=now))
    db.commit()


def job_failed(*, db: Session, job_id: int, error: str, now: datetime) -> None:
    db.execute(update(PublishJob).where(PublishJob.id == job_id)
               .values(status=JobStatus.FAILED.value, error=error[:4000], finished_at=now))
    db.commit()


def job_ready(*, db: Session, job_id: int, model_path: Path, evaluation: dict[str, Any],
              changes: dict[str, Any], lab_url: str | None, now: datetime) -> None:
    """The candidate is trained and evaluated; it waits for an editor. Commits."""
    db.execute(update(PublishJob).where(PublishJob.id == job_id).values(
        status=JobStatus.READY.value, phase="ready", percent=100, finished_at=now, heartbeat_at=now,
        model_path=str(model_path), fingerprint=files.fingerprint(model_path),
        evaluation=json.dumps(evaluation, ensure_ascii=False), changes=json.dumps(changes, ensure_ascii=False),
        gate_passed=bool(evaluation.get("passed")), lab_url=lab_url))
    db.commit()


def discard_job(*, db: Session, staff: StaffContext, job_id: int, now: datetime) -> None:
    job = get_job(db=db, job_id=job_id)
    if job.status not in OPEN_STATUSES:
        return
    _end_reads(db)
    job.status = JobStatus.DISCARDED.value
    job.finished_at = now
    audit(db=db, staff=staff, action="discard_model", now=now, detail=f"job {job.id}")
    db.commit()


def publish_job(*, db: Session, staff: StaffContext, job_id: int, data_dir: Path, now: datetime,
                override_reason: str = "") -> ModelVersion:
    """Make a ready candidate the published version. When the gate refused it,
    only an admin may, with a reason (both go to the audit log). Commits."""
    job = get_job(db=db, job_id=job_id)
    if job.status != JobStatus.READY.value or not job.model_path:
        raise Conflict(NOT_READY, "not_ready")
    reason = mask_text(override_reason.strip())[:MAX_OVERRIDE_REASON]
    if not job.gate_passed:
        if staff.role != Role.ADMIN.value:
            raise Forbidden(OVERRIDE_ADMIN_ONLY, "override_admin_only")
        if not reason:
            raise InvalidInput(OVERRIDE_REASON_NEEDED, "override_reason_needed")
    version = _publish(db, job, data_dir, now, by_id=staff.staff_id, by_email=staff.email)
    job.override_reason = reason if not job.gate_passed else None
    detail = f"version {version.id} ({version.fingerprint[:12]}) from job {job.id}"
    if not job.gate_passed:
        audit(db=db, staff=staff, action="publish_override", now=now, detail=f"{detail}; reason: {reason}")
    else:
        audit(db=db, staff=staff, action="publish_model", now=now, detail=detail)
    _prune(db, data_dir)
    db.commit()
    return version


def _publish(db: Session, job: PublishJob, data_dir: Path, now: datetime, *, by_id: int | None,
             by_email: str) -> ModelVersion:
    """Keep the job's model as a version and make it current (the caller audits and commits)."""
    if job.status != JobStatus.READY.value or not job.model_path:
        raise Conflict(NOT_READY, "not_ready")
    source = Path(job.model_path)
    if not source.is_file():
        raise Conflict(NOT_READY, "not_ready")
    fp = files.fingerprint(source)
    name = f"{fp}.tar.gz"
    files.keep(source, files.versions_dir(data_dir) / name)
    knowledge = _knowledge_of(job)
    _end_reads(db)
    taken = db.execute(update(PublishJob).where(PublishJob.id == job.id, PublishJob.status == JobStatus.READY.value)
                       .values(status=JobStatus.PUBLISHED.value))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise Conflict(NOT_READY, "not_ready")
    version = ModelVersion(fingerprint=fp, file_name=name, size=source.stat().st_size, kept=True, current=False,
                           note=job.note, created_by_id=by_id, created_by_email=by_email,
                           created_at=now, job_id=job.id, evaluation=job.evaluation, changes=job.changes,
                           knowledge=knowledge)
    db.add(version)
    db.flush()
    _make_current(db, version, now)
    job.status = JobStatus.PUBLISHED.value
    job.version_id = version.id
    return version


# --------------------------------------------------------------------------
# A new version of the assistant: the model scripts/setup.sh trained after a
# change of code or pipeline (DATA_DIR/models/current.tar.gz).


def _system_audit(db: Session, *, action: str, detail: str, now: datetime) -> None:
    db.add(AuditEntry(staff_id=None, staff_email=SYSTEM_EMAIL, action=action, detail=detail, created_at=now))


def _release_known(db: Session, fp: str) -> bool:
    """The setup model `fp` is a version already, or a release job was made for it."""
    if db.scalars(select(ModelVersion.id).where(ModelVersion.fingerprint == fp).limit(1)).first() is not None:
        return True
    return db.scalars(select(PublishJob.id).where(PublishJob.release_of == fp).limit(1)).first() is not None


def release_setup_model(*, db: Session, data_dir: Path, now: datetime, console_edits: list[str]) -> str:
    """Make sure a model setup trained with new code is not silently ignored.

    Returns what happened: "none" (no setup model, or it is known: a version, or a
    release job was made for it), "first" (the registry was empty: version 1),
    "published" (the knowledge store is knowledge/, `console_edits` is empty: the
    setup model is published as a new version by "system") or "queued" (editors
    changed topics in the console that the setup model lacks: a release job
    retrains the store with the new code; the worker publishes it when the gate
    passes). Commits.
    """
    fp = files.setup_model_fingerprint(data_dir)
    if fp is None:
        return "none"
    if db.scalars(select(ModelVersion.id).limit(1)).first() is None:
        return "first" if ensure_registered(db=db, data_dir=data_dir, now=now) is not None else "none"
    if _release_known(db, fp):
        db.commit()
        return "none"
    if not console_edits:
        files.keep(files.models_dir(data_dir) / files.SETUP_MODEL, files.versions_dir(data_dir) / f"{fp}.tar.gz")
    _end_reads(db)
    # Take the write lock first (SQLite: the database; PostgreSQL: the current version's
    # row), then look again: an API starting at the same moment may have done it.
    db.execute(update(ModelVersion).where(ModelVersion.current.is_(True)).values(current=True))
    if _release_known(db, fp):
        db.rollback()
        return "none"
    if console_edits:
        db.execute(update(PublishJob).where(PublishJob.release_of.is_not(None),
                                            PublishJob.status == JobStatus.QUEUED.value)
                   .values(status=JobStatus.DISCARDED.value, finished_at=now))
        job = PublishJob(status=JobStatus.QUEUED.value, phase="queued", percent=0, note=RELEASE_NOTE,
                         created_by_email=SYSTEM_EMAIL, created_at=now, release_of=fp)
        db.add(job)
        db.flush()
        _system_audit(db, action="queue_release", now=now,
                      detail=f"job {job.id} ({fp[:12]}): {RELEASE_REASON}; "
                             f"ändrade i konsolen: {', '.join(console_edits)}"[:2000])
        db.commit()
        return "queued"
    kept = files.versions_dir(data_dir) / f"{fp}.tar.gz"
    version = ModelVersion(fingerprint=fp, file_name=kept.name, size=kept.stat().st_size, kept=True,
                           current=False, note=RELEASE_NOTE, created_by_email=SYSTEM_EMAIL, created_at=now)
    db.add(version)
    db.flush()
    _make_current(db, version, now)
    _system_audit(db, action="publish_release", now=now,
                  detail=f"version {version.id} ({fp[:12]}): {RELEASE_REASON}")
    _prune(db, data_dir)
    db.commit()
    return "published"


def check_release(*, db: Session, data_dir: Path, now: datetime) -> str:
    """release_setup_model with the knowledge store's console edits (the worker and the
    API at start run it). Commits."""
    outcome = release_setup_model(db=db, data_dir=data_dir, now=now, console_edits=console_edited_topics(db))
    if outcome != "none":
        log.info("the setup model (a new version of the assistant): %s", outcome)
    return outcome


def release_on_start(*, db: Session, data_dir: Path, now: datetime) -> None:
    """check_release when the API starts; never fails the start (the worker checks again)."""
    try:
        check_release(db=db, data_dir=data_dir, now=now)
    except (SQLAlchemyError, OSError) as exc:
        db.rollback()
        log.warning("the setup model was not checked (%s); the worker checks again", type(exc).__name__)


def publish_release(*, db: Session, job_id: int, data_dir: Path, now: datetime) -> ModelVersion | None:
    """Publish a trained release job as "system" when the gate passed; otherwise (None)
    it waits on the publish page for an editor. Commits."""
    job = get_job(db=db, job_id=job_id)
    if job.release_of is None or job.status != JobStatus.READY.value or not job.gate_passed:
        db.commit()
        return None
    version = _publish(db, job, data_dir, now, by_id=None, by_email=SYSTEM_EMAIL)
    _system_audit(db, action="publish_release", now=now,
                  detail=f"version {version.id} ({version.fingerprint[:12]}) from job {job.id}: {RELEASE_REASON}")
    _prune(db, data_dir)
    db.commit()
    return version


def _knowledge_of(job: PublishJob) -> str | None:
    """The knowledge snapshot the worker left next to the candidate (for the next diff)."""
    if not job.model_path:
        return None
    snapshot = Path(job.model_path).with_name("knowledge.json")
    return snapshot.read_text(encoding="utf-8") if snapshot.is_file() else None


def published_knowledge(*, db: Session) -> dict[str, Any] | None:
    version = current_version(db=db)
    if version is None or not version.knowledge:
        return None
    return json.loads(version.knowledge)


def evaluation_of(row: PublishJob | ModelVersion) -> dict[str, Any] | None:
    return json.loads(row.evaluation) if row.evaluation else None


def changes_of(row: PublishJob | ModelVersion) -> dict[str, Any] | None:
    return json.loads(row.changes) if row.changes else None


def topic_accuracy(db: Session) -> dict[str, float]:
    """Held-out accuracy per topic of the published model (0..1); empty when unknown."""
    version = current_version(db=db)
    evaluation = evaluation_of(version) if version is not None else None
    if not evaluation:
        return {}
    return {t["topic_id"]: float(t["candidate"]) for t in evaluation.get("topics", [])}


def set_version_evaluation(*, db: Session, version_id: int, evaluation: dict[str, Any]) -> None:
    """The worker's evaluation of a version that had none (the one from setup). Commits."""
    db.execute(update(ModelVersion).where(ModelVersion.id == version_id, ModelVersion.evaluation.is_(None))
               .values(evaluation=json.dumps(evaluation, ensure_ascii=False)))
    db.commit()


# --------------------------------------------------------------------------
# The regression set


def add_regression_item(*, db: Session, text: str, topic_id: str, by_email: str, now: datetime,
                        source: str = "inbox") -> RegressionItem:
    """A message every later model must still give `topic_id` (masked first). Does not commit."""
    masked = " ".join(mask_text(text).split())
    if not masked:
        raise InvalidInput("Meddelandet är tomt.", "empty_text")
    existing = db.scalars(select(RegressionItem).where(RegressionItem.text == masked,
                                                       RegressionItem.topic_id == topic_id)).first()
    if existing is not None:
        return existing
    item = RegressionItem(text=masked, topic_id=topic_id, source=source[:16], created_by_email=by_email,
                          created_at=now)
    db.add(item)
    db.flush()
    return item


def regression_items(*, db: Session) -> list[RegressionItem]:
    return list(db.scalars(select(RegressionItem).order_by(RegressionItem.id)))


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"
