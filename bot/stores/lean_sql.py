"""Rasa's SQL tracker store with less work per message, on SQLite and PostgreSQL.

The embedded default (SQLite, bot/endpoints.yml) and production (PostgreSQL,
bot/endpoints.production.yml) both use it; the table is Rasa's own `events`.

On SQLAlchemy 1.4 (Rasa's pin) a file-based SQLite database gets a NullPool:
every tracker read and write opens a new connection and every commit waits
for two disk syncs, all on Rasa's single event loop. This store keeps a small
pool of connections and puts the database in WAL mode with
synchronous=NORMAL: a crash can lose the last commits but never corrupts the
file, and readers never wait for the writer.

It also reads and writes the same `events` table with less work per message
(about a quarter of Rasa's CPU went to the store): the events of the latest
session are read as plain rows in one query, a save inserts only the new
events in one statement, and it knows how many events are stored from the
retrieve instead of counting them again (a conversation the retrieve found
empty has none; Rasa then creates its tracker). The lock store keeps one
message of a conversation at a time, so nothing else writes between a
retrieve and its save. Any other tracker is counted in the database, as Rasa
does.
"""
from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from typing import Any, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

# Set on trackers this store read or wrote: how many of their events are in the database.
STORED_EVENTS = "_mjolby_stored_events"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


class LeanSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with lean reads and writes (and pooled WAL-mode connections on SQLite)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            return
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=5,
            max_overflow=5,
            connect_args={"check_same_thread": False},
            **create_engine_kwargs(url),
        )
        sa.event.listen(self.engine, "connect", _set_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # Conversations the latest retrieve found without events, most recent last
    # (bounded: a retrieve that no save follows must not grow it for ever).
    _EMPTY_LIMIT = 10_000

    def _note_empty(self, sender_id: Text, empty: bool) -> None:
        found: "OrderedDict[Text, None]" = self.__dict__.setdefault("_found_empty", OrderedDict())
        found.pop(sender_id, None)
        if empty:
            found[sender_id] = None
            while len(found) > self._EMPTY_LIMIT:
                found.popitem(last=False)

    def _latest_session_data(self, session: Any, sender_id: Text) -> List[Text]:
        """The serialised events since the latest session start, oldest first (one query)."""
        events = self.SQLEvent.__table__
        starts = events.alias("session_starts")
        session_start = (
            sa.select(sa.func.max(starts.c.timestamp))
            .where(starts.c.sender_id == sender_id, starts.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        query = (
            sa.select(events.c.data)
            .where(events.c.sender_id == sender_id,
                   sa.or_(session_start.is_(None), events.c.timestamp >= session_start))
            .order_by(events.c.id)
        )
        return [row[0] for row in session.execute(query)]

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            events = [json.loads(data) for data in self._latest_session_data(session, sender_id)]
        self._note_empty(sender_id, not events)
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the events the database does not have yet, in one statement."""
        await self.stream_events(tracker)
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None and tracker.sender_id in self.__dict__.get("_found_empty", {}):
            stored = 0
        self._note_empty(tracker.sender_id, False)
        with self.session_scope() as session:
            if stored is None:
                stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            rows = []
            for event in itertools.islice(tracker.events, stored, None):
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))
