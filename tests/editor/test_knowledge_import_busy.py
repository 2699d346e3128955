"""The knowledge import at API start while another process keeps writing.

On SQLite a transaction that reads and then writes fails at once ("database is
locked") when another connection wrote in between; citizens' conversations and
the training worker write all the time. The import takes the write lock as it
begins, so it waits for the other writer instead of failing. A fresh database of
each backend (SQLite and PostgreSQL), with real commits.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api_support import fresh_database
from mjolby.db import create_db_engine, utcnow
from mjolby.knowledge_store import rules, service
from mjolby.knowledge_store.models import KnowledgeTopic
from mjolby.migrate import upgrade_head
from mjolby.staff.models import AuditEntry

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture
def busy_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(backend, tmp_path) as url:
        upgrade_head(url)
        engine = create_db_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def test_the_import_succeeds_while_another_process_keeps_writing(busy_engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch):
    stop = threading.Event()
    errors: list[Exception] = []
    written = 0

    def other_writer() -> None:  # like conversations being saved, every few milliseconds
        nonlocal written
        while not stop.is_set():
            try:
                with Session(busy_engine) as other:
                    other.add(AuditEntry(staff_id=None, staff_email="other@mjolby.se", action="noise",
                                         created_at=utcnow()))
                    other.commit()
                    written += 1
            except Exception as exc:  # noqa: BLE001 - the writer must not fail either
                errors.append(exc)
            time.sleep(0.005)

    read_files = service._files

    def slow_read(db: Session) -> dict[str, str]:  # others write between the import's reads and writes
        found = read_files(db)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(service, "_files", slow_read)
    writer = threading.Thread(target=other_writer, daemon=True)
    writer.start()
    try:
        time.sleep(0.05)
        with Session(busy_engine, expire_on_commit=False) as db:
            service.import_on_start(db, KNOWLEDGE, attempts=2)
    finally:
        stop.set()
        writer.join(timeout=30)

    expected = rules.load(KNOWLEDGE)
    with Session(busy_engine) as db:
        imported = db.scalar(select(func.count()).select_from(KnowledgeTopic))
    assert imported == len(expected.topics) + len(expected.retired) > 0
    assert written > 10 and errors == []
