"""The knowledge store: import, editing with locking and revisions, export, live catalogue.

Runs on SQLite and PostgreSQL (tests/editor/conftest.py), each test in a
transaction rolled back at the end.
"""
from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from mjolby.knowledge_store import rules, service
from mjolby.knowledge_store.service import TopicConflict, TopicInvalid
from mjolby.staff import service as staff_service
from mjolby.staff.models import AuditEntry, StaffUser

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
sys.path.insert(0, str(REPO / "tools"))
import generate  # noqa: E402


@pytest.fixture
def store(db: Session) -> Session:
    service.import_knowledge(db, KNOWLEDGE, now=NOW)
    return db


@pytest.fixture
def editor(db: Session) -> StaffUser:
    return staff_service.create_user(db=db, email="redaktor@mjolby.se", password="ett-langt-losenord",
                                     role="editor", now=NOW)


def with_answer(topic: service.TopicRecord, answer: str) -> dict:
    return {**topic.data, "answer": answer}


def test_import_inserts_every_topic_once(store: Session):
    topics = service.list_topics(store)
    assert len(topics) == len(rules.load(KNOWLEDGE).topics)
    bygglov = service.get_topic(store, "bygglov")
    assert bygglov.version == 1 and not bygglov.edited
    assert bygglov.owner.startswith("Samhällsbyggnadsförvaltningen")
    again = service.import_knowledge(store, KNOWLEDGE, now=NOW)
    assert (again.inserted, again.updated, again.kept) == (0, 0, 0)
    assert service.get_topic(store, "bygglov").version == 1


def test_the_live_catalogue_is_what_generate_writes(store: Session):
    generated = (REPO / "bot/actions/catalogue.json").read_text(encoding="utf-8")
    assert rules.catalogue_json(service.catalogue(store)) == generated


def test_a_topic_follows_its_file_until_edited_in_the_console(store: Session, editor: StaffUser,
                                                              tmp_path: Path):
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    for topic_id in ("bygglov", "bibliotek"):
        path = folder / f"{topic_id}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["answer"] = f"Ny text från filen om {topic_id}. Den är granskad."
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edited = service.get_topic(store, "bibliotek")
    service.save_topic(store, "bibliotek", with_answer(edited, "Redaktörens text. Den gäller."), 1, editor)

    result = service.import_knowledge(store, folder, now=NOW)

    assert (result.updated, result.kept) == (1, 1)
    assert service.get_topic(store, "bygglov").answer == "Ny text från filen om bygglov. Den är granskad."
    kept = service.get_topic(store, "bibliotek")
    assert kept.answer == "Redaktörens text. Den gäller." and kept.file_differs


def test_save_bumps_the_version_and_keeps_a_revision_and_audit_entry(store: Session, editor: StaffUser):
    topic = service.get_topic(store, "bygglov")
    saved = service.save_topic(store, "bygglov", with_answer(topic, "Sök bygglov i e-tjänsten. Det går fort."),
                               topic.version, editor, now=NOW)
    assert saved.version == 2 and saved.edited and saved.updated_by_email == "redaktor@mjolby.se"
    latest = service.revisions(store, "bygglov")[0]
    assert latest.action == "edit" and latest.by_email == "redaktor@mjolby.se"
    assert latest.before["answer"] == topic.answer
    assert latest.after["answer"] == "Sök bygglov i e-tjänsten. Det går fort."
    entry = store.scalars(select(AuditEntry).where(AuditEntry.action == "edit_topic")).one()
    assert "bygglov" in entry.detail and "answer" in entry.detail
    assert service.catalogue(store)["topics"]["bygglov"]["answer"] == "Sök bygglov i e-tjänsten. Det går fort."


def test_a_stale_save_is_a_conflict_and_changes_nothing(store: Session, editor: StaffUser):
    topic = service.get_topic(store, "bygglov")
    service.save_topic(store, "bygglov", with_answer(topic, "Första redaktören. Sparad först."), 1, editor)
    with pytest.raises(TopicConflict) as err:
        service.save_topic(store, "bygglov", with_answer(topic, "Andra redaktören. Sparad sent."), 1, editor)
    assert "Någon annan har sparat ämnet" in err.value.detail
    assert err.value.current.answer == "Första redaktören. Sparad först."
    assert service.get_topic(store, "bygglov").version == 2


def errors_of(exc: pytest.ExceptionInfo[TopicInvalid]) -> dict[str, str]:
    return {p.field: p.sv for p in exc.value.errors}


@pytest.mark.parametrize("url", ["http://www.mjolby.se/bygglov", "www.mjolby.se", "https://mjolby se/x"])
def test_a_link_that_is_not_https_is_refused_in_swedish(store: Session, editor: StaffUser, url: str):
    topic = service.get_topic(store, "bygglov")
    with pytest.raises(TopicInvalid) as err:
        service.save_topic(store, "bygglov", {**topic.data, "links": [{"title": "Bygglov", "url": url}]}, 1, editor)
    assert "måste börja med https://" in errors_of(err)["links"]
    assert service.get_topic(store, "bygglov").version == 1


def test_missing_fields_and_too_few_examples_are_named(store: Session, editor: StaffUser):
    topic = service.get_topic(store, "bygglov")
    data = {**topic.data, "owner": "", "examples": topic.examples[:5]}
    with pytest.raises(TopicInvalid) as err:
        service.save_topic(store, "bygglov", data, 1, editor)
    found = errors_of(err)
    assert found["owner"] == "Fyll i ansvarig."
    assert "Ämnet har 5 exempelfrågor. Det behövs minst 20" in found["examples"]


def test_an_example_of_another_topic_is_blocked_and_a_near_duplicate_warned(store: Session, editor: StaffUser):
    topic = service.get_topic(store, "bygglov")
    other = service.get_topic(store, "bibliotek").examples[0]
    with pytest.raises(TopicInvalid) as err:
        service.save_topic(store, "bygglov", {**topic.data, "examples": [*topic.examples, other]}, 1, editor)
    assert "finns redan under ämnet" in errors_of(err)["examples"]

    near = other.rstrip("?!. ") + " då?"
    checked = service.check_topic(store, "bygglov", {**topic.data, "examples": [*topic.examples, near]},
                                  previous_examples=topic.examples)
    assert not checked.errors
    assert any("liknar" in w.sv for w in checked.warnings)


def test_an_unknown_id_is_refused(store: Session):
    checked = service.check_topic(store, "finns_inte", {"id": "finns_inte", "title": "X"})
    assert {p.field for p in checked.errors} >= {"id"}


def test_create_and_retire_a_topic_and_its_id_is_never_reused(store: Session, editor: StaffUser):
    data = {"title": "Isbanan", "owner": "Kultur och fritid", "reviewed": "2026-11-24",
            "answer": "Isbanan har öppet alla dagar. Se tiderna på webben.",
            "links": [{"title": "Isbanan", "url": "https://www.mjolby.se/isbana"}],
            "examples": [f"när öppnar isbanan dag {i}" for i in range(20)],
            "sources": ["https://www.mjolby.se/isbana"], "confidence": "medium"}
    created = service.create_topic(store, "isbana", "answer", data, editor, now=NOW)
    assert created.version == 1 and created.data["confidence"] == "medium"
    assert service.catalogue(store)["topics"]["isbana"]["answer"].startswith("Isbanan har öppet")

    retired = service.retire_topic(store, "isbana", 1, editor, now=NOW)
    assert retired.retired
    entry = service.catalogue(store)["topics"]["isbana"]
    assert entry["retired"] is True and entry["answer"] is None
    for taken in ("isbana", "simhall"):  # retired here, or in knowledge/topics.yml
        with pytest.raises(TopicInvalid) as err:
            service.create_topic(store, taken, "answer", data, editor, now=NOW)
        assert "används redan" in errors_of(err)["id"]


def test_add_example_refuses_duplicates(store: Session, editor: StaffUser):
    topic = service.add_example(store, "bygglov", "  får jag bygga en  pool utan lov ", editor)
    assert topic.examples[-1] == "får jag bygga en pool utan lov" and topic.version == 2
    with pytest.raises(TopicInvalid) as err:
        service.add_example(store, "bygglov", "Får jag bygga en pool utan lov", editor)
    assert "finns redan under ämnet" in errors_of(err)["examples"]
    other = service.get_topic(store, "bibliotek").examples[0]
    with pytest.raises(TopicInvalid):
        service.add_example(store, "bygglov", other, editor)


def test_export_writes_a_folder_the_tools_accept(store: Session, editor: StaffUser, tmp_path: Path):
    topic = service.get_topic(store, "bygglov")
    service.save_topic(store, "bygglov", with_answer(topic, "Exporterat svar om bygglov. Det gäller nu."), 1, editor)
    data = {"title": "Isbanan", "owner": "Kultur och fritid", "reviewed": "2026-11-24",
            "answer": "Isbanan har öppet alla dagar. Se tiderna på webben.",
            "links": [{"title": "Isbanan", "url": "https://www.mjolby.se/isbana"}],
            "examples": [f"när öppnar isbanan dag {i}" for i in range(20)]}
    service.create_topic(store, "isbana", "answer", data, editor)
    target = tmp_path / "export"

    service.export_knowledge(store, target)

    assert (target / "bibliotek.yml").read_bytes() == (KNOWLEDGE / "bibliotek.yml").read_bytes()
    assert (target / "organisation.yml").read_bytes() == (KNOWLEDGE / "organisation.yml").read_bytes()
    k = rules.load(target)
    assert k.topics["bygglov"].answer == "Exporterat svar om bygglov. Det gäller nu."
    assert k.topics["isbana"].kind == "answer"
    out = tmp_path / "generated"
    assert generate.main(["--knowledge", str(target), "--out", str(out)]) == 0
    assert "faq_isbana" in (out / "bot/domain/generated.yml").read_text(encoding="utf-8")
    # Re-importing the exported folder marks the topics as caught up.
    service.import_knowledge(store, target)
    assert not service.get_topic(store, "bygglov").edited


def test_the_etag_changes_only_when_the_catalogue_does(store: Session, editor: StaffUser):
    first = service.catalogue_etag(store)
    assert service.catalogue_etag(store) == first
    topic = service.get_topic(store, "bygglov")
    service.save_topic(store, "bygglov", {**topic.data, "links": [
        {"title": "Ny länk", "url": "https://www.mjolby.se/ny"}]}, 1, editor)
    assert service.catalogue_etag(store) != first
    assert service.catalogue(store)["topics"]["bygglov"]["links"] == [
        {"title": "Ny länk", "url": "https://www.mjolby.se/ny"}]


def test_catalogue_is_json_serialisable(store: Session):
    json.dumps(service.catalogue(store))


def test_the_export_command_writes_a_valid_knowledge_folder(tmp_path: Path):
    """`make knowledge-export` (python -m mjolby.knowledge_store.cli) on a fresh database."""
    import os
    import subprocess

    env = {**os.environ, "DATA_DIR": str(tmp_path / "var"), "ENVIRONMENT": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    run = [sys.executable, "-m", "mjolby.knowledge_store.cli"]
    imported = subprocess.run([*run, "import"], cwd=REPO / "api", env=env, capture_output=True, text=True,
                              timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert "Inläst:" in imported.stdout
    exported = subprocess.run([*run, "export", "--to", str(tmp_path / "out")], cwd=REPO / "api", env=env,
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert rules.main(tmp_path / "out") == 0
    assert (tmp_path / "out/topics.yml").read_bytes() == (KNOWLEDGE / "topics.yml").read_bytes()


def test_import_on_start_tries_again_when_another_process_holds_the_database(db: Session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    real, calls = service.import_knowledge, []

    def busy_twice(session, folder, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(session, folder, **kwargs)

    monkeypatch.setattr(service, "import_knowledge", busy_twice)
    service.import_on_start(db, KNOWLEDGE)
    assert len(calls) == 3
    assert service.get_topic(db, "bygglov").version == 1
