"""Rasa's SQL tracker store, tuned for the embedded SQLite default.

On SQLAlchemy 1.4 (Rasa's pin) a file-based SQLite database gets a NullPool:
every tracker read and write opens a new connection and every commit waits
for two disk syncs, all on Rasa's single event loop. This store keeps a small
pool of connections and puts the database in WAL mode with
synchronous=NORMAL: a crash can lose the last commits but never corrupts the
file, and readers never wait for the writer. Other databases (PostgreSQL in
production) are used exactly as Rasa's own SQLTrackerStore uses them.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

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


class EmbeddedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with pooled, WAL-mode connections on SQLite."""

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
