"""A new version of the assistant: the model scripts/setup.sh trains after a change of
code or pipeline (DATA_DIR/models/current.tar.gz) must not be ignored once versions
exist. Without console edits it is published at once by "system"; with them, a
release job retrains the knowledge store with the new code and goes live when the
quality gate passes, or waits for an editor when it does not.

SQLite and PostgreSQL (tests/editor/conftest.py). The worker runs with a stand-in
trainer and evaluator (no Rasa); test_publish_browser.py trains for real.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api_support import FakeClock, FakeRasa, make_settings
from mjolby.db import Database
from mjolby.knowledge_store.models import KnowledgeTopic
from mjolby.main import create_app
from mjolby.publishing import files, gate, service
from mjolby.publishing.models import JobStatus, PublishJob
from mjolby.publishing.worker import Worker
from mjolby.staff import service as staff_service
from mjolby.staff.models import AuditEntry
from mjolby.staff.service import StaffContext

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PASSWORD = "ett-langt-losenord"
TOKEN = "test-internal-token-release"
REPO = Path(__file__).resolve().parents[2]


def setup_trains(data_dir: Path, content: str) -> Path:
    """What scripts/train.sh does: a new model file moved into place, and its fingerprint."""
    models = data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    partial = models / "current.tar.gz.tmp"
    partial.write_bytes(content.encode() * 100)
    os.replace(partial, models / files.SETUP_MODEL)
    (models / "current.fingerprint").write_text(f"inputs-{content}\n")
    return models / files.SETUP_MODEL


def rows(right: int, wrong: int, topic: str = "bygglov") -> list[dict[str, Any]]:
    return ([{"text": f"r{i}", "expect": topic, "predicted": topic, "confidence": 0.9} for i in range(right)]
            + [{"text": f"w{i}", "expect": topic, "predicted": None, "confidence": 0.3} for i in range(wrong)])


@pytest.fixture
def editor(db: Session) -> StaffContext:
    user = staff_service.create_user(db=db, email="redaktor@mjolby.se", password=PASSWORD, role="editor", now=NOW)
    return StaffContext(user.id, user.email, "", "editor", "csrf", "hash")


def edited_in_console(db: Session, topic_id: str = "bastuflotte") -> None:
    db.add(KnowledgeTopic(id=topic_id, kind="faq", title="Bastuflotten", data="{}", version=2, file_hash=None,
                          edited=True, file_differs=False, retired=False, created_at=NOW, updated_at=NOW,
                          updated_by_email="redaktor@mjolby.se"))
    db.commit()


def trained(db: Session, data_dir: Path, content: str, candidate: list[dict[str, Any]]) -> PublishJob:
    """The next queued job as the worker leaves it: trained on `content`, evaluated
    (held-out `candidate` rows against a published model with 90 %)."""
    job = service.claim_next_job(db=db, worker="test", now=NOW)
    assert job is not None
    model = data_dir / "models/build" / f"job-{job.id}" / "candidate.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(content.encode() * 100)
    service.job_ready(db=db, job_id=job.id, model_path=model,
                      evaluation=gate.compare({"heldout": candidate}, {"heldout": rows(9, 1)}).as_dict(),
                      changes={"topics": []}, lab_url=None, now=NOW)
    return job


def published_by_editor(db: Session, staff: StaffContext, data_dir: Path) -> None:
    """Version 1 from setup, then an editor's publish on top of it."""
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "first"
    service.request_publish(db=db, staff=staff, note="nya exempel", now=NOW)
    job = trained(db, data_dir, "editor", rows(9, 1))
    service.publish_job(db=db, staff=staff, job_id=job.id, data_dir=data_dir, now=NOW)


def audit_of(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --------------------------------------------------------------------------
# The service


def test_without_console_edits_the_new_setup_model_is_published_by_system(
        db: Session, editor: StaffContext, data_dir: Path):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    before = service.current_version(db=db)

    new_model = setup_trains(data_dir, "setup-two")
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "published"
    current = service.current_version(db=db)
    assert current.id != before.id and current.fingerprint == files.fingerprint(new_model)
    assert current.created_by_email == "system" and current.note == "Ny version av assistenten"
    assert service.version_file(current, data_dir).read_bytes() == new_model.read_bytes()
    entry, = audit_of(db, "publish_release")
    assert entry.staff_email == "system" and "ny version av assistenten" in entry.detail

    # Once is enough; and an editor who rolls back to their model is not overruled.
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "none"
    service.rollback(db=db, staff=editor, version_id=before.id, data_dir=data_dir, now=NOW)
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "none"
    assert service.current_version(db=db).id == before.id
    assert len(service.list_versions(db=db)) == 3


def test_with_console_edits_a_release_job_is_queued_and_the_old_model_serves_meanwhile(
        db: Session, editor: StaffContext, data_dir: Path):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    before = service.current_version(db=db)
    edited_in_console(db)

    new_model = setup_trains(data_dir, "setup-two")
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "queued"
    assert service.current_version(db=db).id == before.id
    job = service.latest_job(db=db)
    assert job.status == JobStatus.QUEUED.value and job.release_of == files.fingerprint(new_model)
    assert job.created_by_email == "system"
    entry, = audit_of(db, "queue_release")
    assert "ny version av assistenten" in entry.detail and "bastuflotte" in entry.detail
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "none"  # one job, not one per check
    assert len(service.list_jobs(db=db)) == 2

    # The worker trained it and the gate passed: it goes live by itself.
    assert trained(db, data_dir, "retrained", rows(9, 1)).id == job.id
    version = service.publish_release(db=db, job_id=job.id, data_dir=data_dir, now=NOW)
    assert version is not None and service.current_version(db=db).id == version.id
    assert version.created_by_email == "system"
    assert service.version_file(version, data_dir).read_bytes() == b"retrained" * 100
    assert "ny version av assistenten" in audit_of(db, "publish_release")[0].detail
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "none"


def test_a_release_job_the_gate_refuses_waits_for_an_editor(db: Session, editor: StaffContext, data_dir: Path):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    before = service.current_version(db=db)
    edited_in_console(db)
    setup_trains(data_dir, "setup-two")
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "queued"
    job = trained(db, data_dir, "worse", rows(5, 5))
    assert service.publish_release(db=db, job_id=job.id, data_dir=data_dir, now=NOW) is None
    assert service.current_version(db=db).id == before.id
    assert service.get_job(db=db, job_id=job.id).status == JobStatus.READY.value
    assert audit_of(db, "publish_release") == []


# --------------------------------------------------------------------------
# The worker, with a stand-in trainer and evaluator


class StandInWorker(Worker):
    """The real job flow (export, progress, gate, publish) without Rasa."""

    def __init__(self, settings: Any, database: Database, candidate: list[dict[str, Any]],
                 published: list[dict[str, Any]]) -> None:
        super().__init__(settings, database, Path(sys.executable))
        self.rows = {"candidate": {"heldout": candidate, "regression": []},
                     "published": {"heldout": published, "regression": []}}

    def _generate(self, build: Path) -> None:
        (build / "bot").mkdir()

    def _train(self, job_id: int, build: Path) -> Path:
        model = build / "candidate.tar.gz"
        model.write_bytes(b"retrained with new code" * 100)
        return model

    def _evaluate(self, candidate: Path, published: Path | None, regression: Path, out: Path, *,
                  serve_port: int | None, job_id: int | None = None) -> None:
        out.write_text(json.dumps(self.rows), encoding="utf-8")


@pytest.fixture
def database(session_factory: sessionmaker[Session], database_url: str, engine: Engine) -> Database:
    """The test's database (its rolled-back transaction) as the worker and the API open it."""
    return Database(database_url, engine=engine, session_factory=session_factory)


@pytest.fixture
def worker_for(database: Database, database_url: str, data_dir: Path) -> Callable[..., StandInWorker]:
    def make(candidate: list[dict[str, Any]]) -> StandInWorker:
        settings = make_settings(data_dir, database_url=database_url)
        return StandInWorker(settings, database, candidate, rows(9, 1))
    return make


@pytest.mark.parametrize("candidate, goes_live", [(rows(9, 1), True), (rows(5, 5), False)])
def test_the_worker_retrains_a_release_and_publishes_it_only_when_the_gate_passes(
        db: Session, editor: StaffContext, data_dir: Path, worker_for: Callable[..., StandInWorker],
        candidate: list[dict[str, Any]], goes_live: bool):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    before = service.current_version(db=db)
    edited_in_console(db)
    setup_trains(data_dir, "setup-two")
    worker = worker_for(candidate)

    assert worker._check_release()
    job = service.claim_next_job(db=db, worker=worker.name, now=NOW)
    assert job is not None and job.release_of is not None
    worker.run_job(job)

    db.expire_all()
    job = service.get_job(db=db, job_id=job.id)
    current = service.current_version(db=db)
    if goes_live:
        assert job.status == JobStatus.PUBLISHED.value and current.id == job.version_id
        assert current.created_by_email == "system"
        assert service.version_file(current, data_dir).read_bytes() == b"retrained with new code" * 100
    else:
        assert job.status == JobStatus.READY.value and not job.gate_passed
        assert current.id == before.id
    assert worker._check_release()  # nothing more to do for this setup model
    assert db.scalars(select(PublishJob).where(PublishJob.release_of.is_not(None))).all() == [job]


# --------------------------------------------------------------------------
# The API at start, Rasa's model route and the publish page


@pytest.fixture
def app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory(internal_api_token=TOKEN)


def test_at_start_the_api_publishes_the_new_setup_model_and_rasa_pulls_it(
        db: Session, editor: StaffContext, data_dir: Path, database: Database, database_url: str,
        fake_rasa: FakeRasa, clock: FakeClock):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    new_model = setup_trains(data_dir, "setup-two")
    settings = make_settings(data_dir, database_url=database_url, internal_api_token=TOKEN)
    # As a real start: knowledge/ imported (no console edits), then the setup model checked.
    app = create_app(settings, database=database, rasa_transport=fake_rasa.transport, run_migrations=False,
                     import_knowledge=True, clock=clock)
    with TestClient(app) as client:
        pulled = client.get("/api/v1/internal/models/current", headers={"Authorization": f"Bearer {TOKEN}"})
    assert pulled.status_code == 200 and pulled.content == new_model.read_bytes()
    assert pulled.headers["etag"] == f'"{files.fingerprint(new_model)}"'
    assert service.current_version(db=db).created_by_email == "system"


def test_the_publish_page_says_a_new_version_is_retrained_and_when_it_waits_for_an_editor(
        client: TestClient, db: Session, editor: StaffContext, data_dir: Path):
    setup_trains(data_dir, "setup-one")
    published_by_editor(db, editor, data_dir)
    edited_in_console(db)
    setup_trains(data_dir, "setup-two")
    assert service.check_release(db=db, data_dir=data_dir, now=NOW) == "queued"
    client.post("/api/v1/staff/session", json={"email": "redaktor@mjolby.se", "password": PASSWORD})
    page = client.get("/staff/editor/publicera").text
    assert "En ny version av assistenten har installerats" in page and "publiceras automatiskt" in page

    job = trained(db, data_dir, "worse", rows(5, 5))
    service.publish_release(db=db, job_id=job.id, data_dir=data_dir, now=NOW)
    page = client.get("/staff/editor/publicera").text
    assert "kvalitetskontrollen stoppade den, så den publicerades inte automatiskt" in page
    assert "Kvalitetskontrollen stoppade modellen" in page


# --------------------------------------------------------------------------
# Measuring instances run without the worker


def test_measured_instances_start_without_the_training_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import instances
    finally:
        sys.path.remove(str(REPO / "tools"))
    monkeypatch.setenv("PUBLISH_WORKER", "1")
    instance = instances.Instance("new", REPO, tmp_path / "m.tar.gz", "x", tmp_path, 18000)
    try:
        assert instance.env()["PUBLISH_WORKER"] == "0"
    finally:
        shutil.rmtree(instance.data_dir, ignore_errors=True)
