"""Rasa's SQL tracker store, as far as retention needs it.

Rasa (bot/) keeps every event of every conversation in the table `events` of
its tracker store: user messages, bot replies and slots, including the name
and phone number a citizen types into the contact form. Its `sender_id` is the
API's conversation id and `timestamp` is a float in unix seconds. Rasa owns
the table and creates it when it first starts; this module only declares the
columns the purge needs and never imports Rasa.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import json

from sqlalchemy import Engine, Float, Integer, String, Text, delete, func, inspect, make_url, select
from sqlalchemy.sql import column, table

from mjolby.db import create_db_engine

EVENTS_TABLE = "events"
EVENTS = table(
    EVENTS_TABLE,
    column("id", Integer),
    column("sender_id", String),
    column("type_name", String),
    column("timestamp", Float),
    column("data", Text),
)
# Slots that hold what a citizen typed into the contact form (bot/domain/handover.yml).
PERSONAL_SLOTS = frozenset({"contact_name", "contact_detail"})


class TrackerStore:
    """The `events` table of Rasa's SQL tracker store at `url`."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self._engine = engine
        self._owns_engine = engine is None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_db_engine(self.url)
        return self._engine

    def has_events(self) -> bool:
        """Whether the table exists: not before Rasa's first start.

        A SQLite file that does not exist yet is not created by asking.
        """
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
            if not in_memory and not Path(database).is_file():
                return False
        with self.engine.connect() as connection:
            return inspect(connection).has_table(EVENTS_TABLE)

    def count_events(self, sender_ids: Sequence[str]) -> int:
        if not sender_ids:
            return 0
        with self.engine.connect() as connection:
            return connection.scalar(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id.in_(sender_ids))
            ) or 0

    def delete_events(self, sender_ids: Sequence[str]) -> int:
        """Delete every event of these conversations. Commits."""
        if not sender_ids:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(sender_ids)))
        return result.rowcount or 0

    def delete_stale_events(self, sender_ids: Sequence[str], cutoff: float) -> int:
        """Delete the events of these conversations unless one is at or after `cutoff`. Commits.

        The check is repeated in the statement, so a conversation that became
        active again since it was listed is kept.
        """
        if not sender_ids:
            return 0
        recent = select(EVENTS.c.sender_id).where(EVENTS.c.timestamp >= cutoff,
                                                  EVENTS.c.sender_id.is_not(None))
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(EVENTS).where(EVENTS.c.sender_id.in_(sender_ids),
                                     EVENTS.c.sender_id.not_in(recent))
            )
        return result.rowcount or 0

    def stale_senders(self, cutoff: float, *, batch_size: int) -> Iterator[list[str]]:
        """Conversations whose latest event is before `cutoff`, in batches by id.

        A conversation without any timestamp counts as stale.
        """
        latest = func.coalesce(func.max(EVENTS.c.timestamp), 0.0)
        after: str | None = None
        while True:
            query = (select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
                     .having(latest < cutoff).order_by(EVENTS.c.sender_id).limit(batch_size))
            if after is not None:
                query = query.where(EVENTS.c.sender_id > after)
            with self.engine.connect() as connection:
                batch = list(connection.scalars(query))
            if not batch:
                return
            yield batch
            after = batch[-1]

    def delete_personal_slots(self, cutoff: float, *, dry_run: bool = False,
                              batch_size: int = 500) -> int:
        """Delete (dry run: count) the contact form's slot events from before `cutoff`. Commits.

        Conversations whose events are kept as a whole (still active) keep no
        name or phone number from before the period: the contact request
        those went into is gone by then too. Setting a slot back to empty
        carries nothing and stays.
        """
        found = 0
        after = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(EVENTS.c.id, EVENTS.c.data)
                    .where(EVENTS.c.type_name == "slot", EVENTS.c.timestamp < cutoff, EVENTS.c.id > after)
                    .order_by(EVENTS.c.id).limit(batch_size)
                ).all()
            if not rows:
                return found
            after = rows[-1].id
            personal = [row.id for row in rows if _is_personal_slot(row.data)]
            found += len(personal)
            if personal and not dry_run:
                with self.engine.begin() as connection:
                    connection.execute(delete(EVENTS).where(EVENTS.c.id.in_(personal)))

    def dispose(self) -> None:
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = None


def chunks(values: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_personal_slot(data: str | None) -> bool:
    try:
        event = json.loads(data or "")
    except ValueError:
        return False
    return (isinstance(event, dict) and event.get("name") in PERSONAL_SLOTS
            and event.get("value") not in (None, ""))
