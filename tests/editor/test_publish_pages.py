"""The publish page through HTTP: who may use it, CSRF, the job's progress as
JSON, the evaluation and the refused publish as an editor sees them, rollback.

SQLite and PostgreSQL (tests/editor/conftest.py). The real training, try-it
and swaps under load are in test_publish_browser.py.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mjolby.publishing import files, gate, service
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PASSWORD = "ett-langt-losenord"
PAGE = "/staff/editor/publicera"


@pytest.fixture
def app(app_factory: Callable[..., FastAPI], db: Session, data_dir: Path) -> FastAPI:
    for email, role in (("redaktor@mjolby.se", "editor"), ("chef@mjolby.se", "admin"),
                        ("handlaggare@mjolby.se", "agent")):
        staff_service.create_user(db=db, email=email, password=PASSWORD, role=role, now=NOW)
    model = data_dir / "models" / files.SETUP_MODEL
    model.parent.mkdir(parents=True)
    model.write_bytes(b"setup" * 100)
    return app_factory()


def signed_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    response = client.post("/api/v1/staff/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def ready_candidate(db: Session, data_dir: Path, *, drop: bool) -> int:
    """A job as the worker leaves it: trained and evaluated."""
    user = staff_service.list_users(db=db)[0]
    staff = StaffContext(user.id, user.email, "", user.role, "", "")
    job = service.request_publish(db=db, staff=staff, note="Nya exempel om bastuflotten", now=NOW)
    service.claim_next_job(db=db, worker="test", now=NOW)
    model = data_dir / "models/build" / f"job-{job.id}" / "candidate.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(b"candidate" * 100)
    row = lambda topic, right: {"text": "x", "expect": topic, "predicted": topic if right else None,  # noqa: E731
                                "confidence": 0.9}
    published = {"heldout": [row("bygglov", True)] * 10 + [row("bibliotek", True)] * 10}
    candidate = {"heldout": [row("bygglov", True)] * 10 + [row("bibliotek", not drop)] * 10,
                 "regression": [row("kris_akut_hjalp", True)]}
    evaluation = {**gate.compare(candidate, published).as_dict(), "titles": {"bibliotek": "Bibliotek"}}
    changes = {"topics": [{"topic_id": "lokalbokning", "title": "Boka lokal", "status": "changed",
                           "added": ["hur bokar jag bastuflotten"], "removed": [], "answer_changed": False}]}
    service.job_ready(db=db, job_id=job.id, model_path=model, evaluation=evaluation, changes=changes,
                      lab_url=None, now=NOW)
    return job.id


def test_editors_and_admins_only(client: TestClient):
    assert client.get(PAGE, follow_redirects=False).status_code == 303  # to the sign-in page
    signed_in(client, "handlaggare@mjolby.se")
    assert client.get(PAGE).status_code == 403
    signed_in(client, "redaktor@mjolby.se")
    page = client.get(PAGE)
    assert page.status_code == 200 and "Träna ny modell" in page.text
    assert 'aria-current="page">Publicera' in page.text


def test_training_is_queued_with_csrf_and_its_progress_is_json(client: TestClient):
    csrf = signed_in(client, "redaktor@mjolby.se")
    assert client.post(PAGE, data={"note": "utan token"}).status_code == 403
    started = client.post(PAGE, data={"csrf_token": csrf, "note": "nya exempel"}, follow_redirects=False)
    assert started.status_code == 303
    page = client.get(started.headers["location"])
    assert "Träningen har börjat" in page.text and 'id="job-progress"' in page.text
    job_id = int(page.text.split('data-job="')[1].split('"')[0])
    state = client.get(f"{PAGE}/jobb/{job_id}.json").json()
    assert state["status"] == "queued" and state["phase_label"] == "Väntar på att träningen ska börja"
    again = client.post(PAGE, data={"csrf_token": csrf, "note": "igen"})
    assert again.status_code == 409 and "En träning pågår redan" in again.text


def test_an_editor_sees_why_a_candidate_is_refused_and_cannot_publish_it(client: TestClient, db: Session,
                                                                         data_dir: Path):
    job_id = ready_candidate(db, data_dir, drop=True)
    csrf = signed_in(client, "redaktor@mjolby.se")
    page = client.get(PAGE).text
    assert "Kvalitetskontrollen stoppade modellen" in page and "sjunker med 50.0 procentenheter" in page
    assert "Bibliotek" in page and "Sämre" in page  # the topic that got worse
    assert "Publicera modellen" not in page and "Publicera ändå" not in page
    refused = client.post(f"{PAGE}/jobb/{job_id}/publicera", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "Bara en administratör" in refused.text

    csrf = signed_in(client, "chef@mjolby.se")
    assert "Publicera ändå" in client.get(PAGE).text
    done = client.post(f"{PAGE}/jobb/{job_id}/publicera",
                       data={"csrf_token": csrf, "override_reason": "Känt fel i testdata"}, follow_redirects=True)
    assert "Modellen är publicerad" in done.text
    audit = client.get("/staff/logg").text
    assert "Publicerade en modell trots kvalitetskontrollen" in audit


def test_publish_then_roll_back_from_the_versions_list(client: TestClient, db: Session, data_dir: Path):
    csrf = signed_in(client, "redaktor@mjolby.se")
    assert "Modellen från installationen" in client.get(PAGE).text  # version 1 registered on the way
    first = service.ensure_registered(db=db, data_dir=data_dir, now=NOW)
    job_id = ready_candidate(db, data_dir, drop=False)
    page = client.get(PAGE).text
    assert "Kvalitetskontrollen godkände modellen" in page and "1 nya exempel (hur bokar jag bastuflotten)" in page
    done = client.post(f"{PAGE}/jobb/{job_id}/publicera", data={"csrf_token": csrf}, follow_redirects=True)
    # (ids: PostgreSQL's sequences go on across the rolled-back tests)
    assert "Modellen är publicerad" in done.text and f"Återställ version {first.id}" in done.text
    second = service.current_version(db=db)
    assert second.id != first.id and f"Återställ version {second.id}" not in done.text
    back = client.post(f"/staff/editor/versioner/{first.id}/aterstall", data={"csrf_token": csrf},
                       follow_redirects=True)
    assert "Versionen är återställd" in back.text and f"Återställ version {second.id}" in back.text
