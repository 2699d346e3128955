"""The local tracker store: conversations survive a restart, and SQLite runs in WAL mode."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.embedded_sqlite import EmbeddedSQLTrackerStore

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
    store = EmbeddedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(store.save(conversation("conv-1")))
    store.engine.dispose()

    reopened = EmbeddedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
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
    store = EmbeddedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
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

    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "rasa_tracker.db"))
    endpoints = Path(__file__).resolve().parents[2] / "bot" / "endpoints.yml"
    config = read_endpoint_config(str(endpoints), "tracker_store")
    store = TrackerStore.create(config, domain=DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, EmbeddedSQLTrackerStore)
    assert isinstance(inner, SQLTrackerStore)
