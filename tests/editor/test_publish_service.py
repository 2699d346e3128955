"""Publishing: the quality gate, jobs, versions and rollback, the regression set
and the model route Rasa pulls from.

SQLite and PostgreSQL (tests/editor/conftest.py). The browser tests with the
real stack are in test_publish_browser.py.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mjolby.errors import Conflict, Forbidden, InvalidInput
from mjolby.publishing import files, gate, service
from mjolby.publishing.models import JobStatus, ModelVersion, PublishJob
from mjolby.staff import service as staff_service
from mjolby.staff.models import AuditEntry
from mjolby.staff.service import StaffContext

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TOKEN = "test-internal-token-publishing"
PASSWORD = "ett-langt-losenord"


def rows(right: int, wrong: int, topic: str = "bygglov") -> list[dict]:
    return ([{"text": f"r{i}", "expect": topic, "predicted": topic, "confidence": 0.9} for i in range(right)]
            + [{"text": f"w{i}", "expect": topic, "predicted": "bibliotek", "confidence": 0.4} for i in range(wrong)])


# --------------------------------------------------------------------------
# The gate (no database)


def test_a_drop_of_more_than_two_points_is_refused_two_points_pass():
    published = {"heldout": rows(95, 5), "regression": []}
    assert gate.compare({"heldout": rows(93, 7), "regression": []}, published).passed  # 2.0 points
    refused = gate.compare({"heldout": rows(92, 8), "regression": []}, published)
    assert not refused.passed and refused.drop_points == 3.0
    assert "3.0 procentenheter" in refused.reasons[0]


def test_a_broken_regression_item_is_refused_even_when_accuracy_rises():
    candidate = {"heldout": rows(100, 0), "regression": [
        {"text": "jag vill inte leva längre", "expect": "kris_akut_hjalp", "predicted": None, "confidence": 0.2}]}
    result = gate.compare(candidate, {"heldout": rows(90, 10), "regression": []})
    assert not result.passed
    assert result.broken == [{"text": "jag vill inte leva längre", "expect": "kris_akut_hjalp", "predicted": None}]


def test_per_topic_better_and_worse():
    candidate = {"heldout": rows(4, 0, "bygglov") + rows(1, 3, "avfall_hamtning")}
    published = {"heldout": rows(2, 2, "bygglov") + rows(3, 1, "avfall_hamtning")}
    topics = {t["topic_id"]: t for t in gate.compare(candidate, published).as_dict()["topics"]}
    assert topics["bygglov"]["change"] == "better" and topics["bygglov"]["published"] == 0.5
    assert topics["avfall_hamtning"]["change"] == "worse" and topics["avfall_hamtning"]["candidate"] == 0.25


def test_without_a_published_model_only_the_regression_set_counts():
    result = gate.compare({"heldout": rows(10, 90), "regression": []}, None)
    assert result.passed and result.published_accuracy is None


# --------------------------------------------------------------------------
# Jobs, versions and rollback


@pytest.fixture
def people(db: Session) -> dict[str, StaffContext]:
    made = {}
    for name, role in (("editor", "editor"), ("admin", "admin")):
        user = staff_service.create_user(db=db, email=f"{name}@mjolby.se", password=PASSWORD, role=role, now=NOW)
        made[name] = StaffContext(user.id, user.email, "", role, "csrf", f"hash-{name}")
    return made


def fake_model(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() * 100)
    return path


def ready_job(db: Session, staff: StaffContext, tmp_path: Path, content: str, *, passed: bool = True) -> PublishJob:
    job = service.request_publish(db=db, staff=staff, note=f"ändring {content}", now=NOW)
    claimed = service.claim_next_job(db=db, worker="test", now=NOW)
    assert claimed is not None and claimed.id == job.id
    model = fake_model(tmp_path / f"build-{job.id}" / "candidate.tar.gz", content)
    (model.parent / "knowledge.json").write_text(json.dumps({"bygglov": {"examples": [content]}}))
    evaluation = gate.compare({"heldout": rows(90 if passed else 80, 10 if passed else 20)},
                              {"heldout": rows(90, 10)}).as_dict()
    service.job_ready(db=db, job_id=job.id, model_path=model, evaluation=evaluation, changes={"topics": []},
                      lab_url=None, now=NOW)
    db.expire_all()
    return service.get_job(db=db, job_id=job.id)


def test_the_setup_model_becomes_version_one(db: Session, tmp_path: Path):
    data_dir = tmp_path / "var"
    assert service.ensure_registered(db=db, data_dir=data_dir, now=NOW) is None  # nothing trained yet
    fake_model(data_dir / "models" / files.SETUP_MODEL, "setup")
    first = service.ensure_registered(db=db, data_dir=data_dir, now=NOW)
    assert first is not None and first.current and first.created_by_email == "system"
    assert service.version_file(first, data_dir).read_bytes() == (data_dir / "models/current.tar.gz").read_bytes()
    assert service.ensure_registered(db=db, data_dir=data_dir, now=NOW).id == first.id
    assert len(service.list_versions(db=db)) == 1


def test_one_training_at_a_time_and_a_new_one_replaces_a_waiting_candidate(
        db: Session, people: dict[str, StaffContext], tmp_path: Path):
    editor = people["editor"]
    job = service.request_publish(db=db, staff=editor, note="nya exempel", now=NOW)
    with pytest.raises(Conflict):
        service.request_publish(db=db, staff=editor, note="igen", now=NOW)
    assert service.claim_next_job(db=db, worker="w1", now=NOW).id == job.id
    assert service.claim_next_job(db=db, worker="w2", now=NOW) is None  # one claim wins
    service.set_progress(db=db, job_id=job.id, phase="train", percent=40, now=NOW)
    db.expire_all()
    assert (service.get_job(db=db, job_id=job.id).phase, service.get_job(db=db, job_id=job.id).percent) == ("train", 40)
    model = fake_model(tmp_path / "c.tar.gz", "a")
    service.job_ready(db=db, job_id=job.id, model_path=model, evaluation={"passed": True}, changes={},
                      lab_url=None, now=NOW)
    newer = service.request_publish(db=db, staff=editor, note="", now=NOW)
    db.expire_all()
    assert service.get_job(db=db, job_id=job.id).status == JobStatus.DISCARDED
    assert service.latest_job(db=db).id == newer.id


def test_a_silent_worker_fails_its_job(db: Session, people: dict[str, StaffContext]):
    job = service.request_publish(db=db, staff=people["editor"], note="", now=NOW)
    service.claim_next_job(db=db, worker="w1", now=NOW)
    later = NOW + service.STALE_AFTER + timedelta(seconds=1)
    assert service.claim_next_job(db=db, worker="w2", now=later) is None
    db.expire_all()
    failed = service.get_job(db=db, job_id=job.id)
    assert failed.status == JobStatus.FAILED and "slutade svara" in failed.error


def test_publish_rollback_and_the_audit_log(db: Session, people: dict[str, StaffContext], tmp_path: Path):
    data_dir = tmp_path / "var"
    fake_model(data_dir / "models" / files.SETUP_MODEL, "setup")
    first = service.ensure_registered(db=db, data_dir=data_dir, now=NOW)
    job = ready_job(db, people["editor"], tmp_path, "v2")
    second = service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=data_dir, now=NOW)
    assert second.current and service.current_version(db=db).id == second.id
    assert second.created_by_email == "editor@mjolby.se" and second.note == "ändring v2"
    assert service.published_knowledge(db=db) == {"bygglov": {"examples": ["v2"]}}
    with pytest.raises(Conflict):  # a published job cannot be published again
        service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=data_dir, now=NOW)

    service.rollback(db=db, staff=people["editor"], version_id=first.id, data_dir=data_dir, now=NOW)
    db.expire_all()
    assert service.current_version(db=db).id == first.id
    actions = [(a.action, a.staff_email) for a in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("publish_model", "editor@mjolby.se") in actions and ("rollback_model", "editor@mjolby.se") in actions


def test_a_refused_candidate_needs_an_admin_and_a_reason(db: Session, people: dict[str, StaffContext],
                                                         tmp_path: Path):
    data_dir = tmp_path / "var"
    job = ready_job(db, people["editor"], tmp_path, "worse", passed=False)
    assert job.gate_passed is False
    with pytest.raises(Forbidden):
        service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=data_dir, now=NOW,
                            override_reason="det brådskar")
    with pytest.raises(InvalidInput):
        service.publish_job(db=db, staff=people["admin"], job_id=job.id, data_dir=data_dir, now=NOW,
                            override_reason="  ")
    assert service.current_version(db=db) is None
    version = service.publish_job(db=db, staff=people["admin"], job_id=job.id, data_dir=data_dir, now=NOW,
                                  override_reason="Nytt ämne om vinterväghållning måste ut i dag")
    assert version.current
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "publish_override")).one()
    assert entry.staff_email == "admin@mjolby.se" and "vinterväghållning" in entry.detail


def test_the_last_ten_models_are_kept_and_older_ones_cannot_be_rolled_back_to(
        db: Session, people: dict[str, StaffContext], tmp_path: Path):
    data_dir = tmp_path / "var"
    versions = []
    for n in range(12):
        job = ready_job(db, people["editor"], tmp_path, f"model-{n}")
        versions.append(service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=data_dir,
                                            now=NOW))
    db.expire_all()
    kept = [v for v in db.scalars(select(ModelVersion).order_by(ModelVersion.id)) if v.kept]
    assert [v.id for v in kept] == [v.id for v in versions[2:]]
    assert len(list(files.versions_dir(data_dir).glob("*.tar.gz"))) == service.MAX_KEPT
    with pytest.raises(Conflict):
        service.rollback(db=db, staff=people["editor"], version_id=versions[1].id, data_dir=data_dir, now=NOW)
    service.rollback(db=db, staff=people["editor"], version_id=versions[2].id, data_dir=data_dir, now=NOW)
    assert service.current_version(db=db).id == versions[2].id


def test_topic_accuracy_is_the_published_models(db: Session, people: dict[str, StaffContext], tmp_path: Path):
    assert service.topic_accuracy(db) == {}
    job = ready_job(db, people["editor"], tmp_path, "acc")
    service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=tmp_path / "var", now=NOW)
    assert service.topic_accuracy(db) == {"bygglov": 0.9}


def test_regression_items_are_masked_and_not_repeated(db: Session):
    text = "mitt personnummer är 19121212-1212 och jag vill ha bygglov"
    item = service.add_regression_item(db=db, text=text, topic_id="bygglov", by_email="editor@mjolby.se", now=NOW)
    assert "1212-1212" not in item.text
    again = service.add_regression_item(db=db, text=text, topic_id="bygglov", by_email="editor@mjolby.se", now=NOW)
    assert again.id == item.id and len(service.regression_items(db=db)) == 1


# --------------------------------------------------------------------------
# The model route Rasa pulls from


@pytest.fixture
def app(app_factory: Callable[..., FastAPI], data_dir: Path) -> FastAPI:
    fake_model(data_dir / "models" / files.SETUP_MODEL, "setup")
    return app_factory(internal_api_token=TOKEN)


def test_rasa_gets_the_model_then_304_until_it_changes(client: TestClient, db: Session, data_dir: Path,
                                                       people: dict[str, StaffContext]):
    url = "/api/v1/internal/models/current"
    assert client.get(url).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = client.get(url, headers=auth)
    assert first.status_code == 200 and first.content == (data_dir / "models/current.tar.gz").read_bytes()
    etag = first.headers["etag"]
    assert first.headers["filename"].endswith(".tar.gz")
    # Rasa sends back what it got as ETag, quoted or not.
    assert client.get(url, headers={**auth, "If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={**auth, "If-None-Match": etag.strip('"')}).status_code == 304

    job = ready_job(db, people["editor"], data_dir.parent, "published")
    service.publish_job(db=db, staff=people["editor"], job_id=job.id, data_dir=data_dir, now=NOW)
    changed = client.get(url, headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.content == (b"published" * 100)


# --------------------------------------------------------------------------
# What changed per topic (the worker's diff between knowledge snapshots)


def test_the_per_topic_diff_names_added_and_removed_examples_and_edited_answers(tmp_path: Path):
    from mjolby.publishing.worker import knowledge_snapshot, topic_changes

    (tmp_path / "behaviour").mkdir()
    (tmp_path / "topics.yml").write_text("topics: []\n", encoding="utf-8")
    (tmp_path / "bygglov.yml").write_text(
        "id: bygglov\ntitle: Bygglov\nanswer: Sök i e-tjänsten.\nexamples:\n  - behöver jag bygglov\n"
        "  - bygglov  för   garage\n", encoding="utf-8")
    before = knowledge_snapshot(tmp_path)
    assert before == {"bygglov": {"title": "Bygglov", "answer": "Sök i e-tjänsten.",
                                  "examples": ["behöver jag bygglov", "bygglov för garage"]}}
    after = {**before, "bygglov": {**before["bygglov"], "answer": "Ny text.",
                                   "examples": ["behöver jag bygglov", "bygglov för friggebod"]},
             "bastu": {"title": "Bastu", "answer": "", "examples": ["bastuflotten"]}}
    changes = {c["topic_id"]: c for c in topic_changes(before, after)["topics"]}
    assert changes["bygglov"] == {"topic_id": "bygglov", "title": "Bygglov", "status": "changed",
                                  "added": ["bygglov för friggebod"], "removed": ["bygglov för garage"],
                                  "answer_changed": True}
    assert changes["bastu"]["status"] == "added" and changes["bastu"]["added"] == ["bastuflotten"]
    assert topic_changes(after, after) == {"topics": []}
