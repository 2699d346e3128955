"""The tracker store: conversations survive a restart, SQLite runs in WAL mode, and only the
latest session is read and nothing written twice, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.lean_sql import LeanSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  last_topic:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
"""
)


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(UserUttered("hur söker jag bygglov", intent={"name": "faq", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_answer_faq"))
    tracker.update(SlotSet("last_topic", "bygglov"))
    return tracker


def test_conversation_is_kept_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "rasa_tracker.db"
    store = LeanSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(store.save(conversation("conv-1")))
    store.engine.dispose()

    reopened = LeanSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    tracker = asyncio.run(reopened.retrieve("conv-1"))
    assert tracker is not None
    assert tracker.get_slot("last_topic") == "bygglov"
    assert tracker.latest_message.text == "hur söker jag bygglov"
    # Saving again appends only what is new.
    tracker.update(UserUttered("tack", intent={"name": "goodbye_thanks", "confidence": 0.9}))
    asyncio.run(reopened.save(tracker))
    with sqlite3.connect(db) as connection:
        types = [row[0] for row in connection.execute(
            "SELECT type_name FROM events WHERE sender_id = 'conv-1' ORDER BY id")]
    assert types == ["user", "action", "slot", "user"]


def test_sqlite_runs_in_wal_mode_with_pooled_connections(tmp_path: Path) -> None:
    store = LeanSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    assert isinstance(store.engine.pool, sa.pool.QueuePool)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # synchronous=NORMAL is 1: commits no longer wait for the disk twice.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_rasa_finds_the_store_named_in_endpoints(tmp_path: Path, monkeypatch) -> None:
    # A wrong module path would make Rasa fall back to memory and forget every
    # conversation on restart; load it the way `rasa run` does.
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    import re

    endpoints = Path(__file__).resolve().parents[2] / "bot" / "endpoints.yml"
    # Every variable the file names must be set for Rasa to read it.
    for name in set(re.findall(r"\$\{(\w+)\}", endpoints.read_text())):
        monkeypatch.setenv(name, "http://127.0.0.1:1")
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "rasa_tracker.db"))
    config = read_endpoint_config(str(endpoints), "tracker_store")
    store = TrackerStore.create(config, domain=DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, LeanSQLTrackerStore)
    assert isinstance(inner, SQLTrackerStore)


PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "mjolby_tracker_store_test"


def _store(kind: str, tmp_path: Path) -> LeanSQLTrackerStore:
    if kind == "sqlite":
        return LeanSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa_tracker.db"))
    # A database of its own: Rasa's `events` table must not meet other tests' tables.
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": PG_DATABASE}).first():
            connection.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return LeanSQLTrackerStore(domain=DOMAIN, dialect="postgresql", host="127.0.0.1", port=5432,
                               db=PG_DATABASE, username="postgres")


def _stored_types(store: LeanSQLTrackerStore, sender: str) -> list:
    with store.engine.connect() as connection:
        return [row[0] for row in connection.execute(
            sa.text("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_only_the_latest_session_is_read_and_nothing_is_written_twice(kind: str, tmp_path: Path) -> None:
    from rasa.shared.core.events import SessionStarted

    store = _store(kind, tmp_path)
    sender = f"conv-{uuid.uuid4().hex}"
    assert asyncio.run(store.retrieve(sender)) is None
    tracker = conversation(sender)
    asyncio.run(store.save(tracker))
    # A new session in the same tracker object, saved again: only the new events are added.
    tracker.update(SessionStarted())
    tracker.update(UserUttered("hej igen", intent={"name": "greet", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))

    latest = asyncio.run(store.retrieve(sender))
    assert [e.type_name for e in latest.events] == ["session_started", "user"]
    assert latest.latest_message.text == "hej igen"
    full = asyncio.run(store.retrieve_full_tracker(sender))
    assert len(full.events) == 5

    # A tracker this store never saw (e.g. rebuilt elsewhere) is counted in the database.
    stranger = DialogueStateTracker.from_dict(sender, [e.as_dict() for e in latest.events], DOMAIN.slots)
    stranger.update(UserUttered("tack", intent={"name": "goodbye_thanks", "confidence": 0.9}))
    asyncio.run(store.save(stranger))
    assert _stored_types(store, sender) == ["user", "action", "slot", "session_started", "user", "user"]
    store.engine.dispose()
